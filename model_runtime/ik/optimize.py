"""Refinement of the joint angles of every frame at once (torch, Adam).

Minimises, over the anatomical angles of all frames and a camera (log scale, log focal
length; :mod:`.camera`) per clip:

* the robust (pseudo-Huber) 2-D distance between projected FK markers and landmarks, in
  shoulder widths: the body; the face by its shape about its centroid (its absolute place
  only weakly: people's necks are not our skeleton's); each seen hand by its shape about
  its wrist, plus its wrist's place and, weakly, its points' places;
* a weak pull towards the lifted depth of elbows and wrists (:mod:`.depth`) and towards
  MediaPipe's hand z, which keeps each bone on the side of the image plane it started on;
* squared excess over the anatomical limits (:mod:`.limits`), including the shoulder's
  backward cone and humeral twist;
* comfort priors: collars near rest, an upright torso with its rotation spread evenly over
  the spine, neck and head alike, little forearm and thumb twist or finger spread where
  the image cannot tell; the camera near its first guess.

The per-frame image centre is solved in closed form at each step (weighted mean offset of
the torso markers), so translation never competes with rotation for the arms. Frames are
independent in the first phase; the temporal phase adds a penalty on the angles'
acceleration (second differences within a clip, see :mod:`.smoothing` for why). Several clips can be
refined together (:class:`Problem` takes a list): their frames are stacked, each clip
keeps its own camera and its own normalisation, so the result equals refining each alone
while the fixed cost per Adam step is paid once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..skeleton import JOINT_INDEX
from .camera import look_point, project
from .config import IKConfig
from .kinematics import Kinematics
from .limits import SHOULDER_BACK_MAX_DEG, SHOULDER_TWIST_MAX_DEG, DofModel
from .markers import MarkerSet
from .observations import Observations

J = JOINT_INDEX


@dataclass
class Fit:
    theta: np.ndarray  # (T, P)
    scale: float  # height units per metre
    focal: float  # focal length, height units (see camera.py)
    centre: np.ndarray  # (T, 2) image position of the camera's look point O
    loss: float


@dataclass
class ClipTargets:
    """What :class:`Problem` needs of one clip besides its observations."""

    obs: Observations
    depth_targets: dict  # lifted depth steps (T,) per bone, see depth.lift_arms
    hand_depth: np.ndarray  # (T, 2, 21) MediaPipe hand z relative to the wrist, metres (NaN unseen)
    scale0: float
    focal0: float
    fps: float = 30.0


def _prior_weights(model: DofModel) -> tuple[np.ndarray, np.ndarray]:
    """Comfort priors as sum_p w[p] theta_p^2 + |theta @ D|^2 (see the module docstring).

    Scale: a frame's data term is about r^2 / 2 for a mean residual r in shoulder widths, so a
    weight of 1e-3 lets 0.1 rad of prior-driven change cost what a 0.5 % residual costs: the
    priors decide only what the landmarks leave open.
    """
    idx = model.index
    pw = np.zeros(model.size)
    for name in model.names:
        i = idx[name]
        if "_collar_" in name:
            pw[i] += 2e-3
        if name.endswith("forearm_twist"):
            pw[i] += 2e-4
        if name.endswith("thumb1_twist"):
            pw[i] += 1e-3
        if name.endswith("_abd"):
            pw[i] += 3e-4
    # torso lean (pitch, roll): the hips are rarely seen, so uprightness is mostly a prior
    for name in ["pelvis_rx", "pelvis_rz"] + [f"{j}_{k}" for j in ("spine1", "spine2", "spine3")
                                              for k in ("flex", "lateral")]:
        pw[idx[name]] += 3e-3
    D = []
    for a, b in (("spine1", "spine2"), ("spine2", "spine3"), ("neck", "head")):
        for k in ("flex", "axial", "lateral"):
            col = np.zeros(model.size)
            col[idx[f"{a}_{k}"]], col[idx[f"{b}_{k}"]] = 1.0, -1.0
            D.append(col * np.sqrt(5e-3))
    return pw, np.stack(D, axis=1)


def _clip_arrays(c: ClipTargets, markers: MarkerSet, kin: Kinematics, cfg: IKConfig) -> dict:
    """Per-frame arrays of one clip, each already normalised the way that clip's loss needs."""
    obs = c.obs
    T = obs.num_frames
    n_valid = max(float(obs.valid.sum()), 1.0)
    w = obs.weight.copy()
    grp = markers.group
    body = np.isin(grp, ("body", "hip", "posehand"))
    face = grp == "face"
    hand = grp == "hand"
    norm = max((w * body[None]).sum(), 1e-9)
    w_abs = w * body[None] + 0.2 * w * face[None]
    hidx = np.stack([np.nonzero((markers.hand == s) & hand)[0] for s in (0, 1)])
    w_shape = np.zeros((T, 2, 20))
    for s in (0, 1):
        ws = w[:, hidx[s]]
        n_frames = max(int((ws.sum(1) > 0).sum()), 1)
        shape = ws[:, 1:]
        w_shape[:, s] = shape / max(shape.sum(), 1e-9) * n_frames / n_valid
        w_abs[:, hidx[s, 0]] += cfg.hand_position_weight * ws[:, 0]
    anchor = np.isin(grp, ("body", "hip")) & ~np.isin(markers.pose_index, (13, 14, 15, 16))
    wa = w * anchor[None]
    target, length = [], []
    for side in ("left", "right"):
        for ch, pa, key in ((f"{side}_elbow", f"{side}_shoulder", f"{side}_dz_upper"),
                            (f"{side}_wrist", f"{side}_elbow", f"{side}_dz_fore")):
            L = float(np.linalg.norm(kin.rest.joints[J[ch]] - kin.rest.joints[J[pa]]))
            target.append(c.depth_targets[key] / L)
    hw = np.isfinite(c.hand_depth).all(-1)
    return {
        "uv": obs.uv,
        "sw": np.full((T, 1), obs.shoulder_width),
        "w_abs": cfg.w_body * w_abs / norm,
        "w_face": cfg.w_body * w[:, face] / norm,
        "w_face_centroid": w[:, face] / np.maximum(w[:, face].sum(1, keepdims=True), 1e-9),
        "w_hand": cfg.w_hand * w_shape,
        "w_hand_abs": cfg.w_hand * cfg.hand_absolute_weight * w_shape,
        "w_anchor": wa / np.maximum(wa.sum(1, keepdims=True), 1e-9),
        "dep_target": np.stack(target, axis=1),
        "dep_w": obs.valid[:, None] * np.ones((1, 4)) * cfg.w_depth / n_valid,
        "hand_depth": np.nan_to_num(c.hand_depth).reshape(T, 42),
        "hand_depth_w": np.repeat(hw, 21, axis=1) * cfg.w_hand_depth / (21 * n_valid * 0.1 ** 2),
        "per_frame": np.full((T, 1), 1.0 / n_valid),
        # acceleration of the angles in units of 30-fps frames: (fps / 30)^2 * second difference
        "accel_scale": np.full((T, 1), (c.fps / 30.0) ** 2),
    }


