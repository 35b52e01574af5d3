"""Anatomical angles -> local rotations -> joint positions, batched over frames (torch).

:class:`Kinematics` turns ``theta`` (..., P) (see :mod:`.limits`) into local rotation
matrices of all 55 joints and runs forward kinematics on the joints that carry markers
(pelvis to fingertips, no legs or eyes), one tree level at a time (11 batched steps
instead of one per joint). Rotations act on column vectors (axis-angle to matrix by
:mod:`model_runtime.rotations`); the rest skeleton and frame
conventions are those of :mod:`model_runtime.skeleton`.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import rotations as rot
from ..skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS, RestSkeleton
from .limits import DofModel

# Joints whose rotation the IK never changes: legs and eyes stay at rest.
STATIC_JOINTS = tuple(i for i, n in enumerate(JOINT_NAMES)
                      if any(k in n for k in ("hip", "knee", "ankle", "foot", "eye")))


def _depth(j: int) -> int:
    d = 0
    while PARENTS[j] >= 0:
        j = PARENTS[j]
        d += 1
    return d


class Kinematics:
    """Batched FK for the joints in ``joints`` (closed under parents), driven by ``theta``.

    Joints are kept in tree-level order (``self.joints``; ``self.slot`` maps a joint index to
    its position there), so each level is a contiguous block and its parents one gather.
    """

    def __init__(self, rest: RestSkeleton, model: DofModel, joints=None, dtype=torch.float32):
        if joints is None:
            joints = [j for j in range(NUM_JOINTS) if j not in STATIC_JOINTS and JOINT_NAMES[j] != "jaw"]
        joints = sorted(set(joints), key=lambda j: (_depth(j), j))
        for j in joints:
            if PARENTS[j] >= 0 and PARENTS[j] not in joints:
                raise ValueError(f"joint {JOINT_NAMES[j]} needs its parent {JOINT_NAMES[PARENTS[j]]}")
        self.rest = rest
        self.model = model
        self.dtype = dtype
        self.joints = joints
        self.slot = {j: i for i, j in enumerate(joints)}
        A = torch.as_tensor(model.A[:, joints], dtype=dtype)  # (2, J, 3, P)
        self.A0 = A[0].reshape(-1, model.size).T.contiguous()  # (P, J*3)
        # second factors exist for a few joints only (elbows, wrists, thumb CMCs)
        two = [i for i, j in enumerate(joints) if np.any(model.A[1, j])]
        self.two_idx = torch.tensor(two, dtype=torch.long)
        self.A1 = A[1][two].reshape(-1, model.size).T.contiguous()  # (P, K*3)
        offsets = rest.offsets
        self.levels = []  # (start, stop, parent positions in the previous level, offsets)
        depths = [_depth(j) for j in joints]
        start = 0
        for d in range(max(depths) + 1):
            stop = start + depths.count(d)
            lev = joints[start:stop]
            if d == 0:
                parent_pos = None
            else:
                prev = self.levels[-1]
                prev_joints = joints[prev[0]:prev[1]]
                parent_pos = torch.tensor([prev_joints.index(PARENTS[j]) for j in lev])
            self.levels.append((start, stop, parent_pos, torch.as_tensor(offsets[lev], dtype=dtype)))
            start = stop

    def local_rotations(self, theta: torch.Tensor) -> torch.Tensor:
        """(..., P) -> (..., J, 3, 3) local rotations of ``self.joints``."""
        batch = theta.shape[:-1]
        J = len(self.joints)
        R = rot.axis_angle_to_matrix((theta @ self.A0).reshape(*batch, J, 3))
        if len(self.two_idx) == 0:
            return R
        R1 = rot.axis_angle_to_matrix((theta @ self.A1).reshape(*batch, len(self.two_idx), 3))
        R2 = torch.index_select(R, -3, self.two_idx) @ R1
        return R.index_copy(R.dim() - 3, self.two_idx, R2)

    def forward(self, local: torch.Tensor, root=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Local rotations (..., J, 3, 3) -> (positions (..., J, 3), global rotations (..., J, 3, 3)).

        ``root``: optional (..., 3) position of the pelvis (default: its rest position).
        """
        pos_l, rot_l = [], []
        for d, (a, b, parent_pos, off) in enumerate(self.levels):
            L = local[..., a:b, :, :]
            if d == 0:
                G = L
                P = off.expand(*local.shape[:-3], b - a, 3)
                if root is not None:
                    P = P + root[..., None, :] - off
            else:
                Gp = torch.index_select(rot_l[-1], -3, parent_pos)
                Pp = torch.index_select(pos_l[-1], -2, parent_pos)
                G = Gp @ L
                P = Pp + (Gp @ off[:, :, None])[..., 0]
            rot_l.append(G)
            pos_l.append(P)
        return torch.cat(pos_l, dim=-2), torch.cat(rot_l, dim=-3)

    def __call__(self, theta: torch.Tensor, root=None):
        return self.forward(self.local_rotations(theta), root)


def full_local_rotations(theta: torch.Tensor, model: DofModel, jaw: torch.Tensor | None = None) -> torch.Tensor:
    """(..., P) -> (..., 55, 3, 3) local rotations of every joint (legs and eyes at rest).

    ``jaw``: optional (...,) jaw opening angle in radians (rotation about +X).
    """
    A = torch.as_tensor(model.A, dtype=theta.dtype)
    r0 = torch.einsum("...p,jcp->...jc", theta, A[0])
    r1 = torch.einsum("...p,jcp->...jc", theta, A[1])
    if jaw is not None:
        r0 = r0.clone()
        r0[..., JOINT_NAMES.index("jaw"), 0] = jaw
    return rot.axis_angle_to_matrix(r0) @ rot.axis_angle_to_matrix(r1)
