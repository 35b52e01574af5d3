"""Which files the add-on reads: one list of image suffixes, the video suffixes of ``model_runtime``.

Image suffixes are those :mod:`model_runtime.imageio` decodes (``FORMATS``); the video list
is ``model_runtime.landmarks.video.VIDEO_EXTENSIONS`` itself (a numpy-only module), so the
file browser, drag and drop and the loader agree. A ``.gif`` is both: dropped on the
viewport, Blender asks which of the two to run.
"""

from __future__ import annotations

from . import runtime

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")


def video_extensions() -> tuple[str, ...]:
    """The suffixes ``model_runtime``'s video loader accepts."""
    return tuple(runtime("landmarks.video").VIDEO_EXTENSIONS)
