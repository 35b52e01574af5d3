"""Cutting a long recording into signs at motion pauses (landmarks in, frame ranges out; numpy + scipy).

A **pause** is a stretch where both hands are down at rest for at least ``min_pause_s``, or both
hands are still (wherever they are) for at least ``min_hold_s``, or the signer is not in view
(:mod:`.signer_track`). Everything between two pauses is one **sign**; a movement shorter than
``min_sign_s`` (scratching, a twitch) is left out and listed in :attr:`Segmentation.ignored`.
A **cut** is the middle of the pause between two signs; each sign's frames run from its first
to its last moving frame, widened by ``pad_s`` into the pauses around it (never past a cut).

Measures (image plane, height units, x scaled by W/H where the image size is known):

* hand position: the pose wrists (points 15 and 16; MediaPipe places them even when the hand
  is out of the image), low-passed at ``smooth_hz`` (zero-phase Butterworth);
* hand speed: the position's rate of change in **shoulder widths per second** (the median
  shoulder width of the clip); "still" is below ``still_speed``;
* "down at rest": the wrist more than ``rest_below`` shoulder widths below the shoulder line
  (hands hanging or in the lap: 1.4-1.7 in the shared StartASL clips' rest poses, 0.9 or less
  while signing).

The defaults were set on concatenated shared dictionary clips (see the README's Data section for
how close the cuts land); a conversational recording where the hands never drop needs a shorter
``min_hold_s``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import SignAvatarError
from .sequence import LandmarkSequence
from .signer_track import runs

L_SHOULDER, R_SHOULDER, L_WRIST, R_WRIST = 11, 12, 15, 16


@dataclass(frozen=True)
class SegmentConfig:
    min_pause_s: float = 0.2  # hands down this long = a pause between signs
    min_hold_s: float = 1.2  # both hands still (raised or not) this long = a pause too
    still_speed: float = 0.5  # shoulder widths per second: a wrist slower than this is still
    rest_below: float = 1.2  # wrist this many shoulder widths below the shoulder line = down at rest
    min_sign_s: float = 0.3  # movements shorter than this are not signs
    pad_s: float = 0.15  # frames kept on each side of a sign's movement (not past a cut)
    smooth_hz: float = 4.0  # low-pass of the wrist tracks before the speed is taken


@dataclass
class Segment:
    """One sign: ``start:stop`` frames written out, ``moving`` the (first, last + 1) moving frame."""

    start: int
    stop: int
    moving: tuple[int, int]


@dataclass
class Segmentation:
    """What :func:`segment_signs` found; frames count the input sequence's frames."""

    fps: float
    frames: int
    segments: list[Segment]
    cuts: list[float]  # seconds: the middle of each pause between two signs
    speed: np.ndarray = field(repr=False)  # (T, 2) left, right wrist speed (shoulder widths / s)
    down: np.ndarray = field(repr=False)  # (T,) both hands down at rest (or signer lost)
    pause: np.ndarray = field(repr=False)  # (T,) frames counted as a pause
    ignored: list = field(default_factory=list)  # (start_s, stop_s) movements too short to be a sign

    def spans_s(self) -> list[tuple[float, float]]:
        return [(s.start / self.fps, s.stop / self.fps) for s in self.segments]

    def describe(self) -> str:
        """One line per sign: its place in seconds."""
        return ", ".join(f"{k + 1}: {a:.2f}\u2013{b:.2f} s" for k, (a, b) in enumerate(self.spans_s()))


