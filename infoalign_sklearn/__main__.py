"""``python -m infoalign_sklearn``: the ``infoalign`` command."""

import sys

from .cli import main

sys.exit(main())
