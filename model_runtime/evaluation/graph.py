"""The SMPL-X kinematic tree as an ST-GCN graph.

Nodes are joints (all 55, or the signing subset :data:`..skeleton.SIGNING_JOINTS`: spine,
neck, head, jaw, collars, arms and both hands, 45 joints, no legs and no eyes). Edges are
the bones of :data:`..skeleton.PARENTS` restricted to the chosen joints; the subset is
closed under "parent of", so it stays one tree rooted at the pelvis.

Adjacency: the *spatial configuration* partition of ST-GCN (Yan et al., AAAI 2018). Each
joint's neighbourhood is itself plus its 1-hop neighbours, split into three subsets by hop
distance to a centre joint (``spine3``, the chest, which is the hub between the arms,
the head and the pelvis):

* ``root``: the joint itself;
* ``centripetal``: the neighbour closer to the centre;
* ``centrifugal``: the neighbours farther from the centre.

On a tree every edge joins joints whose distances differ by exactly one, so each edge
falls in one of the two directed subsets. Each subset matrix is normalised by the
neighbourhood size of the receiving joint: ``A_k[i, j] = 1 / |N(i)|`` for ``j`` in
subset ``k`` of ``i``'s neighbourhood (``|N(i)|`` counts the joint itself), so that a
graph convolution averages rather than sums and hubs (the wrists, with six neighbours)
do not blow up activations.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from ..errors import SignAvatarError
from ..skeleton import JOINT_INDEX, JOINT_NAMES, PARENTS, SIGNING_JOINTS

JOINT_SETS = {"signing": SIGNING_JOINTS, "all": JOINT_NAMES}
CENTER_JOINT = "spine3"


def joint_indices(joint_set: str) -> np.ndarray:
    """SMPL-X indices of a named joint set (``signing`` or ``all``), in SMPL-X order."""
    if joint_set not in JOINT_SETS:
        raise SignAvatarError(f"unknown joint set {joint_set!r}; choose one of {sorted(JOINT_SETS)}")
    return np.array([JOINT_INDEX[n] for n in JOINT_SETS[joint_set]], dtype=np.int64)


def edges(joint_set: str) -> list[tuple[int, int]]:
    """Bones as (child, parent) pairs of positions within the joint set."""
    idx = joint_indices(joint_set)
    pos = {int(j): k for k, j in enumerate(idx)}
    out = []
    for k, j in enumerate(idx):
        p = PARENTS[int(j)]
        if p >= 0:
            if p not in pos:
                raise SignAvatarError(f"joint set {joint_set!r} holds {JOINT_NAMES[j]} but not its parent")
            out.append((k, pos[p]))
    return out


def hop_distance(num_nodes: int, edge_list: list[tuple[int, int]], center: int) -> np.ndarray:
    """Breadth-first hop distance of every node from ``center`` (undirected edges)."""
    nbrs: list[list[int]] = [[] for _ in range(num_nodes)]
    for a, b in edge_list:
        nbrs[a].append(b)
        nbrs[b].append(a)
    dist = np.full(num_nodes, -1, dtype=np.int64)
    dist[center] = 0
    queue = deque([center])
    while queue:
        i = queue.popleft()
        for j in nbrs[i]:
            if dist[j] < 0:
                dist[j] = dist[i] + 1
                queue.append(j)
    if (dist < 0).any():
        raise SignAvatarError("joint graph is not connected")
    return dist


def spatial_partition(joint_set: str = "signing") -> np.ndarray:
    """(3, V, V) float32 adjacency: root, centripetal, centrifugal, row-normalised per joint.

    Row ``i`` holds the weights with which joint ``i`` gathers its neighbours (the graph
    convolution computes ``y[:, i] = sum_k sum_j A[k, i, j] W_k x[:, j]``).
    """
    idx = joint_indices(joint_set)
    v = len(idx)
    e = edges(joint_set)
    center = int(np.nonzero(idx == JOINT_INDEX[CENTER_JOINT])[0][0])
    dist = hop_distance(v, e, center)
    a = np.zeros((3, v, v), dtype=np.float32)
    a[0] = np.eye(v, dtype=np.float32)
    for c, p in e:
        for i, j in ((c, p), (p, c)):
            a[1 if dist[j] < dist[i] else 2, i, j] = 1.0
    size = a.sum(axis=(0, 2))  # neighbourhood size incl. the joint itself
    return a / size[None, :, None]
