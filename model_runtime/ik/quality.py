"""Quality figures of one IK result (what ``data check`` prints).

* ``reproj_body`` / ``reproj_hand`` / ``reproj_face``: mean 2-D distance between the
  projected FK markers of the output motion and the landmarks, over seen landmarks of
  valid frames, in units of the clip's median 2-D shoulder width. Body = shoulders,
  elbows, wrists (the hand model's wrist where it saw the hand, the pose model's coarser
  one elsewhere); hand = the 21 points of each seen hand; face = nose, eyes, ears (their
  absolute place depends on the signer's neck length, which our fixed skeleton cannot
  follow, hence a figure of its own). Only landmarks MediaPipe saw count: inside the image
  and, where it reports visibility, at least 0.5 (it guesses the rest from the body's
  shape); hips are left out for the same reason. ``*_p95``: 95th percentiles.
* ``limit_violation_frac``: share of valid frames whose output pose has any joint more than
  1 degree past its anatomical limit (read back from the output rotations);
  ``limit_pressure_frac``: share of valid frames where the landmarks, read rigidly (the
  closed-form first guess, before clamping; hands only where seen), ask for more than 5
  degrees past a limit - how often the landmarks and anatomy disagree.
* ``jerk_raw`` / ``jerk_smooth``: mean magnitude of the third time derivative of the FK
  joint positions (arms, hands, head; m/s^3) before and after the low-pass filter.

:class:`IKQuality` holds them, typed, with the clip's camera and timing figures; it reads like
the plain dict it replaced (``q["reproj_body"]``, ``dict(q)``, ``q.items()``), so the clip cache
and ``data check``'s CSV keep their keys and column order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
import torch

from .decompose import theta_from_local
from .limits import DofModel, limit_excess, shoulder_excess
from .markers import BODY_METRIC_POSE, L_WRIST, R_WRIST, MarkerSet
from .observations import Observations

LIMIT_TOL = np.deg2rad(1.0)
PRESSURE_TOL = np.deg2rad(5.0)


@dataclass
class IKQuality(Mapping):
    """The quality figures of one IK result (module docstring), in the order ``data check`` lists them."""

    frames: int
    reproj_body: float
    reproj_body_p95: float
    reproj_hand: float
    reproj_hand_p95: float
    reproj_face: float
    reproj_face_p95: float
    limit_violation_frac: float
    limit_pressure_frac: float
    jerk_raw: float  # m/s^3, before the low-pass
    jerk_smooth: float  # m/s^3, after it
    valid_frac: float  # share of frames with a body
    left_hand_seen_frac: float
    right_hand_seen_frac: float
    aspect: float  # image W/H
    aspect_estimated: bool  # the source gave no image size
    scale: float  # fitted camera: image heights per metre
    scale_init: float
    focal: float  # image heights
    focal_init: float
    depth_source: str  # "pose_world" or "mediapipe_z"
    ik_ms_per_frame: float = math.nan  # wall time, this clip's share of its batch
    ik_cpu_ms_per_frame: float = math.nan

    # Mapping: read like the dict the clip cache stores
    def __getitem__(self, key: str):
        if key not in _QUALITY_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self):
        return iter(_QUALITY_KEYS)

    def __len__(self) -> int:
        return len(_QUALITY_KEYS)


_QUALITY_KEYS = tuple(f.name for f in fields(IKQuality))


def marker_errors(problem, theta: np.ndarray, cam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """((T, M) distance / shoulder width, (T, 2) image centre) for angles ``theta`` of all frames of
    ``problem`` and its per-clip cameras ``cam`` (C, 2) = (scale, focal)."""
    with torch.no_grad():
        th = torch.as_tensor(theta, dtype=problem.dtype)
        X, _, _ = problem.markers(th)
        uv, c = problem.project(X, torch.log(torch.as_tensor(cam, dtype=problem.dtype)))
        err = torch.linalg.norm(uv - problem.uv, dim=-1) / problem.sw
    return err.double().numpy(), c.double().numpy()


def joint_positions(problem, theta: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        _, pos, _ = problem.markers(torch.as_tensor(theta, dtype=problem.dtype))
    return pos.double().numpy()


def mean_jerk(pos: np.ndarray, fps: float) -> float:
    """Mean |d^3 x / dt^3| over joints and frames (m/s^3); 0 for clips shorter than 4 frames."""
    if len(pos) < 4:
        return 0.0
    j = np.diff(pos, n=3, axis=0) * fps ** 3
    return float(np.linalg.norm(j, axis=-1).mean())


def reprojection(err: np.ndarray, obs: Observations, markers: MarkerSet) -> dict:
    seen = (obs.weight > 0) & obs.valid[:, None]
    body_cols = markers.pose_index >= 0
    seen[:, body_cols] &= obs.pose_seen[:, markers.pose_index[body_cols]]
    # where the hand model saw the hand, its wrist stands for the pose model's coarser one
    err = err.copy()
    for k, wrist in ((0, L_WRIST), (1, R_WRIST)):
        pw = np.nonzero(markers.pose_index == wrist)[0][0]
        hw = np.nonzero((markers.hand == k) & (markers.hand_index == 0))[0][0]
        hv = obs.hand_valid[:, k]
        err[hv, pw] = err[hv, hw]
        seen[hv, pw] = True
    body = np.isin(markers.pose_index, BODY_METRIC_POSE) & (markers.group == "body")
    face = np.isin(markers.pose_index, BODY_METRIC_POSE) & (markers.group == "face")
    hand = markers.hand >= 0
    out = {}
    for key, cols in (("body", body), ("hand", hand), ("face", face)):
        vals = err[:, cols][seen[:, cols]]
        out[f"reproj_{key}"] = float(vals.mean()) if vals.size else float("nan")
        out[f"reproj_{key}_p95"] = float(np.quantile(vals, 0.95)) if vals.size else float("nan")
    return out


def limit_figures(R_local: np.ndarray, theta_asked: np.ndarray, valid: np.ndarray, model: DofModel) -> dict:
    """Violation share of the output rotations (T, 55, 3, 3), and limit pressure of ``theta_asked``."""
    th = theta_from_local(R_local, model)
    ex = limit_excess(th, model).max(axis=1)
    from .. import rotations as rot
    from ..skeleton import JOINT_INDEX

    for side in ("left", "right"):
        rv = rot.matrix_to_axis_angle(R_local[:, JOINT_INDEX[f"{side}_shoulder"]])
        ex = np.maximum(ex, shoulder_excess(rv, side))
    press = limit_excess(theta_asked, model).max(axis=1)
    n = max(int(valid.sum()), 1)
    return {"limit_violation_frac": float(((ex > LIMIT_TOL) & valid).sum() / n),
            "limit_pressure_frac": float(((press > PRESSURE_TOL) & valid).sum() / n)}
