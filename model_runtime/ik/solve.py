"""``solve``: landmarks of one clip -> a :class:`SignMotion` on our rest skeleton.

Steps: targets and aspect ratio (:mod:`.observations`) -> scale and lifted arm depth
(:mod:`.depth`) -> closed-form first guess of every joint (:mod:`.body`, :mod:`.hands`,
read as anatomical angles by :mod:`.decompose`) -> refinement of all frames at once
(:mod:`.optimize`) -> gap filling and zero-phase smoothing (:mod:`.smoothing`) -> output
rotations, translation and quality figures (:mod:`.quality`). :func:`solve_batch` runs
many clips through one refinement (same results, far less fixed cost per clip: use it for
datasets of short clips).

Output conventions: SMPL-X joint order, axis-angle, flat hand (zero finger rotation =
straight finger), root orientation and ``trans`` in the SMPL-X body frame (Y-up, facing
+Z); legs and eyes at rest. ``trans`` is the body's movement in the image plane relative
to its median place in the clip (metres; depth 0).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import SignAvatarError
from ..motion import SignMotion
from ..skeleton import GENDERS, JOINT_INDEX
from .config import IKConfig

if TYPE_CHECKING:  # torch-importing module, loaded when the IK runs
    from .quality import IKQuality

J = JOINT_INDEX


@dataclass
class IKResult:
    """Result of :func:`solve`.

    ``motion``: the clip on the ``gender`` rest skeleton; ``valid`` (T,) frames where the body
    was seen (others are interpolated); ``hand_valid`` (T, 2) left/right hand seen (others
    filled, see :mod:`.smoothing`); ``quality``: the :class:`.quality.IKQuality` figures
    (re-projection, limits, jerk, camera, timing; read like a dict); ``theta`` (T, P) final anatomical
    angles (:mod:`.limits`); ``scale`` (image heights per metre), ``focal`` (image heights) and
    ``centre`` (T, 2): the fitted camera of :mod:`.camera` (image points in image heights, x
    scaled by ``aspect`` = W/H) for world points of the motion without ``trans``.
    """

    motion: SignMotion
    valid: np.ndarray
    hand_valid: np.ndarray
    quality: IKQuality
    theta: np.ndarray = field(repr=False, default=None)
    scale: float = 1.0
    focal: float = 1e6
    centre: np.ndarray = field(repr=False, default=None)
    aspect: float = 1.0


@dataclass
class _Clip:
    seq: object
    obs: object
    lifted: dict
    s0: float
    f0: float
    theta0: np.ndarray
    theta_guess: np.ndarray  # the closed-form reading before clamping (limit pressure)
    jaw: np.ndarray
    hand_depth: np.ndarray


def _check(seq) -> None:
    from ..landmarks.sequence import LandmarkSequence

    if not isinstance(seq, LandmarkSequence):
        raise SignAvatarError(f"solve() needs a LandmarkSequence, got {type(seq).__name__}")


def _prepare(seq, rest, model, markers, cfg: IKConfig) -> _Clip:
    """Observations and the closed-form first guess of one clip."""
    from .body import body_local_rotations
    from .decompose import theta_from_local, twist_angle
    from .depth import hand_points_3d, initial_focal, initial_scale, lift_arms
    from .hands import finger_rotations, forearm_and_wrist, palm_rotation
    from .observations import observe
    from .smoothing import hand_columns

    obs = observe(seq, markers)
    s0 = initial_scale(obs, rest)
    f0 = cfg.focal if cfg.focal > 0 else initial_focal(obs, rest, s0)
    lifted = lift_arms(obs, rest, s0, f0)
    init = body_local_rotations(obs, lifted, markers, s0)
    R = init["local"]
    for side in ("left", "right"):
        R_hand, _ = palm_rotation(obs, rest, side, s0)
        sgn = 1.0 if side == "left" else -1.0
        flex = twist_angle(R[:, J[f"{side}_elbow"]], np.array([0.0, -sgn, 0.0]))
        elbow, wrist, _ = forearm_and_wrist(init[f"{side}_elbow_global"], R_hand, flex, side)
        R[:, J[f"{side}_elbow"]] = elbow
        R[:, J[f"{side}_wrist"]] = wrist
        for name, Rl in finger_rotations(obs, rest, side, s0, R_hand).items():
            R[:, J[name]] = Rl
    guess = theta_from_local(R, model)
    # how far the landmarks, read rigidly, ask past the limits (hands only where they are seen)
    ask = guess.copy()
    for k, side in enumerate(("left", "right")):
        ask[np.ix_(~obs.hand_valid[:, k], hand_columns(model, side))] = 0.0
    hand_depth = np.stack([hand_points_3d(obs, k, s0)[..., 2] for k in (0, 1)], axis=1)
    hand_depth[~obs.hand_valid] = np.nan
    clip = _Clip(seq=seq, obs=obs, lifted=lifted, s0=s0, f0=f0, theta0=guess, theta_guess=ask, jaw=init["jaw"],
                 hand_depth=hand_depth)
    clip.theta0 = _filled(clip, guess, model, cfg)
    return clip


def _filled(clip: _Clip, theta: np.ndarray, model, cfg: IKConfig) -> np.ndarray:
    """Angles clamped to the limits, with frames without a body and lost hands filled."""
    from .smoothing import clamp_to_limits, fill_body, fill_hand, hand_columns, relaxed_values

    obs, fps = clip.obs, clip.seq.fps
    th = fill_body(clamp_to_limits(theta, model), obs.valid, model)
    for k, side in enumerate(("left", "right")):
        th, _ = fill_hand(th, obs.hand_valid[:, k], hand_columns(model, side), relaxed_values(model, side), fps,
                          cfg.max_gap_s, cfg.relax_s)
    return th


def _finish(clip: _Clip, fit_raw, theta_raw: np.ndarray, fit, problem_clip, model, markers, gender: str,
            cfg: IKConfig) -> IKResult:
    """Output rotations, translation and quality figures of one refined clip.

    ``fit_raw`` / ``theta_raw``: the frame-by-frame fit (and its gap-filled angles), ``fit``: the
    fit after the temporal phase (the same as ``fit_raw`` without smoothing).
    """
    import torch

    from .. import rotations as rot
    from .kinematics import full_local_rotations
    from .quality import IKQuality, joint_positions, limit_figures, marker_errors, mean_jerk, reprojection
    from .smoothing import clamp_to_limits, interpolate_missing, lowpass, smooth_theta

    seq, obs = clip.seq, clip.obs
    T = obs.num_frames
    jaw = clip.jaw
    theta = _filled(clip, fit.theta, model, cfg)
    if cfg.smooth:
        theta = clamp_to_limits(smooth_theta(theta, model, seq.fps, cfg.cutoff_body_hz, cfg.cutoff_hand_hz), model)
        jaw = np.clip(lowpass(jaw, seq.fps, cfg.cutoff_body_hz or 6.0), 0.0, None)
    R_out = full_local_rotations(torch.as_tensor(theta, dtype=torch.float64), model,
                                 jaw=torch.as_tensor(jaw, dtype=torch.float64))
    poses = rot.matrix_to_axis_angle(R_out).numpy().astype(np.float32)
    cam = np.array([[fit.scale, fit.focal]])
    err, centre = marker_errors(problem_clip, theta, cam)
    # frames without a body have no targets to place the body by: bridge its place like its angles
    centre = interpolate_missing(centre, obs.valid)
    if cfg.smooth:
        centre = lowpass(centre, seq.fps, cfg.cutoff_body_hz or 6.0)
    ref = np.median(centre[obs.valid], axis=0)
    trans = np.zeros((T, 3), dtype=np.float32)
    trans[:, 0] = (centre[:, 0] - ref[0]) / fit.scale
    trans[:, 1] = -(centre[:, 1] - ref[1]) / fit.scale

    quality = IKQuality(
        frames=T, **reprojection(err, obs, markers),
        **limit_figures(R_out.numpy(), clip.theta_guess, obs.valid, model),
        jerk_raw=mean_jerk(joint_positions(problem_clip, theta_raw), seq.fps),
        jerk_smooth=mean_jerk(joint_positions(problem_clip, theta), seq.fps),
        valid_frac=float(obs.valid.mean()),
        left_hand_seen_frac=float(obs.hand_valid[:, 0].mean()),
        right_hand_seen_frac=float(obs.hand_valid[:, 1].mean()),
        aspect=obs.aspect, aspect_estimated=obs.aspect_estimated,
        scale=fit.scale, scale_init=clip.s0, focal=fit.focal, focal_init=clip.f0,
        depth_source="pose_world" if obs.pose_world is not None else "mediapipe_z")
    motion = SignMotion(poses=poses, trans=trans, fps=seq.fps, gloss=str(seq.meta.get("gloss", "") or ""),
                        gender=gender, source=seq.source or "")
    return IKResult(motion=motion, valid=obs.valid.copy(), hand_valid=obs.hand_valid.copy(), quality=quality,
                    theta=theta, scale=fit.scale, focal=fit.focal, centre=centre, aspect=obs.aspect)


def solve(seq, gender: str = "neutral", config: IKConfig | None = None) -> IKResult:
    """Inverse kinematics of one clip (see the module docstring). Raises :class:`SignAvatarError`
    when the landmarks cannot carry a body (no frame with shoulders, unknown ``gender``)."""
    return solve_batch([seq], gender, config)[0]


def solve_batch(seqs, gender: str = "neutral", config: IKConfig | None = None) -> list[IKResult]:
    """:func:`solve` for several clips refined together (one Adam run over all their frames).

    Every clip is checked first; one that cannot be solved raises :class:`SignAvatarError`
    naming it (solve the others without it). Timing figures are shared out by frame count.
    """
    from ..runtime_env import torch_threads
    from ..skeleton import rest_skeleton
    from .kinematics import Kinematics
    from .limits import dof_model
    from .markers import marker_set
    from .optimize import ClipTargets, Problem, refine

    cfg = config or IKConfig()
    seqs = list(seqs)
    if not seqs:
        return []
    for s in seqs:
        _check(s)
    if gender not in GENDERS:
        raise SignAvatarError(f"unknown body '{gender}': expected one of {', '.join(GENDERS)}")
    t0, c0 = time.perf_counter(), time.process_time()
    with torch_threads(cfg.threads):
        rest = rest_skeleton(gender)
        model = dof_model(gender)
        markers = marker_set(gender)
        clips = [_prepare(s, rest, model, markers, cfg) for s in seqs]
        kin = Kinematics(rest, model)
        targets = [ClipTargets(obs=c.obs, depth_targets=c.lifted, hand_depth=c.hand_depth, scale0=c.s0, focal0=c.f0,
                               fps=c.seq.fps) for c in clips]
        problem = Problem(targets, markers, kin, model, cfg)
        # 1. every frame on its own; 2. gaps filled, then jointly with the acceleration penalty
        fits_raw = refine(problem, np.concatenate([c.theta0 for c in clips]), cfg)
        thetas_raw = [_filled(c, f.theta, model, cfg) for c, f in zip(clips, fits_raw)]
        if cfg.smooth and cfg.smooth_iterations > 0:
            fits = refine(problem, np.concatenate(thetas_raw), cfg, iterations=cfg.smooth_iterations, temporal=True,
                          cam0=np.array([[f.scale, f.focal] for f in fits_raw]))
        else:
            fits = fits_raw
        shared_wall, shared_cpu = time.perf_counter() - t0, time.process_time() - c0
        total = sum(c.obs.num_frames for c in clips)
        out = []
        for clip, fit_raw, theta_raw, fit, tgt in zip(clips, fits_raw, thetas_raw, fits, targets):
            t1, c1 = time.perf_counter(), time.process_time()
            single = Problem([tgt], markers, kin, model, cfg) if len(clips) > 1 else problem
            share = clip.obs.num_frames / total
            res = _finish(clip, fit_raw, theta_raw, fit, single, model, markers, gender, cfg)
            wall = shared_wall * share + time.perf_counter() - t1
            cpu = shared_cpu * share + time.process_time() - c1
            T = clip.obs.num_frames
            res.quality.ik_ms_per_frame = 1000.0 * wall / T
            res.quality.ik_cpu_ms_per_frame = 1000.0 * cpu / T
            out.append(res)
        return out
