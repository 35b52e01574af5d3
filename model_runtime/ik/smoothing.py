"""Time: filling frames the landmarks missed, then low-pass filtering the joint angles.

Gaps (per-frame validity masks are kept by the caller):

* frames without a body: every angle interpolated between the nearest seen frames (held
  at the ends);
* a lost hand (fingers, wrist swing, forearm twist): gaps up to ``max_gap_s`` are
  interpolated between the frames around them; in longer gaps the hand holds its last
  (or next) seen pose and eases, with a smoothstep over ``relax_s``, towards a relaxed
  half-open hand with a neutral wrist; a hand never seen stays relaxed.

Smoothing happens in two steps (:mod:`.solve`):

1. a temporal phase of the refinement (:mod:`.optimize`): starting from the frame-by-frame
   fit with its gaps filled, Adam continues with a penalty on the angles' acceleration.
   Unlike a filter applied to the angles afterwards, it keeps the skeleton on the
   landmarks while it smooths: jitter that the joints of a chain cancel out between
   them (a shoulder twitching one way, the elbow the other) is removed without moving
   the hand. On 36 shared clips (12 each of GISLR, MP_Data and dictionary videos) it cut
   the jerk by 55-70 % for 0.2-0.5 % of shoulder width more body re-projection error; a
   filter alone needed 0.5-0.8 % for the same cut;
2. a light zero-phase low-pass on the result (:func:`smooth_theta`): a 2nd-order
   Butterworth run forwards and backwards (``sosfiltfilt``, effectively 4th order), 8 Hz
   for the body and 10 Hz for wrists and fingers, lowered to 0.45 of the frame rate when
   that is low. Why Butterworth and not Savitzky-Golay: its pass band is flat up to the
   cut-off, so the 0.5-5 Hz movements of signing keep their amplitude, and zero phase
   keeps holds and contacts at their frames; its stop band falls off steeply, where a
   Savitzky-Golay filter's side lobes let part of MediaPipe's frame-to-frame jitter
   through - and jerk weighs noise by frequency cubed. Cut-offs of 6-8 Hz are usual for
   human movement (Winter, *Biomechanics and Motor Control of Human Movement*, 2009);
   handshape changes in fingerspelling reach higher, hence 10 Hz for the hands.

Bounded anatomical angles are filtered as they are (they stay well inside (-pi, pi));
the free rotations (root, shoulders) as hemisphere-continuous quaternions, renormalised.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

from .. import rotations as rot
from .limits import DofModel

# relaxed hand (degrees) for long gaps: MCP / PIP / DIP flexion per finger, thumb
_RELAXED = {"index1_flex": 15, "middle1_flex": 20, "ring1_flex": 25, "pinky1_flex": 30,
            "index2_flex": 25, "middle2_flex": 30, "ring2_flex": 30, "pinky2_flex": 30,
            "index3_flex": 10, "middle3_flex": 12, "ring3_flex": 12, "pinky3_flex": 12,
            "thumb1_flex": 10, "thumb1_abd": 10, "thumb2_flex": 15, "thumb3_flex": 10}


def hand_columns(model: DofModel, side: str) -> list[int]:
    """Columns of one hand: fingers, wrist swing, forearm twist."""
    keys = ("thumb", "index", "middle", "ring", "pinky", "wrist", "forearm")
    return [i for i, n in enumerate(model.names) if n.startswith(side + "_") and n.split("_")[1].startswith(keys)]


def relaxed_values(model: DofModel, side: str) -> np.ndarray:
    cols = hand_columns(model, side)
    out = np.zeros(len(cols))
    for k, c in enumerate(cols):
        key = model.names[c][len(side) + 1:]
        out[k] = np.deg2rad(_RELAXED.get(key, 0.0))
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) runs of True."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]))


def interpolate_missing(x: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Linear interpolation along axis 0 of (T, ...) where ``ok`` is False (held at the ends)."""
    if ok.all() or not ok.any():
        return x.copy()
    T = len(x)
    idx = np.arange(T)
    flat = x.reshape(T, -1).copy()
    good = np.nonzero(ok)[0]
    for c in range(flat.shape[1]):
        flat[~ok, c] = np.interp(idx[~ok], good, flat[good, c])
    return flat.reshape(x.shape)


