"""`python -m mir_cli`: the `mir` command."""

import sys

from mir_cli import main

sys.exit(main())
