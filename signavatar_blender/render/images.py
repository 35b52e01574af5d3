"""Reading a rendered PNG through Blender's image API as a numpy array.

The array is (H, W, 4) float32 RGBA in 0-1, row 0 at the top; byte PNGs keep their stored
(sRGB) values. Writing is :func:`.sheet.write_png` (Pillow).
"""

from __future__ import annotations

import bpy
import numpy as np


def load_png(path) -> np.ndarray:
    img = bpy.data.images.load(str(path), check_existing=False)
    try:
        w, h = img.size
        px = np.empty(w * h * 4, dtype=np.float32)
        img.pixels.foreach_get(px)
    finally:
        bpy.data.images.remove(img)
    return px.reshape(h, w, 4)[::-1].copy()