class Problem:
    """Tensors of one or more clips, built once; :meth:`loss` evaluates everything for given angles."""

    def __init__(self, clips: list[ClipTargets], markers: MarkerSet, kin: Kinematics, model: DofModel,
                 cfg: IKConfig, dtype=torch.float32):
        f = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=dtype)  # noqa: E731
        self.cfg = cfg
        self.kin = kin
        self.model = model
        self.dtype = dtype
        self.origin = look_point(kin.rest)
        self.lengths = [c.obs.num_frames for c in clips]
        self.clip_of_frame = torch.as_tensor(np.repeat(np.arange(len(clips)), self.lengths))
        self.cam0 = f(np.array([[np.log(c.scale0), np.log(c.focal0)] for c in clips]))
        # markers on a joint are its position; the others need its rotation too
        on_joint = np.linalg.norm(markers.offset, axis=1) == 0
        zero, off = np.nonzero(on_joint)[0], np.nonzero(~on_joint)[0]
        self.slot_zero = torch.tensor([kin.slot[j] for j in markers.joint[zero]])
        self.slot_off = torch.tensor([kin.slot[j] for j in markers.joint[off]])
        self.offset = f(markers.offset[off])
        self.unperm = torch.as_tensor(np.argsort(np.concatenate([zero, off])))
        self.face_idx = torch.tensor(np.nonzero(markers.group == "face")[0])
        hidx = np.stack([np.nonzero((markers.hand == s) & (markers.group == "hand"))[0] for s in (0, 1)])
        self.hand_idx = torch.as_tensor(hidx)
        self.hand_flat = torch.as_tensor(hidx.reshape(-1))
        self.wrist_rep = torch.tensor([kin.slot[J["left_wrist"]]] * 21 + [kin.slot[J["right_wrist"]]] * 21)
        child, parent, length = [], [], []
        for side in ("left", "right"):
            for ch, pa in ((f"{side}_elbow", f"{side}_shoulder"), (f"{side}_wrist", f"{side}_elbow")):
                child.append(kin.slot[J[ch]])
                parent.append(kin.slot[J[pa]])
                length.append(float(np.linalg.norm(kin.rest.joints[J[ch]] - kin.rest.joints[J[pa]])))
        self.dep_child, self.dep_parent = torch.tensor(child), torch.tensor(parent)
        self.dep_len = f(np.array(length))
        arrays = [_clip_arrays(c, markers, kin, cfg) for c in clips]
        for key in arrays[0]:
            setattr(self, key, f(np.concatenate([a[key] for a in arrays], axis=0)))
        # second differences only within a clip: frame t has neighbours t-1 and t+1 of the same clip
        starts = np.cumsum([0] + self.lengths[:-1])
        inner = np.ones(sum(self.lengths), dtype=bool)
        inner[starts] = False
        inner[starts + np.array(self.lengths) - 1] = False
        self.accel_mask = f(inner[1:-1, None].astype(np.float64)) if len(inner) > 2 else None
        self.temporal = False
        self.lo = f(np.where(model.free, -1e3, model.lo))
        self.hi = f(np.where(model.free, 1e3, model.hi))
        self.sh_slots = torch.tensor([kin.slot[J["left_shoulder"]], kin.slot[J["right_shoulder"]]])
        self.sh_sign = f(np.array([1.0, -1.0]))
        pw, D = _prior_weights(model)
        self.prior_w = f(pw * cfg.w_prior)
        self.prior_D = f(D * np.sqrt(cfg.w_prior))

    def markers(self, theta):
        """World positions of the markers (T, M, 3), joints (T, J, 3) and local rotations."""
        L = self.kin.local_rotations(theta)
        pos, rot = self.kin.forward(L)
        Xo = torch.index_select(pos, 1, self.slot_off) + (
            torch.index_select(rot, 1, self.slot_off) @ self.offset[:, :, None])[..., 0]
        X = torch.index_select(torch.cat([torch.index_select(pos, 1, self.slot_zero), Xo], dim=1), 1, self.unperm)
        return X, pos, L

    def project(self, X, cam):
        """Image points of markers X (T, M, 3) for per-clip cameras cam (C, 2) = (log s, log f), and
        the per-frame centre (closed form: weighted mean offset of the torso markers)."""
        cf = torch.exp(cam)[self.clip_of_frame]  # (T, 2)
        img = project(X, cf[:, :1], cf[:, 1:], 0.0, self.origin)
        c = (self.w_anchor[..., None] * (self.uv - img)).sum(1)
        return img + c[:, None], c

    def loss(self, theta, cam):
        cfg = self.cfg
        d2 = cfg.robust_delta ** 2
        sw2 = self.sw ** 2  # (T, 1)

        def rho(r2):  # pseudo-Huber of squared residuals in shoulder widths
            return d2 * (torch.sqrt(1.0 + r2 / d2) - 1.0)

        X, pos, L = self.markers(theta)
        uv, _ = self.project(X, cam)
        res = uv - self.uv
        total = (self.w_abs * rho((res ** 2).sum(-1) / sw2)).sum()
        # face shape about its centroid, size-free (a face nearer the camera looks bigger)
        fu, fo = uv[:, self.face_idx], self.uv[:, self.face_idx]
        wc = self.w_face_centroid[..., None]
        du = fu - (wc * fu).sum(1, keepdim=True)
        do = fo - (wc * fo).sum(1, keepdim=True)
        ru = torch.sqrt((wc * du ** 2).sum((1, 2), keepdim=True) + 1e-12)
        ro = torch.sqrt((wc * do ** 2).sum((1, 2), keepdim=True) + 1e-12)
        total = total + (self.w_face * rho(((du * (ro / ru) - do) ** 2).sum(-1) / sw2)).sum()
        # hands: shape about the wrist, and absolute places weakly
        hr = res[:, self.hand_idx]  # (T, 2, 21, 2)
        rel = hr[:, :, 1:] - hr[:, :, :1]
        sw2h = sw2[:, :, None]
        total = total + (self.w_hand * rho((rel ** 2).sum(-1) / sw2h)).sum()
        total = total + (self.w_hand_abs * rho((hr[:, :, 1:] ** 2).sum(-1) / sw2h)).sum()
        # depth
        z = pos[..., 2]
        dz = (torch.index_select(z, 1, self.dep_child) - torch.index_select(z, 1, self.dep_parent)) / self.dep_len
        total = total + (self.dep_w * (dz - self.dep_target) ** 2).sum()
        hz = torch.index_select(X[..., 2], 1, self.hand_flat) - torch.index_select(z, 1, self.wrist_rep)
        total = total + (self.hand_depth_w * (hz - self.hand_depth) ** 2).sum()
        # limits, including the shoulder's cone and humeral twist (swing-twist about the arm)
        ex = torch.relu(self.lo - theta) + torch.relu(theta - self.hi)
        lim = (ex ** 2).sum(-1, keepdim=True)
        R = torch.index_select(L, 1, self.sh_slots)  # (T, 2, 3, 3)
        back = torch.asin(torch.clamp(-R[..., 2, 0] * self.sh_sign, -0.999, 0.999))
        tr = R[..., 0, 0] + R[..., 1, 1] + R[..., 2, 2]
        twist = 2.0 * torch.atan2((R[..., 2, 1] - R[..., 1, 2]) * self.sh_sign, (1.0 + tr).clamp(min=1e-6))
        lim = lim + (torch.relu(back - np.deg2rad(SHOULDER_BACK_MAX_DEG)) ** 2).sum(-1, keepdim=True)
        lim = lim + (torch.relu(twist.abs() - np.deg2rad(SHOULDER_TWIST_MAX_DEG)) ** 2).sum(-1, keepdim=True)
        total = total + cfg.w_limits * (self.per_frame * lim).sum()
        # comfort priors
        prior = (theta ** 2 @ self.prior_w)[:, None] + ((theta @ self.prior_D) ** 2).sum(-1, keepdim=True)
        total = total + (self.per_frame * prior).sum()
        if self.temporal and self.accel_mask is not None:
            acc = (theta[2:] - 2.0 * theta[1:-1] + theta[:-2]) * self.accel_scale[1:-1]
            total = total + cfg.w_temporal * (self.per_frame[1:-1] * self.accel_mask * acc ** 2).sum()
        dc = cam - self.cam0
        total = total + cfg.w_scale * (dc[:, 0] ** 2).sum() + cfg.w_focal * (dc[:, 1] ** 2).sum()
        return total


