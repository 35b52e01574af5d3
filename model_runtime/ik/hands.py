"""Closed-form first guess of the hands: palm orientation, forearm twist, wrist, fingers.

* Palm: the rotation taking our rest palm (wrist and the four finger MCPs) onto MediaPipe's
  3-D hand points (Kabsch); where the hand model lost the hand, the pose model's coarse
  hand points (wrist, index, pinky, thumb) stand in.
* Forearm twist: the palm's rotation relative to the elbow frame is split into a twist
  about the forearm (half shown at the elbow, half at the wrist) and a wrist swing.
* Fingers: each phalanx's direction in its parent's frame gives the smallest rotation
  from the rest direction; :mod:`.decompose` reads it in the joint's own degrees of
  freedom (two at the MCP, one at PIP and DIP).
"""

from __future__ import annotations

import numpy as np

from ..skeleton import JOINT_INDEX, RestSkeleton
from .depth import hand_points_3d
from .geometry import axis_angle_matrix, kabsch, min_rotation, unit
from .markers import L_INDEX, L_PINKY, L_THUMB, L_WRIST, R_INDEX, R_PINKY, R_THUMB, R_WRIST
from .observations import Observations

J = JOINT_INDEX
CHAINS = {  # finger -> MediaPipe Hand indices from the first joint to the tip
    "thumb": (1, 2, 3, 4), "index": (5, 6, 7, 8), "middle": (9, 10, 11, 12),
    "ring": (13, 14, 15, 16), "pinky": (17, 18, 19, 20),
}
PALM = (0, 5, 9, 13, 17)
SUPINATION_AXIS = np.array([-1.0, 0.0, 0.0])  # the same for both sides (see limits.py)


def _rest_rel(rest: RestSkeleton, side: str, names) -> np.ndarray:
    w = rest.joints[J[f"{side}_wrist"]]
    return np.stack([rest.joints[J[f"{side}_{n}"]] - w for n in names])


def palm_rotation(obs: Observations, rest: RestSkeleton, side: str, s: float) -> tuple[np.ndarray, np.ndarray]:
    """((T, 3, 3) world orientation of the hand, (T,) bool from the hand model rather than the pose)."""
    k = 0 if side == "left" else 1
    T = obs.num_frames
    pts = hand_points_3d(obs, k, s)[:, PALM]
    rest_pts = _rest_rel(rest, side, ("wrist", "index1", "middle1", "ring1", "pinky1"))
    R = np.broadcast_to(np.eye(3), (T, 3, 3)).copy()
    hv = obs.hand_valid[:, k]
    if hv.any():
        R[hv] = kabsch(np.broadcast_to(rest_pts, pts[hv].shape), pts[hv])
    wrist, idx, pinky, thumb = (L_WRIST, L_INDEX, L_PINKY, L_THUMB) if side == "left" else \
        (R_WRIST, R_INDEX, R_PINKY, R_THUMB)
    P = obs.pose_filled[:, [wrist, idx, pinky, thumb]]
    pp = np.stack([P[..., 0], -P[..., 1], -P[..., 2]], axis=-1) / s
    pp = pp - pp[:, :1]
    rest_pp = _rest_rel(rest, side, ("wrist", "index1", "pinky1", "thumb2"))
    use = ~hv & np.isfinite(pp).all(axis=(1, 2)) & obs.valid
    if use.any():
        R[use] = kabsch(np.broadcast_to(rest_pp, pp[use].shape), pp[use])
    return R, hv


def forearm_and_wrist(G_elbow: np.ndarray, R_hand: np.ndarray, flex: np.ndarray, side: str):
    """Split the palm's rotation relative to the elbow into elbow (hinge + half twist) and wrist
    (half twist + swing) local rotations; returns (elbow local, wrist local, twist)."""
    sgn = 1.0 if side == "left" else -1.0
    rel = np.swapaxes(G_elbow, -1, -2) @ R_hand
    from .decompose import twist_angle

    tau = twist_angle(rel, SUPINATION_AXIS)
    half = axis_angle_matrix(SUPINATION_AXIS, tau / 2)
    elbow = axis_angle_matrix(np.array([0.0, -sgn, 0.0]), flex) @ half
    wrist = np.swapaxes(half, -1, -2) @ rel
    return elbow, wrist, tau


def finger_rotations(obs: Observations, rest: RestSkeleton, side: str, s: float, R_hand: np.ndarray) -> dict:
    """Local rotations {joint name: (T, 3, 3)} of the 15 finger joints of ``side`` (identity where
    the hand is not seen)."""
    k = 0 if side == "left" else 1
    T = obs.num_frames
    pts = hand_points_3d(obs, k, s)
    q = np.einsum("tji,tnj->tni", R_hand, pts)  # into the hand frame: R^T p
    hv = obs.hand_valid[:, k]
    out = {}
    for finger, chain in CHAINS.items():
        names = [f"{side}_{finger}{i}" for i in (1, 2, 3)]
        rest_pts = [rest.joints[J[n]] for n in names] + [rest.end_sites[names[-1]]]
        R_acc = np.broadcast_to(np.eye(3), (T, 3, 3)).copy()
        for i, n in enumerate(names):
            r = unit(rest_pts[i + 1] - rest_pts[i])
            b = unit(q[:, chain[i + 1]] - q[:, chain[i]])
            b_local = np.einsum("tji,tj->ti", R_acc, b)
            Rl = min_rotation(np.broadcast_to(r, b_local.shape), b_local)
            Rl[~hv] = np.eye(3)
            Rl[~np.isfinite(Rl).all(axis=(1, 2))] = np.eye(3)
            out[n] = Rl
            R_acc = R_acc @ Rl
    return out
