"""Tool modules, one per toolset. Importing a module registers its tools in ``registry.TOOLS``."""
