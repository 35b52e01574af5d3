"""From a :class:`LandmarkSequence` to the IK's targets: image-plane points per marker.

Image plane units ("height units"): ``u = x * W/H``, ``v = y`` for normalised MediaPipe
coordinates (x right, y down, both divided by the image size), so one unit is the image
height in both directions and a circle stays a circle. MediaPipe's relative z is scaled
like x (``z * W/H``). When the image size is unknown (shards of phone and webcam
recordings) the aspect ratio W/H is estimated from the signer's head: in real frontal
clips the eyes sit 0.69 shoulder widths above the shoulder line (median of the shared
dictionary videos' 229 camera clips; per-clip estimates land within about 10 % of the
true ratio there).

World axes of the IK (SMPL-X body frame): X = image right (the signer's left when the
signer faces the camera), Y = image up, Z = towards the camera.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SignAvatarError
from .markers import (L_EAR, L_EYE, L_SHOULDER, L_WRIST, NOSE, R_EAR, R_EYE, R_SHOULDER, R_WRIST, MarkerSet)

EYE_HEIGHT_RATIO = 0.690  # eye line above the shoulder line / shoulder width (frontal, MediaPipe)
EAR_HEIGHT_RATIO = 0.632
NOSE_HEIGHT_RATIO = 0.588
ASPECT_RANGE = (0.35, 2.6)
OFF_IMAGE_WEIGHT = 0.2  # weight factor of pose landmarks outside the image
HAND_WRIST_MAX_DIST = 0.8  # a hand whose wrist is this many shoulder widths from the pose wrist is a misdetection


@dataclass
class Observations:
    """Targets of one clip (T frames, M markers of :func:`.markers.marker_set`).

    ``uv`` (T, M, 2) image-plane targets in height units (0 where missing), ``weight`` (T, M)
    (0 where missing), ``pose`` (T, 33, 3) (``pose_filled``: gaps of each point interpolated in
    time, for first guesses) and ``hands`` (T, 2, 21, 3) as (u, v, z) in height
    units, ``face`` (T, 40, 3) likewise, ``pose_world`` (T, 33, 3) metres in the IK's world
    axes or None, ``valid`` (T,) body seen, ``hand_valid`` (T, 2), ``pose_seen`` (T, 33) pose
    landmarks inside the image and not doubted by MediaPipe (visibility >= 0.5 where known), ``shoulder_width`` median
    2-D shoulder width (height units), ``aspect`` W/H and whether it was estimated.
    """

    uv: np.ndarray
    weight: np.ndarray
    pose: np.ndarray
    pose_filled: np.ndarray
    hands: np.ndarray
    face: np.ndarray
    pose_world: np.ndarray | None
    visibility: np.ndarray
    valid: np.ndarray
    hand_valid: np.ndarray
    pose_seen: np.ndarray
    shoulder_width: float
    aspect: float
    aspect_estimated: bool

    @property
    def num_frames(self) -> int:
        return int(self.uv.shape[0])


def estimate_aspect(pose: np.ndarray) -> float | None:
    """W/H of the image from normalised pose landmarks (T, 33, 3), or None if the head is never seen.

    Uses the height of the eyes (else ears, else nose) above the shoulder line against the
    horizontal shoulder distance, whose frontal ratio is fixed by MediaPipe's own landmark
    placement (module docstring).
    """
    mid = (pose[:, L_SHOULDER, :2] + pose[:, R_SHOULDER, :2]) / 2
    dx = np.abs(pose[:, L_SHOULDER, 0] - pose[:, R_SHOULDER, 0])
    for (a, b), ratio in (((L_EYE, R_EYE), EYE_HEIGHT_RATIO), ((L_EAR, R_EAR), EAR_HEIGHT_RATIO),
                          ((NOSE, NOSE), NOSE_HEIGHT_RATIO)):
        dy = mid[:, 1] - (pose[:, a, 1] + pose[:, b, 1]) / 2
        ok = np.isfinite(dy) & np.isfinite(dx) & (dx > 1e-3) & (dy > 0)
        if ok.sum() >= 1:
            est = float(np.median(dy[ok] / (ratio * dx[ok])))
            return float(np.clip(est, *ASPECT_RANGE))
    return None


def _fill_time(a: np.ndarray, frames_ok: np.ndarray) -> np.ndarray:
    """(T, N, 3): NaNs (and frames not ok) replaced per point and coordinate by linear interpolation
    in time, held at the ends; points never seen stay NaN."""
    out = np.where(frames_ok[:, None, None], a, np.nan)
    idx = np.arange(len(a))
    flat = out.reshape(len(a), -1)
    for c in range(flat.shape[1]):
        ok = np.isfinite(flat[:, c])
        if ok.any() and not ok.all():
            flat[:, c] = np.interp(idx, idx[ok], flat[ok, c])
    return flat.reshape(a.shape)


def _visibility(seq, T: int) -> np.ndarray:
    vis = seq.meta.get("pose_visibility") if isinstance(seq.meta, dict) else None
    if vis is None:
        return np.full((T, 33), np.nan)
    vis = np.asarray(vis, dtype=np.float64)
    if vis.shape != (T, 33):
        return np.full((T, 33), np.nan)
    if np.nanmax(vis, initial=0.0) > 1.5:  # stored x 100
        vis = vis / 100.0
    return vis


def _aspect(seq, pose_n: np.ndarray, name: str) -> tuple[float, bool]:
    """Width over height of the image and whether it was estimated from the landmarks."""
    if seq.image_size is not None:
        w, h = seq.image_size
        if not (w > 0 and h > 0):
            raise SignAvatarError(f"{name}: image_size must be two positive numbers, got {seq.image_size!r}")
        return float(w) / float(h), False
    est = estimate_aspect(pose_n)
    return (est if est is not None else 1.0), True


def _hands_valid(hands, pose, sw: float, valid) -> np.ndarray:
    """(T, 2): a hand counts where all its points are seen, near its wrist, in a frame with shoulders."""
    hand_valid = np.isfinite(hands).all(axis=(2, 3))
    for s, wrist in ((0, L_WRIST), (1, R_WRIST)):
        d = np.linalg.norm(hands[:, s, 0, :2] - pose[:, wrist, :2], axis=-1)
        far = np.isfinite(d) & (d > HAND_WRIST_MAX_DIST * sw)
        hand_valid[:, s] &= ~far
    return hand_valid & valid[:, None]


def _body_targets(markers: MarkerSet, pose, pose_n, vis, valid, uv, weight) -> None:
    """Fill the body markers' targets and weights (in place)."""
    body = markers.pose_index >= 0
    pidx = markers.pose_index[body]
    pts = pose[:, pidx, :2]
    ok = np.isfinite(pts).all(-1) & valid[:, None]
    uv[:, body] = np.where(ok[..., None], pts, 0.0)
    w = np.where(ok, markers.weight[body][None, :], 0.0)
    # landmarks the pose model itself doubts (off screen, occluded) count less
    v = vis[:, pidx]
    w = w * np.where(np.isfinite(v), 0.25 + 0.75 * np.clip(v, 0.0, 1.0), 1.0)
    # ... and so do points outside the image: MediaPipe guesses them from the body's shape
    xy = pose_n[:, pidx, :2]
    inside = ((xy >= -0.02) & (xy <= 1.02)).all(-1)
    weight[:, body] = w * np.where(inside, 1.0, OFF_IMAGE_WEIGHT)


