"""Skin weights for the built-in avatar (numpy only).

1. Ownership: each vertex starts fully weighted to one bone: among the candidate bones of
   the primitive that owns the surface there (:mod:`.sdf` labels), the one whose segment
   is nearest.
2. Diffusion over the mesh: weights are averaged with the neighbours' (explicit heat
   steps on the edge graph) until they have spread about ``radius`` metres, which gives
   smooth blends across shoulders, elbows, wrists and knuckles while separate fingers,
   which share no edges, never pick up each other's weights.
3. Each vertex keeps its four largest weights (>= 1 %), normalised to sum 1.
"""

from __future__ import annotations

import numpy as np


def segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N,) distance from points (N, 3) to the segment a-b."""
    ab = b - a
    t = np.clip(((p - a) @ ab) / max(float(ab @ ab), 1e-12), 0.0, 1.0)
    return np.linalg.norm(p - (a + t[:, None] * ab), axis=1)


def initial_owners(verts, labels, label_bones, bone_index, heads, tails) -> np.ndarray:
    """(V,) bone index owning each vertex: nearest candidate bone of the vertex's label."""
    owner = np.empty(len(verts), dtype=np.int64)
    for lab in np.unique(labels):
        sel = labels == lab
        cands = [bone_index[b] for b in label_bones[lab]]
        if len(cands) == 1:
            owner[sel] = cands[0]
            continue
        d = np.stack([segment_distance(verts[sel], heads[c], tails[c]) for c in cands], axis=1)
        owner[sel] = np.asarray(cands)[np.argmin(d, axis=1)]
    return owner


def diffuse(weights: np.ndarray, edges: np.ndarray, verts: np.ndarray, radius: float) -> np.ndarray:
    """Spread (V, B) weights over the mesh edges for a distance of about ``radius``."""
    if radius <= 0 or not len(edges):
        return weights
    n = len(verts)
    both = np.concatenate([edges, edges[:, ::-1]])
    order = np.argsort(both[:, 0], kind="stable")
    src, dst = both[order, 0], both[order, 1]
    starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]])
    rows = src[starts]
    deg = np.diff(np.r_[starts, len(src)]).astype(np.float64)
    mean_edge = float(np.mean(np.linalg.norm(verts[edges[:, 0]] - verts[edges[:, 1]], axis=1)))
    # a random walk with step 0.5 spreads ~ sqrt(0.5 * iterations) edges
    iterations = int(np.ceil(2.0 * (radius / max(mean_edge, 1e-9)) ** 2))
    w = weights.astype(np.float32)
    inv_deg = (0.5 / deg).astype(np.float32)[:, None]
    isolated = np.setdiff1d(np.arange(n), rows)  # vertices without edges keep their weights
    for _ in range(iterations):
        mean = np.add.reduceat(w[dst], starts, axis=0) * inv_deg
        nxt = 0.5 * w
        nxt[rows] += mean
        if len(isolated):
            nxt[isolated] = w[isolated]
        w = nxt
    return w.astype(np.float64)


def limit(weights: np.ndarray, max_influences: int = 4, min_weight: float = 0.01) -> np.ndarray:
    """Keep each row's largest ``max_influences`` weights >= ``min_weight``, rows summing to 1."""
    w = weights.copy()
    if w.shape[1] > max_influences:
        cut = np.partition(w, -max_influences, axis=1)[:, -max_influences][:, None]
        w[w < cut] = 0.0
    w[w < min_weight] = 0.0
    total = w.sum(axis=1, keepdims=True)
    if np.any(total <= 0):
        raise ValueError("a vertex lost all its weights")
    return w / total


def skin(verts, edges, labels, label_bones, bone_names, heads, tails, radius) -> tuple[np.ndarray, np.ndarray]:
    """Weights for one mesh part: returns (bones used (B,), weights (V, B))."""
    bone_index = {n: i for i, n in enumerate(bone_names)}
    owner = initial_owners(verts, labels, label_bones, bone_index, heads, tails)
    used = np.unique(owner)
    col = {b: i for i, b in enumerate(used)}
    w = np.zeros((len(verts), len(used)))
    w[np.arange(len(verts)), [col[o] for o in owner]] = 1.0
    w = diffuse(w, edges, verts, radius)
    return used, limit(w)
