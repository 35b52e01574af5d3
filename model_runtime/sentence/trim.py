"""Which frames of a generated sign carry the sign: trimming idle frames, letter holds.

Both functions take the (T, P, 3) hand points of :func:`.kinematics.hand_points` (pelvis
height subtracted from y) and return a half-open frame range ``(start, end)``.
"""

from __future__ import annotations

import numpy as np

from .config import SentenceConfig
from .kinematics import WRISTS, point_speed


def idle_mask(points: np.ndarray, fps: float, cfg: SentenceConfig, rest_is_idle: bool = True) -> np.ndarray:
    """(T,) True where the hands are still (slow) or, with ``rest_is_idle``, both hang at rest
    (wrists below ``rest_height`` above the pelvis)."""
    speed = point_speed(points, fps)
    threshold = max(cfg.idle_speed, cfg.idle_relative * float(np.percentile(speed, 95))) if len(speed) else 0.0
    still = speed < threshold
    if not rest_is_idle:
        return still
    return still | (points[:, list(WRISTS), 1] < cfg.rest_height).all(axis=1)


def trim_idle(points: np.ndarray, fps: float, cfg: SentenceConfig, keep_head: bool = False,
              keep_tail: bool = False) -> tuple[int, int]:
    """Drop idle frames at both ends, keeping ``trim_margin`` of them and at least ``min_sign``.

    ``keep_head``/``keep_tail``: at that end only still frames are idle, so the raise from
    (or the return to) the rest pose is kept; the first and last signs of a sentence use it.
    """
    T = len(points)
    idle = idle_mask(points, fps, cfg)
    active = np.flatnonzero(~idle)
    if keep_head or keep_tail:
        moving = np.flatnonzero(~idle_mask(points, fps, cfg, rest_is_idle=False))
        if len(moving) and len(active):
            active = np.array([moving[0] if keep_head else active[0], moving[-1] if keep_tail else active[-1]])
        elif len(moving):
            active = moving
    margin = int(round(cfg.trim_margin * fps))
    keep = max(1, min(T, int(round(cfg.min_sign * fps))))
    if len(active) == 0:  # nothing moves: keep the middle
        start = (T - keep) // 2
        return start, start + keep
    start = max(0, int(active[0]) - margin)
    end = min(T, int(active[-1]) + 1 + margin)
    if end - start < keep:  # grow symmetrically around the active part, inside the clip
        grow = keep - (end - start)
        start = max(0, start - grow // 2)
        end = min(T, start + keep)
        start = max(0, end - keep)
    return start, end


def dominant_hand(points: np.ndarray) -> int:
    """Index (into ``points``) of the wrist that is raised more over the clip (ties: the right)."""
    left, right = WRISTS
    return left if points[:, left, 1].mean() > points[:, right, 1].mean() + 1e-3 else right


def letter_hold(points: np.ndarray, fps: float, cfg: SentenceConfig, moving: bool) -> tuple[int, int]:
    """The frames that show a fingerspelled letter.

    A static letter is its held handshape: ``letter_duration`` seconds centred on the
    stillest frame of the dominant hand among the frames where that hand is raised. A moving
    letter (J, Z) keeps its whole trimmed movement.
    """
    start, end = trim_idle(points, fps, cfg)
    if moving:
        return start, end
    T = len(points)
    n = max(1, min(T, int(round(cfg.letter_duration * fps))))
    hand = dominant_hand(points)
    speed = np.linalg.norm(np.gradient(points[:, hand:hand + 1], axis=0), axis=-1)[:, 0] * fps if T > 1 else np.zeros(T)
    raised = points[:, hand, 1] >= cfg.rest_height
    candidates = np.arange(start, end)
    if raised[start:end].any():
        candidates = candidates[raised[start:end]]
    centre = int(candidates[np.argmin(speed[candidates])])
    lo = min(max(0, centre - n // 2), T - n)
    return lo, lo + n
