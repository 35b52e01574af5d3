"""Quad meshes from signed distance fields: sparse sampling + naive surface nets (numpy only).

:func:`mesh_sdf` samples the field on a regular grid of spacing ``voxel``, but only in
blocks that can contain the surface (a coarse pass at block centres rules the others
out with the field's Lipschitz bound), places one vertex per grid cell that the surface
crosses (the mean of the crossings on the cell's edges), joins the four cells around
every crossed grid edge into a quad, and then pulls the vertices onto the zero level
along the field's gradient, with a little tangential relaxation so quads stay even.
Faces wind counter-clockwise seen from outside (normals point out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import sdf

BLOCK = 8  # voxels per block edge in the coarse pass


@dataclass(frozen=True)
class SurfaceMesh:
    verts: np.ndarray  # (V, 3) float64
    quads: np.ndarray  # (F, 4) int32, counter-clockwise from outside
    labels: np.ndarray  # (V,) owning leaf label of each vertex

    def edges(self) -> np.ndarray:
        """(E, 2) unique undirected edges."""
        return quad_edges(self.quads, len(self.verts))


def quad_edges(quads: np.ndarray, n_verts: int) -> np.ndarray:
    """(E, 2) unique undirected edges of a quad mesh, lower index first."""
    e = np.concatenate([quads[:, [0, 1]], quads[:, [1, 2]], quads[:, [2, 3]], quads[:, [3, 0]]]).astype(np.int64)
    lo, hi = np.minimum(e[:, 0], e[:, 1]), np.maximum(e[:, 0], e[:, 1])
    keys = np.unique(lo * n_verts + hi)
    return np.stack([keys // n_verts, keys % n_verts], axis=1)


def _sample(node, origin, voxel, shape, margin) -> np.ndarray:
    """Field values on the grid; blocks that cannot hold the surface get a constant of the right sign."""
    nb = [int(np.ceil(s / BLOCK)) for s in shape]
    centres = np.stack(np.meshgrid(*[(np.arange(n) + 0.5) * BLOCK * voxel for n in nb], indexing="ij"), -1)
    centres = centres.reshape(-1, 3) + origin - 0.5 * voxel
    half_diag = 0.5 * BLOCK * voxel * np.sqrt(3.0)
    # a block centre must see every leaf whose surface may pass through its block
    d_c, _ = sdf.evaluate(node, centres, margin + 1.5 * half_diag + 2 * voxel)
    # the approximate ellipsoid distance can exceed the true one a little: keep a safety factor
    near = np.abs(d_c) <= 1.5 * half_diag + 2 * voxel
    values = np.where(d_c.reshape(nb) < 0, -1.0, 1.0).repeat(BLOCK, 0).repeat(BLOCK, 1).repeat(BLOCK, 2)
    values = values[: shape[0], : shape[1], : shape[2]].astype(np.float64) * 10 * voxel
    blocks = np.argwhere(near.reshape(nb))
    if len(blocks):
        local = np.stack(np.meshgrid(*[np.arange(BLOCK)] * 3, indexing="ij"), -1).reshape(-1, 3)
        idx = (blocks[:, None, :] * BLOCK + local[None]).reshape(-1, 3)
        idx = idx[np.all(idx < np.array(shape), axis=1)]
        d, _ = sdf.evaluate(node, origin + idx * voxel, margin)
        values[idx[:, 0], idx[:, 1], idx[:, 2]] = np.where(np.isfinite(d), d, 10 * voxel)
    return values


def _nets(values: np.ndarray, origin: np.ndarray, voxel: float) -> tuple[np.ndarray, np.ndarray]:
    inside = values < 0
    nx, ny, nz = values.shape
    cell_shape = (nx - 1, ny - 1, nz - 1)
    acc = np.zeros(cell_shape + (3,))
    cnt = np.zeros(cell_shape)
    quads = []
    for axis in range(3):
        sl0 = [slice(None)] * 3
        sl1 = [slice(None)] * 3
        sl0[axis] = slice(0, -1)
        sl1[axis] = slice(1, None)
        v0, v1 = values[tuple(sl0)], values[tuple(sl1)]
        cross = inside[tuple(sl0)] != inside[tuple(sl1)]
        idx = np.argwhere(cross)  # grid index of the edge's lower end
        if not len(idx):
            continue
        a, b = v0[cross], v1[cross]
        t = a / (a - b)
        pts = idx.astype(np.float64)
        pts[:, axis] += t
        # the (up to) four cells that share this edge
        o1, o2 = (axis + 1) % 3, (axis + 2) % 3  # cyclic, so o1 x o2 = +axis
        for d1 in (0, 1):
            for d2 in (0, 1):
                c = idx.copy()
                c[:, o1] -= d1
                c[:, o2] -= d2
                ok = np.all((c >= 0) & (c < np.array(cell_shape)), axis=1)
                np.add.at(acc, (c[ok, 0], c[ok, 1], c[ok, 2]), pts[ok])
                np.add.at(cnt, (c[ok, 0], c[ok, 1], c[ok, 2]), 1)
        # quads: only edges with all four cells inside the grid
        c00 = idx.copy()
        c00[:, o1] -= 1
        c00[:, o2] -= 1
        ok = np.all(c00 >= 0, axis=1) & np.all(idx < np.array(cell_shape), axis=1)
        ok &= np.all(c00 < np.array(cell_shape), axis=1)
        base = idx[ok]
        # the ring below winds counter-clockwise about +axis: right when the lower end is inside
        flip = ~inside[tuple(base.T)]
        ring = []
        for d1, d2 in ((1, 1), (0, 1), (0, 0), (1, 0)):
            c = base.copy()
            c[:, o1] -= d1
            c[:, o2] -= d2
            ring.append(c)
        ring = np.stack(ring, axis=1)  # (Q, 4, 3)
        ring[flip] = ring[flip][:, ::-1]
        quads.append(ring)
    active = cnt > 0
    cell_ids = -np.ones(cell_shape, dtype=np.int64)
    cell_ids[active] = np.arange(int(active.sum()))
    verts = acc[active] / cnt[active][:, None]
    verts = origin + verts * voxel
    q = np.concatenate(quads, axis=0) if quads else np.zeros((0, 4, 3), dtype=np.int64)
    faces = cell_ids[q[..., 0], q[..., 1], q[..., 2]]
    return verts, faces.astype(np.int64)


def _project(node, verts, voxel, margin):
    """One Newton step of every vertex onto the zero level (forward-difference gradient)."""
    h = 0.2 * voxel
    d, _ = sdf.evaluate(node, verts, margin)
    grad = np.stack([(sdf.evaluate(node, verts + o, margin)[0] - d) / h for o in np.eye(3) * h], axis=1)
    g2 = np.sum(grad * grad, axis=1)
    good = np.isfinite(d) & np.all(np.isfinite(grad), axis=1) & (g2 > 1e-8)
    step = np.zeros_like(verts)
    step[good] = (d[good] / g2[good])[:, None] * grad[good]
    length = np.linalg.norm(step, axis=1, keepdims=True)
    step *= np.minimum(1.0, voxel / np.maximum(length, 1e-12))  # never more than a voxel at once
    return verts - step


def _relax_and_project(node, verts, faces, voxel, margin, iterations):
    n = len(verts)
    e = quad_edges(faces, n)
    deg = np.bincount(e.ravel(), minlength=n).astype(np.float64)
    verts = _project(node, verts, voxel, margin)
    for _ in range(iterations):  # tangential relaxation towards the neighbour mean, then back onto the surface
        mean = np.zeros_like(verts)
        for c in range(3):
            mean[:, c] = np.bincount(e[:, 0], weights=verts[e[:, 1], c], minlength=n)
            mean[:, c] += np.bincount(e[:, 1], weights=verts[e[:, 0], c], minlength=n)
        mean /= np.maximum(deg, 1)[:, None]
        verts = _project(node, verts + 0.5 * (mean - verts), voxel, margin)
    return verts


def mesh_sdf(node, voxel: float, relax_iterations: int = 2) -> SurfaceMesh:
    """Polygonise the zero level of ``node`` with quads about ``voxel`` wide."""
    margin = sdf.max_blend(node) + 2 * voxel
    lo, hi = sdf.bounds(node)
    pad = 0.25 * sdf.max_blend(node) + 2 * voxel  # a smooth union bulges out by up to k / 4
    lo, hi = lo - pad, hi + pad
    shape = tuple(int(s) for s in np.ceil((hi - lo) / voxel).astype(int) + 1)
    values = _sample(node, lo, voxel, shape, margin)
    verts, faces = _nets(values, lo, voxel)
    if not len(faces):
        raise ValueError("the shape has no surface at this voxel size")
    # drop unused vertices (cells touched only by boundary edges)
    used = np.zeros(len(verts), dtype=bool)
    used[faces.ravel()] = True
    remap = -np.ones(len(verts), dtype=np.int64)
    remap[used] = np.arange(int(used.sum()))
    verts = verts[used]
    faces = remap[faces]
    verts = _relax_and_project(node, verts, faces, voxel, margin, relax_iterations)
    _, labels = sdf.evaluate(node, verts, margin)
    return SurfaceMesh(verts=verts, quads=faces.astype(np.int32), labels=labels.astype(np.int32))
