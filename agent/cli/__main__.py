"""`python -m agent.cli` runs the `skillgrove` command line."""

import sys

from agent.cli import main

sys.exit(main())
