"""`python -m agent.cli` runs the `skillgrove` command line."""

import sys

from . import main

sys.exit(main())