def refine(problem: Problem, theta0: np.ndarray, cfg: IKConfig, iterations: int | None = None,
           temporal: bool = False, cam0=None) -> list[Fit]:
    """Adam on all frames of all clips of ``problem``; one :class:`Fit` per clip.

    ``temporal``: add the acceleration penalty (frames are then no longer independent);
    ``cam0``: (C, 2) starting cameras (scale, focal) instead of the first guesses.
    """
    dtype = problem.dtype
    n_iter = cfg.iterations if iterations is None else iterations
    problem.temporal = temporal
    theta = torch.tensor(theta0, dtype=dtype, requires_grad=True)
    start = problem.cam0 if cam0 is None else torch.log(torch.as_tensor(cam0, dtype=dtype))
    cam = start.clone().requires_grad_(True)
    opt = torch.optim.Adam([{"params": [theta], "lr": cfg.lr}, {"params": [cam], "lr": cfg.lr_scale}])
    # cosine decay to 5 % of the step: Adam's steps shrink so the fit settles instead of hovering
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: 0.05 + 0.95 * 0.5 * (1.0 + np.cos(np.pi * min(i, n_iter) / max(n_iter, 1))))
    loss = torch.tensor(0.0)
    for _ in range(n_iter):
        opt.zero_grad(set_to_none=True)
        loss = problem.loss(theta, cam)
        loss.backward()
        opt.step()
        sched.step()
    problem.temporal = False
    with torch.no_grad():
        X, _, _ = problem.markers(theta)
        _, c = problem.project(X, cam)
        camv = torch.exp(cam).double().numpy()
    th = theta.detach().double().numpy()
    cn = c.double().numpy()
    out, a = [], 0
    for k, n in enumerate(problem.lengths):
        out.append(Fit(theta=th[a:a + n], scale=float(camv[k, 0]), focal=float(camv[k, 1]), centre=cn[a:a + n],
                       loss=float(loss.detach())))
        a += n
    return out