def _hand_targets(markers: MarkerSet, hands, hand_valid, uv, weight) -> None:
    """Fill the hand markers' targets (in place); the pose's coarse hand points only stand in for a lost
    hand, and the pose wrist defers to the hand's."""
    grp = markers.group
    for s, wrist in ((0, L_WRIST), (1, R_WRIST)):
        side_name = "left" if s == 0 else "right"
        ph = np.array([i for i, n in enumerate(markers.names) if grp[i] == "posehand" and f"_{side_name}_" in n])
        weight[:, ph] *= (~hand_valid[:, s])[:, None]
        wi = np.nonzero(markers.pose_index == wrist)[0]
        weight[:, wi] *= np.where(hand_valid[:, s], 0.3, 1.0)[:, None]
    hm = np.nonzero(markers.hand >= 0)[0]
    hpts = hands[:, markers.hand[hm], markers.hand_index[hm], :2]  # (T, Mh, 2)
    hok = hand_valid[:, markers.hand[hm]]
    uv[:, hm] = np.where(hok[..., None], hpts, 0.0)
    weight[:, hm] = np.where(hok, markers.weight[hm][None, :], 0.0)


def _pose_world(seq, valid) -> np.ndarray | None:
    """MediaPipe's metric world landmarks in the IK's world axes (y and z negated), or None when none is seen."""
    if seq.pose_world is None:
        return None
    pw = np.asarray(seq.pose_world, dtype=np.float64) * np.array([1.0, -1.0, -1.0])
    return pw if np.isfinite(pw[valid]).any() else None


