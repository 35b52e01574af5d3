"""Camera framing of the signing space (numpy only, tested without Blender).

Blender world frame: Z-up, the avatar faces -Y, its left hand on +X. The camera stands in
front of the avatar on the -Y side and looks along +Y (rotation ``(pi/2, 0, 0)``), so the
avatar's left hand appears on the image's right, as when facing a signer. The lens has a
horizontal sensor fit (``sensor_fit = 'HORIZONTAL'``), so the horizontal field of view is
``2 atan(sensor / 2 / lens)`` and the vertical one follows from the image aspect.

The framing is the smallest distance at which every given point projects inside the
image with ``margin`` (a fraction of the image size) to spare on each side: the rest
upper body from the waist to the top of the head, plus every hand point of every frame of
the clip, so a dictionary keeps one framing except where a sign reaches out of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LOOK_ALONG_Y = (math.pi / 2, 0.0, 0.0)  # camera rotation (XYZ Euler): its -Z view axis along world +Y


@dataclass(frozen=True)
class Framing:
    """A front camera: ``location`` (world, metres), ``rotation_euler``, lens and sensor in mm."""

    location: tuple[float, float, float]
    rotation_euler: tuple[float, float, float]
    lens_mm: float
    sensor_mm: float
    clip_start: float
    clip_end: float


def half_tangents(aspect: float, lens_mm: float, sensor_mm: float) -> tuple[float, float]:
    """tan of half the horizontal and vertical fields of view for a horizontal sensor fit."""
    tx = sensor_mm / 2 / lens_mm
    return tx, tx / aspect


def project(points: np.ndarray, location, aspect: float, lens_mm: float, sensor_mm: float) -> np.ndarray:
    """(N, 3) world points -> (N, 3) ``(u, v, depth)``: u, v in [0, 1] inside the image (v up)."""
    tx, tz = half_tangents(aspect, lens_mm, sensor_mm)
    d = np.asarray(points, float) - np.asarray(location, float)
    depth = d[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = 0.5 + d[:, 0] / depth / (2 * tx)
        v = 0.5 + d[:, 2] / depth / (2 * tz)
    return np.stack([u, v, depth], axis=1)


def fit_front_camera(points: np.ndarray, aspect: float, lens_mm: float = 50.0, sensor_mm: float = 36.0,
                     margin: float = 0.05) -> Framing:
    """The nearest front camera (looking along +Y) that shows all ``points`` (N, 3) with ``margin``.

    The image centre is moved to the middle of the points' projected extent (three
    refinements), then the camera backs off until the widest point fits.
    """
    pts = np.asarray(points, float).reshape(-1, 3)
    if len(pts) == 0 or not np.isfinite(pts).all():
        raise ValueError("framing needs finite points")
    if not (0 <= margin < 0.5):
        raise ValueError(f"margin must be in [0, 0.5), got {margin}")
    tx, tz = half_tangents(aspect, lens_mm, sensor_mm)
    tx, tz = tx * (1 - 2 * margin), tz * (1 - 2 * margin)
    cx = 0.5 * (pts[:, 0].min() + pts[:, 0].max())
    cz = 0.5 * (pts[:, 2].min() + pts[:, 2].max())
    for _ in range(4):
        # distance so that every point fits: y_cam <= y - |x - cx| / tx and <= y - |z - cz| / tz
        y_cam = float(np.min(pts[:, 1] - np.maximum(np.abs(pts[:, 0] - cx) / tx, np.abs(pts[:, 2] - cz) / tz)))
        depth = pts[:, 1] - y_cam
        sx = (pts[:, 0] - cx) / depth  # projected offsets (tangent units)
        sz = (pts[:, 2] - cz) / depth
        # recentre on the projected extent; the shift is applied at the points' typical depth
        mid_depth = float(np.median(depth))
        cx += 0.5 * (sx.min() + sx.max()) * mid_depth
        cz += 0.5 * (sz.min() + sz.max()) * mid_depth
    y_cam = float(np.min(pts[:, 1] - np.maximum(np.abs(pts[:, 0] - cx) / tx, np.abs(pts[:, 2] - cz) / tz)))
    far = float(np.max(pts[:, 1]) - y_cam)
    return Framing(location=(float(cx), y_cam, float(cz)), rotation_euler=LOOK_ALONG_Y, lens_mm=lens_mm,
                   sensor_mm=sensor_mm, clip_start=0.05, clip_end=max(10.0, 4 * far))


def widen(points: np.ndarray, radius: float) -> np.ndarray:
    """Each point plus its 6 axis neighbours at ``radius``: keeps a surface around joints in frame."""
    pts = np.asarray(points, float).reshape(-1, 3)
    offsets = np.concatenate([np.zeros((1, 3)), np.eye(3) * radius, -np.eye(3) * radius])
    return (pts[:, None, :] + offsets[None]).reshape(-1, 3)
