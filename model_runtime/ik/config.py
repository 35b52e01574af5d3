"""Settings of the landmark -> SMPL-X inverse kinematics (one frozen dataclass)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class IKConfig:
    # refinement (torch, all frames at once)
    iterations: int = 25  # Adam steps after the closed-form first guess (frames independent)
    lr: float = 0.03  # Adam step size on the joint angles (radians)
    lr_scale: float = 0.05  # on log(scale) and log(focal length)
    robust_delta: float = 0.04  # pseudo-Huber knee of the re-projection residual, in shoulder widths
    w_body: float = 1.0  # body + face re-projection
    w_hand: float = 1.0  # per hand: its 20 points about its wrist
    hand_position_weight: float = 2.0  # the hand's wrist, as a body marker (shoulders, elbows weigh 1)
    hand_absolute_weight: float = 0.3  # the 20 points' absolute places (their size: perspective, proportions)
    w_depth: float = 0.02  # lifted depth of elbows and wrists (keeps the depth sign of the first guess)
    w_hand_depth: float = 0.02  # MediaPipe's hand z relative to the wrist
    w_limits: float = 20.0  # squared excess over anatomical limits (radians^2)
    w_prior: float = 1.0  # scales the comfort priors (collars, spine spread, twists, upright torso)
    w_scale: float = 1.0  # keeps the clip's scale near the shoulder-width estimate (log-scale squared)
    focal: float = 0.0  # focal length guess, image heights (camera.py); 0 = from the hands' size (depth.py)
    w_focal: float = 0.005  # pull of log(focal) towards that guess
    # time
    smooth: bool = True  # the temporal phase and the low-pass filter (False: frame-by-frame fit only)
    smooth_iterations: int = 40  # Adam steps of the temporal phase (acceleration penalty on)
    w_temporal: float = 0.03  # acceleration penalty, per squared radian of second difference at 30 fps
    max_gap_s: float = 0.3  # a lost hand is interpolated across gaps up to this long...
    relax_s: float = 0.4  # ...and eases towards a relaxed hand over this long in longer gaps
    cutoff_body_hz: float = 8.0  # zero-phase Butterworth cut-off after the temporal phase (0 = none)
    cutoff_hand_hz: float = 10.0  # for wrists and fingers (handshape changes are faster)
    threads: int = 0  # torch intra-op threads for the refinement (0 = leave as is)

    def to_dict(self) -> dict:
        return asdict(self)
