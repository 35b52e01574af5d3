"""Depth of the body under our skeleton's fixed bone lengths.

Camera model: scaled orthographic ("weak perspective"): a world point (X, Y, Z) in metres
appears at ``(u, v) = s * (X, -Y) + c_t`` (height units, see :mod:`.observations`), one
scale ``s`` per clip and a centre ``c_t`` per frame. Signers stand 1-3 m from the camera
and sign within about 0.5 m of their body, so perspective changes the apparent size of a
hand by up to about 20 % in a close webcam shot and far less in studio video.

Depth: with bone length ``L`` fixed and its image length ``l``, the depth step along the
bone is ``+-sqrt(L^2 - (l/s)^2)`` (Taylor, CVIU 2000). Only the sign is missing; it is
taken from MediaPipe's metric ``pose_world`` when present (dictionary videos), else from
MediaPipe's relative z (reliable in sign, unreliable in size: its bone lengths vary
5-16 % within a clip), median-filtered over 5 frames against flicker and, where it is
not decisive, from the signing prior "hands in front of the elbows".
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

from ..skeleton import JOINT_INDEX, RestSkeleton
from .markers import L_ELBOW, L_SHOULDER, L_WRIST, R_ELBOW, R_SHOULDER, R_WRIST
from .observations import Observations

SIGN_DECISIVE = 0.15  # |depth step| / bone length below which MediaPipe's sign is not trusted


def rest_lengths(rest: RestSkeleton) -> dict[str, float]:
    J = JOINT_INDEX
    p = rest.joints
    return {
        "shoulders": float(np.linalg.norm(p[J["left_shoulder"]] - p[J["right_shoulder"]])),
        "upper_arm": float(np.linalg.norm(p[J["left_elbow"]] - p[J["left_shoulder"]])),
        "forearm": float(np.linalg.norm(p[J["left_wrist"]] - p[J["left_elbow"]])),
    }


def initial_scale(obs: Observations, rest: RestSkeleton) -> float:
    """Height units per metre: the 80th percentile of the 2-D shoulder width over our shoulder width
    (a high percentile, because turning the torso only ever shortens the image width)."""
    w = np.linalg.norm(obs.pose[:, L_SHOULDER, :2] - obs.pose[:, R_SHOULDER, :2], axis=-1)
    w = w[obs.valid & np.isfinite(w)]
    return float(np.quantile(w, 0.8)) / rest_lengths(rest)["shoulders"]


def _fill_nan_time(a: np.ndarray) -> np.ndarray:
    """Fill NaNs along axis 0 by nearest valid value (per column)."""
    a = a.copy()
    flat = a.reshape(a.shape[0], -1)
    idx = np.arange(a.shape[0])
    for c in range(flat.shape[1]):
        ok = np.isfinite(flat[:, c])
        if ok.any() and not ok.all():
            flat[:, c] = np.interp(idx, idx[ok], flat[ok, c])
    return flat.reshape(a.shape)


def depth_hint(obs: Observations, child: int, parent: int, s: float) -> np.ndarray:
    """(T,) metric depth step child - parent (+ = child nearer the camera) suggested by MediaPipe."""
    if obs.pose_world is not None:
        dz = obs.pose_world[:, child, 2] - obs.pose_world[:, parent, 2]
    else:
        # MediaPipe z: smaller = nearer; our Z points at the camera
        dz = -(obs.pose_filled[:, child, 2] - obs.pose_filled[:, parent, 2]) / s
    dz = _fill_nan_time(dz)
    if len(dz) >= 5:
        dz = median_filter(dz, size=5, mode="nearest")
    return dz


def lift_steps(l2d: np.ndarray, L: float, hint: np.ndarray, prior_sign: float) -> np.ndarray:
    """Signed depth steps: magnitude from the bone length, sign from ``hint`` where decisive."""
    mag = np.sqrt(np.clip(L * L - l2d * l2d, 0.0, None))
    decisive = np.abs(hint) > SIGN_DECISIVE * L
    sign = np.where(decisive, np.sign(hint), prior_sign)
    return sign * mag


def lift_arms(obs: Observations, rest: RestSkeleton, s: float) -> dict[str, np.ndarray]:
    """3-D shoulder, elbow and wrist positions (T, 3) in metres (image-plane X, Y about the image
    origin; Z relative to the shoulders' midpoint), one per side, from 2-D + lifted depth.

    The wrist uses the hand model's wrist where the hand is seen (it is sharper than the pose's).
    """
    lens = rest_lengths(rest)
    P = obs.pose_filled

    def xy(pt):
        return np.stack([pt[..., 0] / s, -pt[..., 1] / s], axis=-1)

    out = {}
    sl, sr = xy(P[:, L_SHOULDER]), xy(P[:, R_SHOULDER])
    w2 = np.linalg.norm(sl - sr, axis=-1)
    dz_sh = lift_steps(w2, lens["shoulders"], depth_hint(obs, L_SHOULDER, R_SHOULDER, s), 0.0)
    zl, zr = dz_sh / 2, -dz_sh / 2
    for side, (sh, el, wr), zs, S2 in (("left", (L_SHOULDER, L_ELBOW, L_WRIST), zl, sl),
                                       ("right", (R_SHOULDER, R_ELBOW, R_WRIST), zr, sr)):
        k = 0 if side == "left" else 1
        E2 = xy(P[:, el])
        W2 = xy(P[:, wr])
        hw = xy(obs.hands[:, k, 0])
        W2 = np.where(obs.hand_valid[:, k, None], hw, W2)
        dz_u = lift_steps(np.linalg.norm(E2 - S2, axis=-1), lens["upper_arm"], depth_hint(obs, el, sh, s), 0.3)
        dz_f = lift_steps(np.linalg.norm(W2 - E2, axis=-1), lens["forearm"], depth_hint(obs, wr, el, s), 1.0)
        S = np.concatenate([S2, zs[:, None]], axis=-1)
        E = np.concatenate([E2, (zs + dz_u)[:, None]], axis=-1)
        W = np.concatenate([W2, (zs + dz_u + dz_f)[:, None]], axis=-1)
        out[f"{side}_shoulder"], out[f"{side}_elbow"], out[f"{side}_wrist"] = S, E, W
        out[f"{side}_dz_upper"], out[f"{side}_dz_fore"] = dz_u, dz_f
    return out


def hand_points_3d(obs: Observations, side: int, s: float) -> np.ndarray:
    """(T, 21, 3) hand landmarks in metres, world axes, relative to the hand's wrist (NaN where unseen).

    MediaPipe's hand z is relative to the wrist and scaled like x; it is far better than the
    pose's z and gives the palm's orientation and the fingers' flexion out of the image plane.
    """
    h = obs.hands[:, side]
    rel = h - h[:, :1]
    return np.stack([rel[..., 0] / s, -rel[..., 1] / s, -rel[..., 2] / s], axis=-1)