def _fill(x: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """(T, D) with rows not ``ok`` linearly interpolated (held at the ends)."""
    if ok.all():
        return x.copy()
    idx = np.arange(len(x))
    return np.stack([np.interp(idx, idx[ok], x[ok, d]) for d in range(x.shape[1])], axis=1)


def _lowpass(x: np.ndarray, fps: float, hz: float) -> np.ndarray:
    from scipy.signal import butter, sosfiltfilt

    if hz <= 0 or len(x) < 16 or hz >= 0.45 * fps:
        return x
    sos = butter(2, hz, btype="low", fs=fps, output="sos")
    return sosfiltfilt(sos, x, axis=0)


def hand_measures(seq: LandmarkSequence, config: SegmentConfig, lost: np.ndarray | None = None):
    """((T, 2) wrist speed in shoulder widths per second, (T, 2) wrist depth below the shoulder line in
    shoulder widths, (T,) frames without the signer)."""
    pose = np.asarray(seq.pose, dtype=np.float64)[..., :2].copy()
    if seq.image_size is not None and seq.image_size[1] > 0:
        pose[..., 0] *= seq.image_size[0] / seq.image_size[1]
    pts = pose[:, [L_SHOULDER, R_SHOULDER, L_WRIST, R_WRIST]]  # (T, 4, 2)
    seen = np.isfinite(pts).all(axis=(1, 2))
    if lost is not None:
        seen &= ~lost
    if seen.sum() < 2:
        raise SignAvatarError(f"{seq.source or 'landmarks'}: the signer's shoulders and wrists are seen in "
                              f"{int(seen.sum())} of {seq.num_frames} frames; too few to find the signs")
    width = float(np.median(np.linalg.norm(pts[seen, 0] - pts[seen, 1], axis=-1)))
    if not width > 1e-4:
        raise SignAvatarError(f"{seq.source or 'landmarks'}: the shoulders coincide; the landmarks are degenerate")
    flat = _lowpass(_fill(pts.reshape(len(pts), -1), seen), seq.fps, config.smooth_hz).reshape(pts.shape)
    vel = np.gradient(flat[:, 2:], axis=0) * seq.fps  # (T, 2, 2)
    speed = np.linalg.norm(vel, axis=-1) / width
    shoulder_y = flat[:, :2, 1].mean(axis=1)
    below = (flat[:, 2:, 1] - shoulder_y[:, None]) / width
    return speed, below, ~seen


def _drop_short(mask: np.ndarray, n: int) -> np.ndarray:
    """``mask`` with True runs shorter than ``n`` frames set False."""
    out = mask.copy()
    for a, b in runs(mask):
        if b - a < n:
            out[a:b] = False
    return out


def segment_signs(seq: LandmarkSequence, config: SegmentConfig = SegmentConfig(),
                  lost: np.ndarray | None = None) -> Segmentation:
    """Find the signs of ``seq`` (see the module docstring). ``lost``: (T,) frames without the signer
    (e.g. ``meta["signer_lost"]`` of :func:`.signer_track.clean_signer`); they count as a pause."""
    if lost is None and isinstance(seq.meta.get("signer_lost"), np.ndarray):
        lost = seq.meta["signer_lost"] if len(seq.meta["signer_lost"]) == seq.num_frames else None
    fps, T = seq.fps, seq.num_frames
    speed, below, unseen = hand_measures(seq, config, lost)
    down = ((below > config.rest_below).all(axis=1)) | unseen
    still = (speed < config.still_speed).all(axis=1) | unseen
    pause = (_drop_short(down, max(1, round(config.min_pause_s * fps)))
             | _drop_short(still, max(1, round(config.min_hold_s * fps))))
    moving = [(a, b) for a, b in runs(~pause)]
    min_sign = max(1, round(config.min_sign_s * fps))
    ignored = [(a / fps, b / fps) for a, b in moving if b - a < min_sign]
    moving = [(a, b) for a, b in moving if b - a >= min_sign]
    cuts = [(b0 + a1) / 2 for (_, b0), (a1, _) in zip(moving, moving[1:])]
    pad = round(config.pad_s * fps)
    bounds = [0.0] + cuts + [float(T)]
    segments = []
    for k, (a, b) in enumerate(moving):
        start = max(a - pad, int(np.ceil(bounds[k])))
        stop = min(b + pad, int(np.floor(bounds[k + 1])))
        segments.append(Segment(start=int(start), stop=int(max(stop, start + 1)), moving=(int(a), int(b))))
    return Segmentation(fps=fps, frames=T, segments=segments, cuts=[c / fps for c in cuts], speed=speed,
                        down=down, pause=pause, ignored=ignored)


def match_glosses(found: Segmentation, glosses: list[str], source: str) -> None:
    """Refuse, naming what was found, when the signs found and the glosses given differ in number."""
    n, m = len(found.segments), len(glosses)
    if n == m:
        return
    where = found.describe() or "none"
    hint = ("fewer pauses were found than expected: lower --min-pause / --min-hold or check that the hands drop "
            "between signs" if n < m else "more pauses were found than expected: raise --min-pause / --min-hold "
            "or --min-sign")
    raise SignAvatarError(f"{source}: found {n} sign{'s' * (n != 1)} at motion pauses but the gloss list has {m} "
                          f"({', '.join(glosses[:8])}{' ...' if m > 8 else ''}); signs found at {where}; {hint}. "
                          "See the cuts with 'data segment VIDEO --out DIR --preview cuts.png'")
