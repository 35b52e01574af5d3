"""How smooth the joins are: jerk at the joins against jerk inside the signs.

Jerk = third time-derivative of the hand points (wrists and the ten fingertips, metres,
SMPL-X frame), by third finite differences times fps^3, in m/s^3; a frame's jerk is the mean
over those points. A join region is a transition plus ``margin`` frames on each side (the
cuts and the low-passed seams); the rest of each word's range is "within sign".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..motion import SignMotion
from .kinematics import WRISTS, hand_points


@dataclass(frozen=True)
class JoinJerk:
    join_median: float  # m/s^3, median per-frame jerk in the join regions
    sign_median: float  # m/s^3, median per-frame jerk inside the signs
    join_p95: float
    sign_p95: float
    joins: int

    @property
    def ratio(self) -> float:
        """join_median / sign_median: the goal is <= 1.5."""
        return self.join_median / self.sign_median if self.sign_median > 0 else float("inf")

    @property
    def p95_ratio(self) -> float:
        return self.join_p95 / self.sign_p95 if self.sign_p95 > 0 else float("inf")


def frame_jerk(motion: SignMotion) -> np.ndarray:
    """(T,) per-frame jerk in m/s^3 (NaN at the first frame and the last two, where it is undefined)."""
    pts = hand_points(motion.poses, motion.trans, motion.gender)
    pts = pts[:, list(WRISTS) + list(range(4, pts.shape[1]))]
    out = np.full(motion.num_frames, np.nan)
    if motion.num_frames >= 4:
        d3 = pts[3:] - 3 * pts[2:-1] + 3 * pts[1:-2] - pts[:-3]
        out[1:-2] = np.linalg.norm(d3, axis=-1).mean(-1) * motion.fps ** 3
    return out


def join_jerk(motion: SignMotion, ranges, transitions, margin: int = 3) -> JoinJerk:
    """Compare jerk at the joins with jerk inside the signs (see the module docstring)."""
    jerk = frame_jerk(motion)
    T = len(jerk)
    at_join = np.zeros(T, bool)
    for a, b in transitions:
        at_join[max(0, a - margin):min(T, b + margin)] = True
    in_sign = np.zeros(T, bool)
    for r in ranges:
        in_sign[r[2]:r[3]] = True
    in_sign &= ~at_join
    ok = np.isfinite(jerk)
    j, s = jerk[at_join & ok], jerk[in_sign & ok]
    med = lambda x, q=50: float(np.percentile(x, q)) if len(x) else float("nan")  # noqa: E731
    return JoinJerk(join_median=med(j), sign_median=med(s), join_p95=med(j, 95), sign_p95=med(s, 95),
                    joins=len(transitions))