def observe(seq, markers: MarkerSet) -> Observations:
    """Gather the targets of ``seq`` (a :class:`LandmarkSequence`); raises :class:`SignAvatarError`
    when no frame shows the signer's shoulders."""
    T = seq.num_frames
    name = seq.source or "landmarks"
    pose_n = np.asarray(seq.pose, dtype=np.float64)
    shoulders_ok = np.isfinite(pose_n[:, [L_SHOULDER, R_SHOULDER], :2]).all(axis=(1, 2))
    if not shoulders_ok.any():
        raise SignAvatarError(f"{name}: no frame of {T} shows the signer's shoulders (all body landmarks are "
                              "missing or NaN); inverse kinematics needs the upper body in view — check that the "
                              "clip shows a person, facing the camera, waist or chest up")
    aspect, estimated = _aspect(seq, pose_n, name)

    def scale(a):
        a = np.array(a, dtype=np.float64)
        a[..., 0] *= aspect
        a[..., 2] *= aspect
        return a

    pose = scale(pose_n)
    hands = np.stack([scale(seq.left_hand), scale(seq.right_hand)], axis=1)
    vis = _visibility(seq, T)
    sw_t = np.linalg.norm(pose[:, L_SHOULDER, :2] - pose[:, R_SHOULDER, :2], axis=-1)
    sw = float(np.nanmedian(sw_t[shoulders_ok]))
    if not sw > 1e-4:
        raise SignAvatarError(f"{name}: the shoulders coincide in the image (width {sw:.2g}); the landmarks are "
                              "degenerate")
    valid = shoulders_ok.copy()
    hand_valid = _hands_valid(hands, pose, sw, valid)
    uv, weight = np.zeros((T, len(markers), 2)), np.zeros((T, len(markers)))
    _body_targets(markers, pose, pose_n, vis, valid, uv, weight)
    _hand_targets(markers, hands, hand_valid, uv, weight)
    inside_all = ((pose_n[..., :2] >= -0.02) & (pose_n[..., :2] <= 1.02)).all(-1)
    pose_seen = np.isfinite(pose_n).all(-1) & inside_all & valid[:, None] & ~(np.isfinite(vis) & (vis < 0.5))
    return Observations(uv=uv, weight=weight, pose=pose, pose_filled=_fill_time(pose, shoulders_ok), hands=hands,
                        face=scale(seq.face), pose_world=_pose_world(seq, valid), visibility=vis, valid=valid,
                        hand_valid=hand_valid, pose_seen=pose_seen, shoulder_width=sw, aspect=aspect,
                        aspect_estimated=estimated)
