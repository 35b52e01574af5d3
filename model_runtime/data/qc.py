"""Quality control of one clip: idle trimming, lost hands, re-projection thresholds.

The builder's quality rules (the paper's "quality control", in our terms), all in
:class:`QCConfig`:

1. **Idle start/end.** A frame is idle when both wrists rest (lower than
   ``rest_below_shoulders`` shoulder widths under the shoulder line, or not seen) and both
   move slower than ``still_speed`` shoulder widths per second. Leading and trailing idle
   frames are cut, keeping ``margin_s`` of them on each side for the lift-off and return.
2. **Lost hands.** Frames at either end where neither hand was detected are cut; a run of
   more than ``max_hands_lost_s`` seconds with neither hand *inside* the sign drops the clip
   (cutting frames out of the middle would make the motion jump; the inverse kinematics
   only fills shorter gaps).
3. **Frames the IK could not solve** (its validity mask) are cut at the ends; a clip left
   with less than ``min_valid_share`` valid frames is dropped.
4. **Hands off the body**: the hand points' wrists lie more than ``max_hand_wrist_gap``
   shoulder widths from the body's wrists (median; a broken recording, see
   :func:`..landmarks.handedness.hand_wrist_gap`): dropped.
5. **Re-projection error** (2D error of the fitted skeleton against the landmarks, in
   shoulder widths, from the IK quality figures): a clip above ``max_reproj_body`` or
   ``max_reproj_hand`` is dropped, as is one whose joint-limit violations exceed
   ``max_limit_violation``.
6. Clips shorter than ``min_frames`` after trimming are dropped.

Per-frame signals come from the landmarks (:func:`frame_signals`) so that the rules can be
re-run with other thresholds without repeating the IK.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np

from ..landmarks.handedness import LEFT_SHOULDER, RIGHT_SHOULDER, image_xy, wrist_track, shoulder_width
from ..landmarks.sequence import LandmarkSequence


@dataclass(frozen=True)
class QCConfig:
    rest_below_shoulders: float = 1.1  # a wrist this many shoulder widths below the shoulders rests
    still_speed: float = 0.8  # shoulder widths per second; slower wrists are still
    margin_s: float = 0.1  # idle time kept before and after the sign
    max_hands_lost_s: float = 0.5  # longest run without either hand inside a clip
    min_valid_share: float = 0.5  # share of frames the IK solved
    max_reproj_body: float = 0.10  # mean 2D body error, shoulder widths
    max_reproj_hand: float = 0.15  # mean 2D hand error, shoulder widths
    max_limit_violation: float = 0.05  # share of frames with a joint past its limit
    max_hand_wrist_gap: float = 0.5  # median hand-wrist to body-wrist distance, shoulder widths
    min_frames: int = 8


def frame_signals(seq: LandmarkSequence) -> dict[str, np.ndarray]:
    """Per-frame arrays the rules need: ``wrist_drop`` (T, 2) shoulder widths below the
    shoulder line (left, right; NaN unseen), ``wrist_speed`` (T, 2) shoulder widths per
    second, ``hand_present`` (T, 2)."""
    sw = shoulder_width(seq)
    xy = image_xy(seq.pose, seq.image_size)
    sh_y = (xy[:, LEFT_SHOULDER, 1] + xy[:, RIGHT_SHOULDER, 1]) / 2
    if np.isfinite(sh_y).any():
        sh_y = np.where(np.isfinite(sh_y), sh_y, np.nanmedian(sh_y))
    wrists = np.stack([wrist_track(seq, "left"), wrist_track(seq, "right")], axis=1)  # (T, 2, 2)
    if not math.isfinite(sw):
        nan = np.full((seq.num_frames, 2), np.nan, dtype=np.float32)
        return {"wrist_drop": nan, "wrist_speed": nan.copy(), "hand_present": seq.hand_present()}
    drop = (wrists[..., 1] - sh_y[:, None]) / sw
    step = np.linalg.norm(np.diff(wrists, axis=0), axis=-1) * seq.fps / sw  # (T-1, 2)
    speed = np.concatenate([step[:1], step], axis=0) if len(step) else np.zeros((1, 2))
    if len(step) > 1:  # centred: the mean of the steps on either side
        speed[1:-1] = (step[:-1] + step[1:]) / 2
    return {"wrist_drop": drop.astype(np.float32), "wrist_speed": speed.astype(np.float32),
            "hand_present": seq.hand_present()}


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def idle_frames(signals: dict, cfg: QCConfig) -> np.ndarray:
    drop, speed = signals["wrist_drop"], signals["wrist_speed"]
    resting = ~(drop <= cfg.rest_below_shoulders)  # NaN (unseen) counts as resting
    still = ~(speed >= cfg.still_speed)
    return (resting & still).all(axis=1)


class QCRule(Enum):
    """The rule that dropped a clip; the value is the drop category the dataset card counts."""

    HANDS_OFF_BODY = "hands off the body"
    NO_MOTION = "no signing motion (hands at rest throughout)"
    NO_HAND = "no hand seen while signing"
    HANDS_LOST = "both hands lost"
    IK_FAILED = "inverse kinematics failed on most frames"
    TOO_SHORT = "too short"
    REPROJ_BODY = "reproj_body"
    REPROJ_HAND = "reproj_hand"
    LIMIT_VIOLATION = "limit_violation_frac"

    @property
    def category(self) -> str:
        """The card's drop reason: ``QC: <value>``."""
        return f"QC: {self.value}"


