import sys

from st_mcp.cli import main

sys.exit(main())
