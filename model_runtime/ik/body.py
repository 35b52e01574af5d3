"""Closed-form first guess of the body: torso, neck and head, arms, jaw (numpy, all frames at once).

* Torso: the shoulder line gives the body's X axis, the hip-to-shoulder line (where the
  hips are seen) or the vertical its Y axis; the rotation is shared equally by pelvis,
  spine1, spine2 and spine3.
* Head: from the FaceMesh points (eye corners, mouth corners; their z is good) when the
  face was tracked, else from the pose's face points; split equally between neck and head.
* Arm: the shoulder swings the rest arm axis onto the upper arm and twists about it so that
  the elbow's hinge axis is normal to the arm's plane (upper arm x forearm); where the elbow
  is nearly straight that twist is unobservable and is interpolated from bent frames. The
  elbow flexes by the angle between upper arm and forearm. The forearm twist and the wrist
  come from the palm (see :mod:`.hands`).
* Jaw: opening from the inner-lip gap over the mouth width.
"""

from __future__ import annotations

import numpy as np

from ..skeleton import JOINT_INDEX, NUM_JOINTS
from .geometry import axis_angle_matrix, fill_angles_over_time, fractional, frame_from, kabsch, min_rotation, unit
from .markers import L_HIP, R_HIP, MarkerSet
from .observations import Observations

J = JOINT_INDEX
# rows of the 40-point face subset (FACE_ORDER): eye outer corners, mouth corners, inner lips
F_EYE_R, F_EYE_L, F_MOUTH_R, F_MOUTH_L, F_LIP_UP, F_LIP_LOW = 30, 34, 0, 6, 14, 18
STRAIGHT_ELBOW = np.deg2rad(25.0)  # below this flexion the humeral twist is read from neighbours
JAW_MAX = np.deg2rad(25.0)
JAW_RADIUS = 0.065  # m, jaw pivot to lower lip


def torso_rotation(obs: Observations, lifted: dict) -> np.ndarray:
    """(T, 3, 3) world orientation of the upper torso (spine3 frame)."""
    sl, sr = lifted["left_shoulder"], lifted["right_shoulder"]
    x = unit(sl - sr)
    hips = obs.pose_filled[:, [L_HIP, R_HIP], :2]
    mid_h = hips.mean(axis=1)
    mid_s = (obs.pose_filled[:, 11, :2] + obs.pose_filled[:, 12, :2]) / 2
    up2 = np.stack([mid_s[:, 0] - mid_h[:, 0], mid_h[:, 1] - mid_s[:, 1], np.zeros(len(x))], axis=-1)
    # MediaPipe guesses hips that are out of view; trust them only where it says it sees them
    vis = obs.visibility[:, [L_HIP, R_HIP]]
    trust = 0.5 * np.where(np.isfinite(vis), np.clip((vis - 0.5) / 0.5, 0, 1), 0.0).min(axis=1)
    trust = np.where(np.isfinite(up2).all(-1), trust, 0.0)
    up = unit(np.where(np.isfinite(up2), up2, 0.0)) * trust[:, None] + np.array([0.0, 1.0, 0.0]) * (1 - trust[:, None])
    return frame_from(x, up)


def head_rotation(obs: Observations, markers: MarkerSet, s: float, R_torso: np.ndarray) -> np.ndarray:
    """(T, 3, 3) world orientation of the head."""
    T = obs.num_frames
    f = obs.face
    have_face = np.isfinite(f[:, [F_EYE_R, F_EYE_L, F_MOUTH_R, F_MOUTH_L]]).all(axis=(1, 2))

    def w3(p):  # height units (u, v, z) -> metres, world axes
        return np.stack([p[..., 0], -p[..., 1], -p[..., 2]], axis=-1) / s

    R = R_torso.copy()
    if have_face.any():
        eyes = w3(f[:, F_EYE_L]) - w3(f[:, F_EYE_R])
        mouth = w3(f[:, F_MOUTH_L]) - w3(f[:, F_MOUTH_R])
        x = unit(unit(eyes) + unit(mouth))
        up = (w3(f[:, F_EYE_L]) + w3(f[:, F_EYE_R])) / 2 - (w3(f[:, F_MOUTH_L]) + w3(f[:, F_MOUTH_R])) / 2
        # rest face: mouth corners 0.005 m in front of the eyes' plane -> the eye-mouth line leans 3-4 deg
        Rf = frame_from(x, up)
        R[have_face] = Rf[have_face]
    idx = [i for i, p in enumerate(markers.pose_index) if markers.group[i] == "face"]
    pidx = markers.pose_index[idx]
    rest_pts = markers.offset[idx]  # in the head frame, relative to the head joint
    obs_pts = w3(obs.pose_filled[:, pidx])
    n_ok = np.isfinite(obs_pts).all(-1).sum(-1)
    use = ~have_face & (n_ok >= 4)
    if use.any():
        wts = markers.weight[idx]
        R[use] = kabsch(np.broadcast_to(rest_pts, obs_pts[use].shape), obs_pts[use], wts)
    return R