# quality figure -> (its rule, the QCConfig field holding its limit)
_QUALITY_RULES = (("reproj_body", QCRule.REPROJ_BODY, "max_reproj_body"),
                  ("reproj_hand", QCRule.REPROJ_HAND, "max_reproj_hand"),
                  ("limit_violation_frac", QCRule.LIMIT_VIOLATION, "max_limit_violation"))


@dataclass(frozen=True)
class Verdict:
    """Outcome for one clip: keep frames ``start:stop``, or drop it by ``rule`` (``reason``: the numbers)."""

    start: int
    stop: int
    reason: str = ""  # empty = kept; else the rule with its figures, as the card's dropped_by_qc lists it
    rule: QCRule | None = None

    @property
    def kept(self) -> bool:
        return self.rule is None


def judge(signals: dict, fps: float, valid: np.ndarray | None, quality: dict, cfg: QCConfig,
          hand_wrist_gap: float = float("nan")) -> Verdict:
    """Apply the rules of the module docstring to one clip."""
    T = len(signals["hand_present"])
    if math.isfinite(hand_wrist_gap) and hand_wrist_gap > cfg.max_hand_wrist_gap:
        return Verdict(0, T, f"hands off the body's wrists ({hand_wrist_gap:.2f} shoulder widths)",
                       QCRule.HANDS_OFF_BODY)
    active = ~idle_frames(signals, cfg)
    if not active.any():
        return Verdict(0, T, QCRule.NO_MOTION.value, QCRule.NO_MOTION)
    margin = int(round(cfg.margin_s * fps))
    start = max(0, int(np.argmax(active)) - margin)
    stop = min(T, T - int(np.argmax(active[::-1])) + margin)
    seen = signals["hand_present"].any(axis=1)
    ok = seen if valid is None else seen & np.asarray(valid, dtype=bool)
    inner = np.flatnonzero(ok[start:stop])
    if len(inner) == 0:
        return Verdict(start, stop, QCRule.NO_HAND.value, QCRule.NO_HAND)
    start, stop = start + int(inner[0]), start + int(inner[-1]) + 1
    longest = max((b - a for a, b in _runs(~seen[start:stop])), default=0)
    if longest > cfg.max_hands_lost_s * fps:
        return Verdict(start, stop, f"both hands lost for {longest / fps:.2f} s inside the sign", QCRule.HANDS_LOST)
    if valid is not None and np.mean(np.asarray(valid, dtype=bool)[start:stop]) < cfg.min_valid_share:
        return Verdict(start, stop, QCRule.IK_FAILED.value, QCRule.IK_FAILED)
    if stop - start < cfg.min_frames:
        return Verdict(start, stop, f"too short after trimming ({stop - start} frames < {cfg.min_frames})",
                       QCRule.TOO_SHORT)
    for key, rule, limit_field in _QUALITY_RULES:
        v, limit = quality.get(key), getattr(cfg, limit_field)
        if v is not None and math.isfinite(float(v)) and float(v) > limit:
            return Verdict(start, stop, f"{key} {float(v):.3f} > {limit:g}", rule)
    return Verdict(start, stop)
