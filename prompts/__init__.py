"""The shipped prompt templates, installed as the package ``st_mcp.prompt_files`` (see pyproject.toml).

Only the ``*.md`` files matter; this file exists so editable installs map the folder too.
"""
