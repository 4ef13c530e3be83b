"""`python -m polls.cli`: the `polls` command."""

import sys

from polls.cli import main

sys.exit(main())
