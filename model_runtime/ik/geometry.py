"""Small batched rotation helpers in numpy (matrices act on column vectors).

Conversions between axis-angle, matrices and quaternions are :mod:`model_runtime.rotations`'s
(numpy in, numpy out); this module adds the geometric constructions the IK needs.
"""

from __future__ import annotations

import numpy as np

from .. import rotations as rot


def unit(v: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), eps)


def min_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3) unit a, b -> (..., 3, 3) the smallest rotation taking a to b (a swing about a x b).

    Antiparallel inputs rotate by pi about an axis perpendicular to a.
    """
    a, b = np.broadcast_arrays(unit(a), unit(b))
    v = np.cross(a, b)
    c = np.sum(a * b, axis=-1)
    s = np.linalg.norm(v, axis=-1)
    K = skew(v)
    denom = np.where(1.0 + c > 1e-9, 1.0 + c, 1.0)
    R = np.eye(3) + K + (K @ K) / denom[..., None, None]
    anti = 1.0 + c <= 1e-9
    if np.any(anti):
        perp = np.cross(a[anti], np.array([1.0, 0.0, 0.0]))
        bad = np.linalg.norm(perp, axis=-1) < 1e-6
        perp[bad] = np.cross(a[anti][bad], np.array([0.0, 1.0, 0.0]))
        perp = unit(perp)
        R[anti] = 2.0 * perp[..., :, None] * perp[..., None, :] - np.eye(3)
    del s
    return R


def skew(v: np.ndarray) -> np.ndarray:
    o = np.zeros(v.shape[:-1])
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([np.stack([o, -z, y], -1), np.stack([z, o, -x], -1), np.stack([-y, x, o], -1)], -2)


def kabsch(src: np.ndarray, dst: np.ndarray, w: np.ndarray | None = None, center: bool = True) -> np.ndarray:
    """(..., N, 3) point sets -> (..., 3, 3) rotation R minimising sum w |R src - dst|^2.

    Points with NaN or zero weight are ignored; with fewer than two usable points the
    identity is returned.
    """
    ok = np.isfinite(src).all(-1) & np.isfinite(dst).all(-1)
    w = np.ones(src.shape[:-1]) if w is None else np.broadcast_to(w, src.shape[:-1]).astype(np.float64)
    w = np.where(ok, w, 0.0)
    src = np.where(ok[..., None], src, 0.0)
    dst = np.where(ok[..., None], dst, 0.0)
    if center:
        ws = np.maximum(w.sum(-1, keepdims=True), 1e-12)
        src = src - (w[..., None] * src).sum(-2, keepdims=True) / ws[..., None]
        dst = dst - (w[..., None] * dst).sum(-2, keepdims=True) / ws[..., None]
    H = np.einsum("...n,...ni,...nj->...ij", w, src, dst)
    U, _, Vt = np.linalg.svd(H)
    d = np.sign(np.linalg.det(np.swapaxes(Vt, -1, -2) @ np.swapaxes(U, -1, -2)))
    D = np.zeros(H.shape)
    D[..., 0, 0] = 1.0
    D[..., 1, 1] = 1.0
    D[..., 2, 2] = np.where(d == 0, 1.0, d)
    R = np.swapaxes(Vt, -1, -2) @ D @ np.swapaxes(U, -1, -2)
    few = (w > 0).sum(-1) < 2
    if np.any(few):
        R[few] = np.eye(3)
    return R


def frame_from(x_axis: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation whose columns are x, y, z with x given, y = up made perpendicular."""
    x = unit(x_axis)
    z = unit(np.cross(x, up))
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=-1)


def fractional(R: np.ndarray, frac: float) -> np.ndarray:
    """R ** frac (same axis, angle x frac)."""
    return rot.axis_angle_to_matrix(rot.matrix_to_axis_angle(np.asarray(R)) * frac)


def axis_angle_matrix(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotation by ``angle`` (...,) about unit ``axis`` (..., 3) or (3,)."""
    angle = np.asarray(angle, dtype=np.float64)
    rv = np.broadcast_to(axis, angle.shape + (3,)) * angle[..., None]
    return rot.axis_angle_to_matrix(rv)


def fill_angles_over_time(angle: np.ndarray, reliable: np.ndarray, default: np.ndarray) -> np.ndarray:
    """Replace unreliable angles by interpolation (on the unwrapped circle) between reliable frames;
    ``default`` where no frame is reliable."""
    T = len(angle)
    if not reliable.any():
        return default.copy()
    idx = np.arange(T)
    good = np.unwrap(angle[reliable])
    out = np.interp(idx, idx[reliable], good)
    return (out + np.pi) % (2 * np.pi) - np.pi
