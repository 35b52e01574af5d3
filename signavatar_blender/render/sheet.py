"""Contact sheets: which frames to show and how to lay them out (numpy only).

Images are (H, W, C) float arrays in 0-1 with row 0 at the **top** (reading order);
Blender's pixel buffers start at the bottom row, so the bpy adapter flips them.
"""

from __future__ import annotations

import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np


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
    """Write an (H, W, 3|4) 0-1 float image as an 8-bit RGB PNG (stdlib zlib, "Sub" row filter, level 9).

    Written to a temporary file and renamed into place, so a reader never sees half a file.
    """
    path = Path(path)
    rgb = np.clip(np.round(np.asarray(image)[..., :3] * 255), 0, 255).astype(np.uint8)
    h, w = rgb.shape[:2]
    flat = rgb.reshape(h, w * 3).astype(np.int16)
    sub = flat.copy()
    sub[:, 3:] -= flat[:, :-3]  # each byte minus the byte of the pixel to its left
    rows = np.concatenate([np.ones((h, 1), np.int16), sub % 256], axis=1).astype(np.uint8)  # filter type 1

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9)) + chunk(b"IEND", b""))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(png)
    os.replace(tmp, path)
    return path
