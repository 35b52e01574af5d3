"""SignAvatar model runtime: skeleton, rotations, motion format, data, model, evaluation.

Pure torch/numpy; never imports bpy. Importing this package is cheap: heavy modules
(torch, open_clip, mediapipe) load only when a submodule that needs them is imported.
Works as a top-level package (``python -m model_runtime``) and as a subpackage of the
installed Blender extension, so every internal import is relative.
"""

from .errors import SignAvatarError

__version__ = "0.1.0"
__all__ = ["SignAvatarError", "__version__"]
