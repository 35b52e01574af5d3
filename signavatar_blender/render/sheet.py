"""Contact sheets: which frames to show, how to lay them out and the PNG they make (numpy and Pillow).

Images are (H, W, C) float arrays in 0-1 with row 0 at the **top** (reading order);
Blender's pixel buffers start at the bottom row, so the bpy adapter flips them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..runtime_bridge import atomic


def sheet_frames(first: int, last: int, count: int) -> list[int]:
    """``count`` frames spread evenly over ``[first, last]`` including both ends (fewer if the clip is short)."""
    n = last - first + 1
    if n <= count:
        return list(range(first, last + 1))
    return sorted({int(round(first + k * (n - 1) / (count - 1))) for k in range(count)}) if count > 1 else [first]


def word_at(spans, frame: int) -> str:
    """The word of ``spans`` (``(word, first, last)``) showing at ``frame``, else the nearest one ('' if none)."""
    best, gap = "", None
    for word, first, last in spans:
        d = 0 if first <= frame <= last else min(abs(frame - first), abs(frame - last))
        if gap is None or d < gap:
            best, gap = word, d
    return best


def grid_shape(count: int, per_row: int = 6) -> tuple[int, int]:
    """(rows, columns): as few rows of at most ``per_row`` cells as hold ``count``, filled evenly."""
    rows = max(1, math.ceil(count / per_row))
    return rows, math.ceil(count / rows)


def compose(images: list[np.ndarray], columns: int, gap: int, background) -> np.ndarray:
    """Tile equally sized images left to right, top to bottom, ``gap`` pixels apart."""
    if not images:
        raise ValueError("a contact sheet needs at least one image")
    h, w, c = images[0].shape
    if any(im.shape != (h, w, c) for im in images):
        raise ValueError("contact sheet images must all have the same size")
    rows = math.ceil(len(images) / columns)
    out = np.empty((rows * h + (rows + 1) * gap, columns * w + (columns + 1) * gap, c), dtype=np.float32)
    out[...] = np.asarray(list(background) + [1.0] * (c - len(background)), dtype=np.float32)[:c]
    for k, im in enumerate(images):
        r, q = divmod(k, columns)
        y, x = gap + r * (h + gap), gap + q * (w + gap)
        out[y:y + h, x:x + w] = im
    return out


def write_png(path, image: np.ndarray) -> Path:
    """Write an (H, W, 3|4) 0-1 float image as an 8-bit RGB PNG, atomically.

    Pillow writes it: it is in the runtime set ``install_deps.py --target`` puts beside Blender's Python,
    the same set the renderer already needs (the motion and the framing go through torch).
    """
    from PIL import Image

    rgb = np.clip(np.round(np.asarray(image)[..., :3] * 255), 0, 255).astype(np.uint8)
    picture = Image.fromarray(np.ascontiguousarray(rgb))
    return atomic().write_with(Path(path), lambda tmp: picture.save(tmp, format="PNG"))
