"""``python -m model_runtime``: the command-line face of the runtime (see ``cli.py``)."""

import sys

from .cli import main

sys.exit(main())
