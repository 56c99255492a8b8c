"""Entry point of `python -m handoff`."""

import sys

from handoff.cli import main

sys.exit(main())