def fill_hand(theta: np.ndarray, seen: np.ndarray, cols: list[int], relaxed: np.ndarray, fps: float,
              max_gap_s: float, relax_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Fill one hand's columns where it was not seen; returns (theta, filled (T,) bool)."""
    theta = theta.copy()
    T = len(theta)
    sub = theta[:, cols]
    filled = np.zeros(T, dtype=bool)
    if not seen.any():
        theta[:, cols] = relaxed
        filled[:] = True
        return theta, filled
    interp = interpolate_missing(sub, seen)
    max_gap = max(1, int(round(max_gap_s * fps)))
    ramp = max(1.0, relax_s * fps)
    for a, b in _runs(~seen):
        filled[a:b] = True
        inner = a > 0 and b < T
        if inner and b - a <= max_gap:
            sub[a:b] = interp[a:b]
            continue
        for t in range(a, b):
            d_prev = t - a + 1 if a > 0 else np.inf
            d_next = b - t if b < T else np.inf
            near = sub[a - 1] if d_prev <= d_next else sub[b]
            x = min(1.0, min(d_prev, d_next) / ramp)
            w = x * x * (3 - 2 * x)
            sub[t] = (1 - w) * near + w * relaxed
    theta[:, cols] = sub
    return theta, filled


def _quat_continuous(rv: np.ndarray) -> np.ndarray:
    """(T, 3) axis-angle -> (T, 4) XYZW quaternions on one hemisphere along time."""
    return rot.align_hemisphere(rot.axis_angle_to_quat(rv))


def lowpass(x: np.ndarray, fps: float, cutoff_hz: float) -> np.ndarray:
    """Zero-phase 2nd-order Butterworth along axis 0 (returned unchanged when too short)."""
    T = len(x)
    if T < 4 or cutoff_hz <= 0:
        return x.copy()
    fc = min(cutoff_hz, 0.45 * fps)
    sos = butter(2, fc, btype="low", fs=fps, output="sos")
    padlen = min(3 * (2 * len(sos) + 1), T - 1)
    return sosfiltfilt(sos, x, axis=0, padlen=padlen)


def smooth_theta(theta: np.ndarray, model: DofModel, fps: float, cutoff_body: float, cutoff_hand: float) -> np.ndarray:
    """Low-pass every angle (free rotations through continuous quaternions); see the module docstring."""
    out = theta.copy()
    hand = set(hand_columns(model, "left") + hand_columns(model, "right"))
    free_groups: dict[str, list[int]] = {}
    for i, n in enumerate(model.names):
        if model.free[i]:
            free_groups.setdefault(n.rsplit("_", 1)[0], []).append(i)
    bounded = [i for i in range(model.size) if not model.free[i]]
    hb = [i for i in bounded if i in hand]
    bb = [i for i in bounded if i not in hand]
    if bb:
        out[:, bb] = lowpass(theta[:, bb], fps, cutoff_body)
    if hb:
        out[:, hb] = lowpass(theta[:, hb], fps, cutoff_hand)
    for cols in free_groups.values():
        q = lowpass(_quat_continuous(theta[:, cols]), fps, cutoff_body)
        q /= np.linalg.norm(q, axis=-1, keepdims=True)
        out[:, cols] = rot.quat_to_axis_angle(q)
    return out


def fill_body(theta: np.ndarray, valid: np.ndarray, model: DofModel) -> np.ndarray:
    """Fill frames without a body: bounded angles linearly, free rotations through quaternions."""
    if valid.all():
        return theta.copy()
    out = interpolate_missing(theta, valid)
    groups: dict[str, list[int]] = {}
    for i, n in enumerate(model.names):
        if model.free[i]:
            groups.setdefault(n.rsplit("_", 1)[0], []).append(i)
    for cols in groups.values():
        q = np.zeros((len(theta), 4))
        q[valid] = _quat_continuous(theta[valid][:, cols])
        q = interpolate_missing(q, valid)
        q /= np.linalg.norm(q, axis=-1, keepdims=True)
        out[:, cols] = rot.quat_to_axis_angle(q)
    return out


def clamp_to_limits(theta: np.ndarray, model: DofModel) -> np.ndarray:
    """Every angle into its range, and each shoulder into its cone and twist range."""
    from .limits import clamp_shoulder

    out = np.clip(theta, np.where(model.free, -np.inf, model.lo), np.where(model.free, np.inf, model.hi))
    for side in ("left", "right"):
        cols = [model.index[f"{side}_shoulder_r{k}"] for k in "xyz"]
        out[:, cols] = clamp_shoulder(out[:, cols], side)
    return out
