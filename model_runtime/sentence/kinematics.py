"""What the joins look at: hand points through forward kinematics, and quaternion tracks.

Quaternions here are XYZW (roma's, see :mod:`model_runtime.rotations`), float64 torch
tensors, made continuous in time (:func:`model_runtime.rotations.align_hemisphere`: each
frame on the same hemisphere as the previous one) so that averaging and differencing them is
meaningful. Positions are metres in the SMPL-X frame (Y-up).
"""

from __future__ import annotations

import numpy as np
import torch

from .. import rotations as rot
from ..skeleton import FINGERS, JOINT_INDEX, forward_kinematics, rest_skeleton, end_site_positions

HAND_JOINTS = ("left_elbow", "right_elbow", "left_wrist", "right_wrist")
FINGERTIPS = tuple(f"{side}_{f}3" for side in ("left", "right") for f in FINGERS)
WRISTS = (2, 3)  # indices of the wrists in hand_points' output


def hand_points(poses: np.ndarray, trans: np.ndarray, gender: str) -> np.ndarray:
    """(T, 14, 3) world positions: elbows, wrists (left, right) then the ten fingertips.

    Index 0..3 follow :data:`HAND_JOINTS`; the pelvis height is subtracted from ``y`` so that
    ``y < 0`` means "below the pelvis" whatever the body's translation.
    """
    rest = rest_skeleton(gender)
    aa = torch.from_numpy(np.asarray(poses, dtype=np.float32))
    fk = forward_kinematics(rot.axis_angle_to_matrix(aa), torch.from_numpy(rest.joints).float(),
                            torch.from_numpy(np.asarray(trans, dtype=np.float32)))
    joints = fk.positions[:, [JOINT_INDEX[n] for n in HAND_JOINTS]]
    tips = end_site_positions(fk, rest, FINGERTIPS)
    pts = torch.cat([joints, tips], dim=1).numpy().astype(np.float64)
    pts[..., 1] -= fk.positions[:, JOINT_INDEX["pelvis"], 1].numpy()[:, None]
    return pts


def point_speed(points: np.ndarray, fps: float) -> np.ndarray:
    """(T,) fastest hand point's speed in m/s (central differences; ends one-sided)."""
    if len(points) < 2:
        return np.zeros(len(points))
    vel = np.gradient(points, axis=0) * fps
    return np.linalg.norm(vel, axis=-1).max(axis=-1)


def continuous_quats(poses: np.ndarray) -> torch.Tensor:
    """(T, J, 3) axis-angle -> (T, J, 4) XYZW float64, each frame on the previous frame's hemisphere."""
    q = rot.axis_angle_to_quat(torch.from_numpy(np.asarray(poses, dtype=np.float64)))
    return rot.align_hemisphere(q)


def quats_to_axis_angle(q: torch.Tensor) -> np.ndarray:
    return rot.quat_to_axis_angle(q).numpy().astype(np.float32)


def qmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product of XYZW quaternions (``a`` then ``b`` in the local frame: ``a * b``)."""
    return rot.quat_product(a, b)


def qlog(q: torch.Tensor) -> torch.Tensor:
    """Unit quaternion -> rotation vector (axis times angle)."""
    return rot.quat_to_axis_angle(q)


def qexp(v: torch.Tensor) -> torch.Tensor:
    """Rotation vector -> unit XYZW quaternion."""
    return rot.axis_angle_to_quat(v)


def local_velocity(q: torch.Tensor, k: int, forward: bool, span: int = 2) -> torch.Tensor:
    """(J, 3) rotation increment per frame in each joint's local frame at frame ``k``.

    ``forward``: measured over frames k .. k+span, else k-span .. k (fewer when the clip is
    shorter; zero for a single frame). Averaging over ``span`` frames damps one-frame noise.
    """
    a, b = (k, min(len(q) - 1, k + span)) if forward else (max(0, k - span), k)
    if b <= a:
        return torch.zeros(q.shape[1], 3, dtype=q.dtype)
    return qlog(qmul(rot.quat_conjugate(q[a]), q[b])) / (b - a)
