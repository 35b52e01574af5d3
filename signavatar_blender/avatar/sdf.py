"""Signed distance fields for the built-in avatar's body (numpy only).

A shape is a tree: :class:`Prim` leaves (round cone, ellipsoid, rounded box), each tagged
with a ``label`` (an index the caller maps to a bone and a material), joined by
:class:`Union` nodes that blend their children with a polynomial smooth minimum of
radius ``k`` (``k = 0`` is a hard union, used e.g. between fingers so they never web).
Negative = inside. :func:`evaluate` returns the distance and, per point, the label of the
leaf nearest to the surface there ("ownership"), which drives skin weights and materials.

Each leaf is evaluated only inside its bounding box grown by ``margin``; outside it
counts as infinitely far. That is exact wherever the distance matters (near the surface
and inside) as long as ``margin`` covers the largest blend radius, and it keeps a whole
body affordable in numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Prim:
    kind: str  # "cone", "ellipsoid" or "box"
    label: int
    a: np.ndarray = field(default_factory=lambda: np.zeros(3))  # cone start / centre
    b: np.ndarray = field(default_factory=lambda: np.zeros(3))  # cone end
    ra: float = 0.0  # cone radius at a / box rounding
    rb: float = 0.0  # cone radius at b
    radii: np.ndarray = field(default_factory=lambda: np.ones(3))  # ellipsoid radii / box half sizes
    rot: np.ndarray = field(default_factory=lambda: np.eye(3))  # columns = local axes in world

    @cached_property
    def box(self) -> tuple[np.ndarray, np.ndarray]:
        return self.bounds()

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "cone":
            r = max(self.ra, self.rb)
            return np.minimum(self.a, self.b) - r, np.maximum(self.a, self.b) + r
        ext = np.abs(self.rot) @ (np.asarray(self.radii) + (self.ra if self.kind == "box" else 0.0))
        return self.a - ext, self.a + ext


@dataclass(frozen=True)
class Union:
    children: tuple
    k: float = 0.0

    @cached_property
    def box(self) -> tuple[np.ndarray, np.ndarray]:
        return bounds(self)


def cone(label, a, b, ra, rb=None) -> Prim:
    """Round cone (capsule with radius ``ra`` at ``a`` and ``rb`` at ``b``)."""
    return Prim("cone", label, a=np.asarray(a, float), b=np.asarray(b, float), ra=float(ra),
                rb=float(ra if rb is None else rb))


def ellipsoid(label, centre, radii, rot=None) -> Prim:
    return Prim("ellipsoid", label, a=np.asarray(centre, float), radii=np.asarray(radii, float),
                rot=np.eye(3) if rot is None else np.asarray(rot, float))


def box(label, centre, half_sizes, rounding, rot=None) -> Prim:
    """Box with half sizes ``half_sizes`` (before rounding) and edges rounded by ``rounding``."""
    return Prim("box", label, a=np.asarray(centre, float), radii=np.asarray(half_sizes, float),
                ra=float(rounding), rot=np.eye(3) if rot is None else np.asarray(rot, float))


def frame(x_axis, y_hint) -> np.ndarray:
    """Rotation whose columns are ``x_axis`` and the part of ``y_hint`` orthogonal to it (and x × y)."""
    x = np.asarray(x_axis, float)
    x = x / np.linalg.norm(x)
    y = np.asarray(y_hint, float) - np.dot(y_hint, x) * x
    y /= np.linalg.norm(y)
    return np.stack([x, y, np.cross(x, y)], axis=1)


def _round_cone(p, a, b, r1, r2):
    ba = b - a
    l2 = float(ba @ ba)
    rr = r1 - r2
    a2 = l2 - rr * rr
    pa = p - a
    y = pa @ ba
    z = y - l2
    x2 = np.sum((pa * l2 - y[:, None] * ba) ** 2, axis=1)
    y2 = y * y * l2
    z2 = z * z * l2
    k = np.sign(rr) * rr * rr * x2
    d_side = (np.sqrt(np.maximum(x2 * a2 / l2, 0.0)) + y * rr) / l2 - r1
    d_b = np.sqrt(x2 + z2) / l2 - r2
    d_a = np.sqrt(x2 + y2) / l2 - r1
    return np.where(np.sign(z) * a2 * z2 > k, d_b, np.where(np.sign(y) * a2 * y2 < k, d_a, d_side))


def _ellipsoid(p, c, radii, rot):
    q = (p - c) @ rot
    k0 = np.linalg.norm(q / radii, axis=1)
    k1 = np.linalg.norm(q / (radii * radii), axis=1)
    return k0 * (k0 - 1.0) / np.maximum(k1, 1e-12)


def _box(p, c, half, rounding, rot):
    q = np.abs((p - c) @ rot) - half
    outside = np.linalg.norm(np.maximum(q, 0.0), axis=1)
    inside = np.minimum(q.max(axis=1), 0.0)
    return outside + inside - rounding


def prim_distance(prim: Prim, p: np.ndarray) -> np.ndarray:
    if prim.kind == "cone":
        return _round_cone(p, prim.a, prim.b, prim.ra, prim.rb)
    if prim.kind == "ellipsoid":
        return _ellipsoid(p, prim.a, prim.radii, prim.rot)
    if prim.kind == "box":
        return _box(p, prim.a, prim.radii, prim.ra, prim.rot)
    raise ValueError(f"unknown primitive kind {prim.kind!r}")


def smooth_min(a, b, k):
    """Polynomial smooth minimum; equals ``min(a, b)`` where ``|a - b| >= k``."""
    if k <= 0:
        return np.minimum(a, b)
    with np.errstate(invalid="ignore"):
        h = np.maximum(k - np.abs(a - b), 0.0) / k
        out = np.minimum(a, b) - h * h * k * 0.25
    return np.where(np.isfinite(out), out, np.minimum(a, b))


def evaluate(node, p: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """Distance (N,) and owning leaf label (N,) at points ``p`` (N, 3).

    The owner is the leaf with the smallest distance of its own (before blending). Every
    node is evaluated only on the points inside its bounding box grown by ``margin``
    (others are infinitely far), so far-away subtrees cost one box test.
    """
    p = np.asarray(p, dtype=np.float64)
    d = np.full(len(p), np.inf)
    raw = np.full(len(p), np.inf)
    lab = np.zeros(len(p), dtype=np.int32)
    _eval(node, p, margin, d, raw, lab)
    return d, lab


def leaf_distances(node, p: np.ndarray, margin: float) -> dict:
    """label -> (N,) distance of that leaf alone (inf outside its box); several leaves may share a label."""
    out: dict = {}
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Union):
            stack.extend(n.children)
            continue
        lo, hi = n.box
        m = _inside(p, lo - margin, hi + margin)
        d = np.full(len(p), np.inf)
        if m.any():
            d[m] = prim_distance(n, p[m])
        out[n.label] = np.minimum(out[n.label], d) if n.label in out else d
    return out


def _inside(p, lo, hi):
    return ((p[:, 0] >= lo[0]) & (p[:, 0] <= hi[0]) & (p[:, 1] >= lo[1]) & (p[:, 1] <= hi[1])
            & (p[:, 2] >= lo[2]) & (p[:, 2] <= hi[2]))


def _eval(node, p, margin, d_out, raw_out, lab_out) -> None:
    """Write the node's blended distance, raw leaf minimum and owner into the (inf-filled) outputs."""
    lo, hi = node.box
    m = _inside(p, lo - margin, hi + margin)
    if not m.any():
        return
    full = bool(m.all())
    sub = p if full else p[m]
    if isinstance(node, Prim):
        d = prim_distance(node, sub)
        raw = d
        lab = np.full(len(sub), node.label, dtype=np.int32)
    else:
        n = len(sub)
        d, raw, lab = np.full(n, np.inf), np.full(n, np.inf), np.zeros(n, dtype=np.int32)
        _eval(node.children[0], sub, margin, d, raw, lab)
        for child in node.children[1:]:
            d2, raw2, lab2 = np.full(n, np.inf), np.full(n, np.inf), np.zeros(n, dtype=np.int32)
            _eval(child, sub, margin, d2, raw2, lab2)
            lab = np.where(raw2 < raw, lab2, lab)
            raw = np.minimum(raw, raw2)
            d = smooth_min(d, d2, node.k)
    if full:
        d_out[:], raw_out[:], lab_out[:] = d, raw, lab
    else:
        d_out[m], raw_out[m], lab_out[m] = d, raw, lab


def bounds(node) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(node, Prim):
        return node.bounds()
    los, his = zip(*(bounds(c) for c in node.children))
    return np.min(los, axis=0), np.max(his, axis=0)


def max_blend(node) -> float:
    if isinstance(node, Prim):
        return 0.0
    return max([node.k] + [max_blend(c) for c in node.children])
