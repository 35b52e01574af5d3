"""Synthetic landmarks for the IK tests: a known pose -> FK -> MediaPipe-like landmarks.

The generator uses the IK's own marker model (where each MediaPipe landmark sits on the
skeleton) and camera model, and writes what MediaPipe would: normalised image x, y
(x right, y down), a relative z scaled like x (smaller = nearer; pose z about the hips,
hand z about the wrist), NaN for what is not seen. Face-mesh points are left NaN.
"""

from __future__ import annotations

import numpy as np
import torch

from model_runtime.ik.camera import look_point, project
from model_runtime.ik.kinematics import Kinematics
from model_runtime.ik.limits import dof_model
from model_runtime.ik.markers import marker_set
from model_runtime.landmarks.sequence import LandmarkSequence
from model_runtime.skeleton import rest_skeleton


def signing_theta(T: int = 40, seed: int = 0) -> np.ndarray:
    """(T, P) anatomical angles of a plausible two-handed signing motion, inside every limit.

    Both elbows stay bent (40-110 degrees) so the humeral twist is observable; the forearm
    twist sweeps from pronation to supination; the fingers open and close.
    """
    m = dof_model()
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, T)
    th = np.zeros((T, m.size))

    def put(name, value):
        th[:, m.index[name]] = np.deg2rad(value)

    ph = rng.uniform(0, 2 * np.pi, size=8)
    put("pelvis_ry", 8 * np.sin(2 * np.pi * t + ph[0]))
    for j in ("spine1", "spine2", "spine3"):
        put(f"{j}_axial", 4 * np.sin(2 * np.pi * t + ph[1]))
        put(f"{j}_flex", 3.0)
    for j in ("neck", "head"):
        put(f"{j}_axial", 12 * np.sin(2 * np.pi * t + ph[2]))
        put(f"{j}_flex", 6 + 4 * np.sin(4 * np.pi * t))
    for side, sgn in (("left", 1.0), ("right", -1.0)):
        k = 0 if side == "left" else 1
        # shoulder: arm lowered 55-75 degrees and brought forward 25-45 degrees (rotation vector,
        # left arm: -Z lowers it, -Y brings it forward; mirrored for the right)
        down = 65 + 10 * np.sin(2 * np.pi * t + ph[3 + k])
        fwd = 35 + 10 * np.sin(2 * np.pi * t + ph[5 + k])
        th[:, m.index[f"{side}_shoulder_rz"]] = -sgn * np.deg2rad(down)
        th[:, m.index[f"{side}_shoulder_ry"]] = -sgn * np.deg2rad(fwd)
        th[:, m.index[f"{side}_shoulder_rx"]] = np.deg2rad(-20 + 15 * np.sin(2 * np.pi * t))
        put(f"{side}_elbow_flex", 75 + 35 * np.sin(2 * np.pi * t + ph[7]))
        put(f"{side}_forearm_twist", (-1) ** k * 60 * np.sin(2 * np.pi * t))
        put(f"{side}_wrist_flex", 15 * np.sin(4 * np.pi * t))
        put(f"{side}_wrist_dev", -8 + 8 * np.sin(2 * np.pi * t))
        curl = 0.5 - 0.5 * np.cos(2 * np.pi * t + k)  # 0..1
        for f, scale in (("index", 0.6), ("middle", 0.8), ("ring", 0.9), ("pinky", 1.0)):
            put(f"{side}_{f}1_flex", 70 * scale * curl)
            put(f"{side}_{f}2_flex", 90 * scale * curl)
            put(f"{side}_{f}3_flex", 40 * scale * curl)
        put(f"{side}_index1_abd", 8 * (1 - curl))
        put(f"{side}_pinky1_abd", -10 * (1 - curl))
        put(f"{side}_thumb1_flex", 20 * curl)
        put(f"{side}_thumb1_abd", 15)
        put(f"{side}_thumb2_flex", 30 * curl)
        put(f"{side}_thumb3_flex", 35 * curl)
    return th


def landmarks_from_theta(theta: np.ndarray, *, image_size=(1280, 720), scale=0.9, focal=3.0,
                         centre=(0.89, 0.42), fps=30.0, noise_px: float = 0.0, seed: int = 0) -> LandmarkSequence:
    """The :class:`LandmarkSequence` MediaPipe would report for the pose ``theta`` (T, P)."""
    rest = rest_skeleton("neutral")
    model = dof_model("neutral")
    ms = marker_set("neutral")
    kin = Kinematics(rest, model, dtype=torch.float64)
    with torch.no_grad():
        pos, rot = kin(torch.as_tensor(theta, dtype=torch.float64))
        slot = torch.tensor([kin.slot[j] for j in ms.joint])
        X = (pos[:, slot] + (rot[:, slot] @ torch.as_tensor(ms.offset)[:, :, None])[..., 0]).numpy()
    T = len(theta)
    W, H = image_size
    aspect = W / H
    uv = project(X, scale, focal, np.asarray(centre), look_point(rest))
    rng = np.random.default_rng(seed)
    if noise_px:
        uv = uv + rng.normal(0.0, noise_px / H, size=uv.shape)
    x, y = uv[..., 0] / aspect, uv[..., 1]
    hips = (X[:, ms.pose_index == 23] + X[:, ms.pose_index == 24])[:, 0] / 2
    pose = np.full((T, 33, 3), np.nan)
    hands = np.full((T, 2, 21, 3), np.nan)
    for i in range(len(ms)):
        if ms.pose_index[i] >= 0:
            z = -(X[:, i, 2] - hips[:, 2]) * scale / aspect
            pose[:, ms.pose_index[i]] = np.stack([x[:, i], y[:, i], z], axis=-1)
        elif ms.hand[i] >= 0:
            hands[:, ms.hand[i], ms.hand_index[i], 0] = x[:, i]
            hands[:, ms.hand[i], ms.hand_index[i], 1] = y[:, i]
            hands[:, ms.hand[i], ms.hand_index[i], 2] = X[:, i, 2]
    for k in (0, 1):
        hands[:, k, :, 2] = -(hands[:, k, :, 2] - hands[:, k, :1, 2]) * scale / aspect
    return LandmarkSequence(pose=pose, left_hand=hands[:, 0], right_hand=hands[:, 1],
                            face=np.full((T, 40, 3), np.nan), fps=fps, image_size=image_size, source="synthetic")


def geodesic_deg(Ra: np.ndarray, Rb: np.ndarray) -> np.ndarray:
    """Angle (degrees) of Ra^T Rb for (..., 3, 3) rotations."""
    M = np.swapaxes(Ra, -1, -2) @ Rb
    c = (np.trace(M, axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))
