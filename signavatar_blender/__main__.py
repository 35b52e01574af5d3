"""``python -m signavatar_blender COMMAND ...`` on the bpy module (same code as ``blender --command signavatar``)."""

import sys

from .render.cli import main

sys.exit(main())
