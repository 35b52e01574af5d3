"""The bridge to ``model_runtime``: the one way the add-on reaches the pure layer, wherever it runs.

Inside the installed extension ``model_runtime`` is a sibling subpackage
(``bl_ext.<repo>.signavatar.model_runtime``); in a source checkout run as
``python -m signavatar_blender`` it is the top-level package. Importing through
:func:`runtime` keeps both working and keeps heavy modules out of add-on start-up:
nothing is imported until an operator asks for it.
"""

from __future__ import annotations

import importlib
from pathlib import Path

# __package__ is ``<extension>.signavatar_blender.runtime_bridge``, or ``signavatar_blender.runtime_bridge``
EXTENSION_PACKAGE = __package__.rsplit(".", 2)[0] if __package__.count(".") >= 2 else ""  # "" in a checkout
EXTENSION_ROOT = Path(__file__).resolve().parents[2]  # the extension's folder (the repository in a checkout)
BASE = f"{EXTENSION_PACKAGE}.model_runtime" if EXTENSION_PACKAGE else "model_runtime"


def runtime(submodule: str = ""):
    """``model_runtime`` or one of its submodules, e.g. ``runtime("skeleton")``."""
    return importlib.import_module(f"{BASE}.{submodule}" if submodule else BASE)


def error() -> type:
    """The project's one exception type, ``SignAvatarError``."""
    return runtime("errors").SignAvatarError


def atomic():
    """``model_runtime.atomic``, the one home of atomic writes (``write_text``, ``write_json``, ``write_csv``,
    ``write_npz``, ``write_with``, ``atomic_path``, ``atomic_dir``, ``move_into_place``).

    It needs only the standard library and numpy, so the numpy-only modules of every room write through it
    too. A write that fails raises ``SignAvatarError`` naming the file.
    """
    return runtime("atomic")
