"""Local rotation matrices -> anatomical angles (the inverse of :mod:`.kinematics`), numpy.

For each joint the structure in the DOF table decides the split:

* three free axes: the rotation vector in that basis;
* two axes (a swing): the swing part of a swing-twist split about the axis normal to both,
  expressed in the two axes (the twist, which the joint cannot do, is dropped);
* one axis (a hinge): the twist angle about it (quaternion projection);
* hinge then twist (elbow), twist then swing (wrist), swing then twist (thumb CMC): the
  twist is split off first (its angle is the same in either product order), then the rest.

Where the target rotation is exactly reachable the result reproduces it; otherwise it is
the nearest reading of it in the joint's own degrees of freedom. Conversions are
:mod:`model_runtime.rotations`'s (quaternions XYZW).
"""

from __future__ import annotations

import numpy as np

from .. import rotations as rot
from ..skeleton import NUM_JOINTS
from .geometry import axis_angle_matrix
from .limits import DofModel


def twist_angle(R: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """(..., 3, 3) -> (...,) angle of the twist about unit ``axis`` (swing-twist split)."""
    return rot.twist_angle(rot.matrix_to_quat(np.asarray(R)), np.asarray(axis, dtype=np.float64))


def _solve_in_axes(rv: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """Least-squares coefficients c with rv ~= c @ axes, axes (k, 3)."""
    pinv = np.linalg.pinv(axes.T)  # (k, 3)
    return rv @ pinv.T


def _joint_layout(model: DofModel, j: int):
    """[(factor, [(param, axis*share)])] for joint j."""
    out = []
    for f in (0, 1):
        A = model.A[f, j]  # (3, P)
        cols = np.nonzero(np.abs(A).sum(0) > 0)[0]
        out.append([(int(p), A[:, p]) for p in cols])
    return out


def _single(R: np.ndarray, cols) -> dict:
    axes = np.stack([a for _, a in cols])
    norms = np.linalg.norm(axes, axis=1)
    units = axes / norms[:, None]
    k = len(cols)
    if k >= 3:
        coef = _solve_in_axes(rot.matrix_to_axis_angle(R), axes)
    elif k == 2:
        n = np.cross(units[0], units[1])
        n /= np.linalg.norm(n)
        tw = twist_angle(R, n)
        S = R @ axis_angle_matrix(n, -tw)
        coef = _solve_in_axes(rot.matrix_to_axis_angle(S), axes)
    else:
        coef = (twist_angle(R, units[0]) / norms[0])[..., None]
    return {p: coef[..., i] for i, (p, _) in enumerate(cols)}


def theta_from_local(R_local: np.ndarray, model: DofModel, joints=None) -> np.ndarray:
    """(T, 55, 3, 3) local rotations -> (T, P) angles; ``joints`` limits the joints read."""
    T = R_local.shape[0]
    theta = np.zeros((T, model.size))
    shared: dict[int, list] = {}
    for j in (range(NUM_JOINTS) if joints is None else joints):
        f0, f1 = _joint_layout(model, j)
        if not f0 and not f1:
            continue
        R = R_local[:, j]
        if not f1:
            for p, v in _single(R, f0).items():
                theta[:, p] = v
            continue
        # two factors: one of them is a single twist axis
        if len(f1) == 1 and _perpendicular(f0, f1[0][1]):
            # hinge/swing then twist: R = S @ T
            p_t, ax_t = f1[0]
            u = ax_t / np.linalg.norm(ax_t)
            tw = twist_angle(R, u)
            S = R @ axis_angle_matrix(u, -tw)
            shared.setdefault(p_t, []).append(tw)
            for p, v in _single(S, f0).items():
                theta[:, p] = v
        else:
            # twist then swing: R = T @ S
            p_t, ax_t = f0[0]
            u = ax_t / np.linalg.norm(ax_t)
            tw = twist_angle(R, u)
            S = axis_angle_matrix(u, -tw) @ R
            shared.setdefault(p_t, []).append(tw)
            for p, v in _single(S, f1).items():
                theta[:, p] = v
    for p, parts in shared.items():
        # each twist read is share x theta_p (the forearm twist shows half at the elbow, half at the wrist)
        theta[:, p] = np.sum(parts, axis=0) / _share_sum(model, p, joints)
    return theta


def _perpendicular(f0, axis) -> bool:
    """True when ``axis`` (a single second-factor axis) is a twist after the first factor's
    swing or hinge (elbow, thumb CMC), not the second half of a twist-then-swing (wrist)."""
    u = axis / np.linalg.norm(axis)
    return all(abs(a @ u) < 1e-6 * np.linalg.norm(a) for _, a in f0)


def _share_sum(model: DofModel, p: int, joints) -> float:
    return float(sum(s for j, _, _, s in model.params[p].acts if joints is None or j in joints))