def arm_rotations(lifted: dict, R_torso: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shoulder local (T,3,3), elbow flexion (T,), elbow global without twist (T,3,3)) for ``side``."""
    sgn = 1.0 if side == "left" else -1.0
    Rt_T = np.swapaxes(R_torso, -1, -2)
    S, E, W = lifted[f"{side}_shoulder"], lifted[f"{side}_elbow"], lifted[f"{side}_wrist"]
    du = unit(np.einsum("tij,tj->ti", Rt_T, E - S))
    df = unit(np.einsum("tij,tj->ti", Rt_T, W - E))
    rest_axis = np.array([sgn, 0.0, 0.0])
    hinge_rest = np.array([0.0, -sgn, 0.0])
    swing = min_rotation(np.broadcast_to(rest_axis, du.shape), du)
    h0 = np.einsum("tij,j->ti", swing, hinge_rest)
    cross = np.cross(du, df)
    flex = np.arctan2(np.linalg.norm(cross, axis=-1), np.sum(du * df, axis=-1))
    h = unit(cross)
    # default hinge for a straight arm: flexion would bring the hand forward (arm down) or up (arm forward)
    fwd = np.array([0.0, 0.0, 1.0])
    f_def = unit(fwd + np.clip(du @ fwd, 0, None)[:, None] * np.array([0.0, 1.0, 0.0]))
    f_def = unit(f_def - du * np.sum(du * f_def, -1, keepdims=True))
    h_def = unit(np.cross(du, f_def))

    def twist_to(target):
        return np.arctan2(np.sum(np.cross(h0, target) * du, -1), np.sum(h0 * target, -1))

    psi = fill_angles_over_time(twist_to(h), flex > STRAIGHT_ELBOW, twist_to(h_def))
    R_sh = axis_angle_matrix(du, psi) @ swing
    R_el = axis_angle_matrix(hinge_rest, flex)
    G_el = R_torso @ R_sh @ R_el
    return R_sh, flex, G_el


def jaw_opening(obs: Observations) -> np.ndarray:
    """(T,) jaw opening in radians from the inner-lip gap (0 where the face is not seen)."""
    f = obs.face
    gap = np.linalg.norm(f[:, F_LIP_UP] - f[:, F_LIP_LOW], axis=-1)
    width = np.linalg.norm(f[:, F_MOUTH_L] - f[:, F_MOUTH_R], axis=-1)
    ratio = gap / np.maximum(width, 1e-6)
    # a closed mouth reads about 0.05 of its width; the mouth is ~0.05 m wide
    d = np.clip(ratio - 0.05, 0.0, None) * 0.05
    ang = np.arcsin(np.clip(d / JAW_RADIUS, 0.0, 1.0))
    return np.where(np.isfinite(ang), np.minimum(ang, JAW_MAX), 0.0)


def body_local_rotations(obs: Observations, lifted: dict, markers: MarkerSet, s: float) -> dict:
    """Local rotations (T, 55, 3, 3) of the torso, neck/head and arms (wrists at rest), plus the
    elbow global frames and flexion, for :mod:`.hands` to finish the forearm and wrist."""
    T = obs.num_frames
    R = np.broadcast_to(np.eye(3), (T, NUM_JOINTS, 3, 3)).copy()
    Rt = torso_rotation(obs, lifted)
    quarter = fractional(Rt, 0.25)
    for j in ("pelvis", "spine1", "spine2", "spine3"):
        R[:, J[j]] = quarter
    Rh = head_rotation(obs, markers, s, Rt)
    half = fractional(np.swapaxes(Rt, -1, -2) @ Rh, 0.5)
    R[:, J["neck"]] = half
    R[:, J["head"]] = half
    out = {"R_torso": Rt, "R_head": Rh}
    for side in ("left", "right"):
        R_sh, flex, G_el = arm_rotations(lifted, Rt, side)
        R[:, J[f"{side}_shoulder"]] = R_sh
        sgn = 1.0 if side == "left" else -1.0
        R[:, J[f"{side}_elbow"]] = axis_angle_matrix(np.array([0.0, -sgn, 0.0]), flex)
        out[f"{side}_elbow_global"] = G_el
    out["local"] = R
    out["jaw"] = jaw_opening(obs)
    return out
