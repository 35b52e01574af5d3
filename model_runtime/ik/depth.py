"""Depth of the body under our skeleton's fixed bone lengths.

The first guesses here use the scaled orthographic camera (``(u, v) = s * (X, -Y) + c_t``);
the refinement then uses the perspective camera of :mod:`.camera`, whose focal length is
first guessed by :func:`initial_focal`.

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


def _unproject(parent: np.ndarray, ab: np.ndarray, L: float, kappa: float, hint: np.ndarray,
               prior_sign: float) -> np.ndarray:
    """3-D child (T, 3) at distance ``L`` from ``parent`` (T, 3) on the camera ray of image point
    ``ab`` (T, 2) (metres at the look point's depth, Y up): X = a (1 - kappa Z), Y = b (1 - kappa Z).

    Of the two solutions the one nearer the camera is taken where ``hint`` says so (and is
    decisive), else the farther one, else (prior 0) the one closest to the image plane; when
    the bone cannot reach the ray the nearest point is used.
    """
    a, b = ab[:, 0], ab[:, 1]
    A, B, zp = a - parent[:, 0], b - parent[:, 1], parent[:, 2]
    qa = (a * a + b * b) * kappa * kappa + 1.0
    qb = -2.0 * ((A * a + B * b) * kappa + zp)
    qc = A * A + B * B + zp * zp - L * L
    disc = np.clip(qb * qb - 4.0 * qa * qc, 0.0, None)
    zmid = -qb / (2.0 * qa)
    half = np.sqrt(disc) / (2.0 * qa)
    decisive = np.abs(hint) > SIGN_DECISIVE * L
    sign = np.where(decisive, np.sign(hint), prior_sign)
    Z = zmid + sign * half
    k = 1.0 - kappa * Z
    return np.stack([a * k, b * k, Z], axis=-1)


def lift_arms(obs: Observations, rest: RestSkeleton, s: float, focal: float = np.inf) -> dict[str, np.ndarray]:
    """3-D shoulder, elbow and wrist positions (T, 3) in metres, one per side, about the
    shoulders' midpoint (X right, Y up, Z towards the camera), from the 2-D landmarks and
    the bone lengths under the camera of :mod:`.camera` (scale ``s``, focal length ``focal``).

    The wrist uses the hand model's wrist where the hand is seen (it is sharper than the pose's).
    Also returns the depth steps ``<side>_dz_upper`` / ``<side>_dz_fore`` (T,).
    """
    lens = rest_lengths(rest)
    P = obs.pose_filled
    kappa = 0.0 if not np.isfinite(focal) else s / focal
    centre = (P[:, L_SHOULDER, :2] + P[:, R_SHOULDER, :2]) / 2

    def ab(pt):
        return np.stack([(pt[..., 0] - centre[:, 0]) / s, -(pt[..., 1] - centre[:, 1]) / s], axis=-1)

    out = {}
    sl, sr = ab(P[:, L_SHOULDER]), ab(P[:, R_SHOULDER])
    w2 = np.linalg.norm(sl - sr, axis=-1)
    dz_sh = lift_steps(w2, lens["shoulders"], depth_hint(obs, L_SHOULDER, R_SHOULDER, s), 0.0)
    for side, (sh, el, wr), zs, S2 in (("left", (L_SHOULDER, L_ELBOW, L_WRIST), dz_sh / 2, sl),
                                       ("right", (R_SHOULDER, R_ELBOW, R_WRIST), -dz_sh / 2, sr)):
        k = 0 if side == "left" else 1
        W2 = np.where(obs.hand_valid[:, k, None], ab(obs.hands[:, k, 0]), ab(P[:, wr]))
        S = np.concatenate([S2, zs[:, None]], axis=-1)
        E = _unproject(S, ab(P[:, el]), lens["upper_arm"], kappa, depth_hint(obs, el, sh, s), 0.3)
        W = _unproject(E, W2, lens["forearm"], kappa, depth_hint(obs, wr, el, s), 1.0)
        out[f"{side}_shoulder"], out[f"{side}_elbow"], out[f"{side}_wrist"] = S, E, W
        out[f"{side}_dz_upper"], out[f"{side}_dz_fore"] = E[:, 2] - S[:, 2], W[:, 2] - E[:, 2]
    return out


def hand_points_3d(obs: Observations, side: int, s: float) -> np.ndarray:
    """(T, 21, 3) hand landmarks in metres, world axes, relative to the hand's wrist (NaN where unseen).

    MediaPipe's hand z is relative to the wrist and scaled like x; it is far better than the
    pose's z and gives the palm's orientation and the fingers' flexion out of the image plane.
    """
    h = obs.hands[:, side]
    rel = h - h[:, :1]
    return np.stack([rel[..., 0] / s, -rel[..., 1] / s, -rel[..., 2] / s], axis=-1)


HAND_DEPTH = 0.25  # m: how far in front of the shoulders signing hands typically are
FOCAL_RANGE = (0.5, 10.0)  # image heights: a wide phone lens .. a distant zoomed camera


def initial_focal(obs: Observations, rest: RestSkeleton, s: float) -> float:
    """First guess of the focal length (image heights) from how big the hands look.

    MediaPipe's 3-D hand (x, y and its z, scaled like x) has a size that does not depend on
    the hand's orientation. At the body's scale ``s`` our palm (wrist to middle MCP) would
    look ``s * L``; hands that look ``m`` times bigger are nearer the camera. With hands
    about ``HAND_DEPTH`` in front of the shoulders, ``1 / m = 1 - HAND_DEPTH * s / f``. On
    the shared data ``m`` is about 1.0 for dictionary/studio video (a distant camera),
    1.3 for webcams and 1.5 for phones held at arm's length. Without hands: a webcam's 1.2.
    """
    J = JOINT_INDEX
    L = float(np.linalg.norm(rest.joints[J["left_middle1"]] - rest.joints[J["left_wrist"]]))
    sizes = []
    for k in (0, 1):
        h = obs.hands[obs.hand_valid[:, k], k]
        if len(h):
            sizes.append(np.linalg.norm(h[:, 9] - h[:, 0], axis=-1))
    if not sizes:
        return 1.2
    m = float(np.median(np.concatenate(sizes))) / (s * L)
    if m <= 1.0 / (1.0 - HAND_DEPTH * s / FOCAL_RANGE[1]):
        return FOCAL_RANGE[1]
    f = HAND_DEPTH * s / (1.0 - 1.0 / m)
    return float(np.clip(f, *FOCAL_RANGE))
