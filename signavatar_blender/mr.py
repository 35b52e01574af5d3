"""Access to ``model_runtime`` from the add-on, wherever the add-on runs.

Inside the installed extension ``model_runtime`` is a sibling subpackage
(``bl_ext.<repo>.signavatar.model_runtime``); in a source checkout run as
``python -m signavatar_blender`` it is the top-level package. Importing through
:func:`runtime` keeps both working and keeps heavy modules out of add-on start-up:
nothing is imported until an operator asks for it.
"""

from __future__ import annotations

import importlib

_PARENT = __package__.rpartition(".")[0]  # the extension package, or "" in a checkout
BASE = f"{_PARENT}.model_runtime" if _PARENT else "model_runtime"


def runtime(submodule: str = ""):
    """``model_runtime`` or one of its submodules, e.g. ``runtime("skeleton")``."""
    return importlib.import_module(f"{BASE}.{submodule}" if submodule else BASE)


def error() -> type:
    """The project's one exception type, ``SignAvatarError``."""
    return runtime("errors").SignAvatarError
