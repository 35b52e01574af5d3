"""The project's one home for rotation math: axis-angle <-> matrix <-> 6D <-> quaternion.

Conventions used everywhere in ``model_runtime``:

* **axis-angle** (``rotvec``): (..., 3), axis times angle in radians (SMPL-X ``poses``).
  This is what crosses into Blender: SignMotion files and everything the add-on keys are
  axis-angle, and ``signavatar_blender``'s numpy quaternion module turns axis-angle into
  Blender's **WXYZ** quaternions itself. No XYZW array ever crosses that boundary, so there is
  no reordering function here.
* **matrix**: (..., 3, 3), acting on column vectors (``v' = R @ v``).
* **6D** (Zhou et al., CVPR 2019): the **first two columns** of the matrix,
  concatenated column after column: ``[R00, R10, R20, R01, R11, R21]``; back to a matrix
  by Gram-Schmidt (column 3 = column 1 x column 2).
* **quaternion**: (..., 4) unit quaternion in **XYZW** order (roma's), scalar last.

The conversions delegate to roma (a maintained rotation library); they work in float32 and
float64, are safe at zero and pi rotations and have finite gradients there. Each public
function takes torch tensors, or numpy arrays (computed in float64 and returned as numpy
float64), so the numpy code of the IK uses the same functions as the torch code of the model.
"""

from __future__ import annotations

import functools

import numpy as np
import roma
import torch


def _numpy_in_numpy_out(fn):
    """Let ``fn`` (torch in, torch out) take numpy arrays too: float64 in, numpy float64 out."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not any(isinstance(a, np.ndarray) for a in args):
            return fn(*args, **kwargs)
        conv = [torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64)) if isinstance(a, np.ndarray) else a
                for a in args]
        return fn(*conv, **kwargs).numpy()

    return wrapper


@_numpy_in_numpy_out
def axis_angle_to_matrix(rotvec: torch.Tensor) -> torch.Tensor:
    """(..., 3) axis-angle -> (..., 3, 3) rotation matrix."""
    return roma.rotvec_to_rotmat(rotvec)


@_numpy_in_numpy_out
def matrix_to_axis_angle(mat: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) rotation matrix -> (..., 3) axis-angle with angle in [0, pi]."""
    return roma.rotmat_to_rotvec(mat)


def matrix_to_6d(mat: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 6): first two columns, column after column."""
    return mat[..., :, :2].transpose(-1, -2).reshape(*mat.shape[:-2], 6)


def sixd_to_matrix(d6: torch.Tensor) -> torch.Tensor:
    """(..., 6) -> (..., 3, 3) by Gram-Schmidt; any 6-vector with independent halves is valid."""
    cols = d6.reshape(*d6.shape[:-1], 2, 3).transpose(-1, -2)  # (..., 3, 2)
    return roma.special_gramschmidt(cols)


def axis_angle_to_6d(rotvec: torch.Tensor) -> torch.Tensor:
    return matrix_to_6d(axis_angle_to_matrix(rotvec))


def sixd_to_axis_angle(d6: torch.Tensor) -> torch.Tensor:
    return matrix_to_axis_angle(sixd_to_matrix(d6))


@_numpy_in_numpy_out
def axis_angle_to_quat(rotvec: torch.Tensor) -> torch.Tensor:
    """(..., 3) -> (..., 4) unit quaternion, XYZW."""
    return roma.rotvec_to_unitquat(rotvec)


@_numpy_in_numpy_out
def quat_to_axis_angle(quat: torch.Tensor) -> torch.Tensor:
    """(..., 4) XYZW unit quaternion -> (..., 3) axis-angle (angle in [0, pi])."""
    return roma.unitquat_to_rotvec(quat)


@_numpy_in_numpy_out
def matrix_to_quat(mat: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 4) XYZW."""
    return roma.rotmat_to_unitquat(mat)


@_numpy_in_numpy_out
def quat_to_matrix(quat: torch.Tensor) -> torch.Tensor:
    """(..., 4) XYZW -> (..., 3, 3)."""
    return roma.unitquat_to_rotmat(quat)


def quat_product(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product ``a * b`` of XYZW quaternions (``b`` applied first, then ``a``)."""
    return roma.quat_product(a, b)


def quat_conjugate(q: torch.Tensor) -> torch.Tensor:
    """Conjugate of an XYZW quaternion (the inverse rotation for a unit quaternion)."""
    return roma.quat_conjugation(q)


@_numpy_in_numpy_out
def twist_angle(quat: torch.Tensor, axis: torch.Tensor) -> torch.Tensor:
    """(..., 4) XYZW -> (...,) angle in [-pi, pi) of the twist about unit ``axis`` (3,) (swing-twist split)."""
    axis = torch.as_tensor(axis, dtype=quat.dtype)
    a = 2.0 * torch.atan2(quat[..., :3] @ axis, quat[..., 3])
    return torch.remainder(a + torch.pi, 2 * torch.pi) - torch.pi


def quat_slerp(q0: torch.Tensor, q1: torch.Tensor, t: torch.Tensor, shortest: bool = True) -> torch.Tensor:
    """Spherical interpolation of XYZW quaternions, ``t`` (...,) broadcast over the leading dimensions.

    ``shortest``: per element, go the short way round (``q1`` is flipped where ``q0 . q1 < 0``);
    ``False`` follows the arc from ``q0`` to ``q1`` exactly as given, for callers that chose
    the hemisphere themselves (a per-frame choice could flip part-way through a transition).
    """
    dot = (q0 * q1).sum(-1, keepdim=True)
    if shortest:
        q1 = torch.where(dot < 0, -q1, q1)
        dot = dot.abs()
    dot = dot.clamp(-1.0, 1.0)
    t = t[..., None]
    theta = torch.acos(dot)
    sin = torch.sin(theta)
    small = sin < 1e-6
    safe = torch.where(small, torch.ones_like(sin), sin)
    w0 = torch.where(small, 1 - t, torch.sin((1 - t) * theta) / safe)
    w1 = torch.where(small, t, torch.sin(t * theta) / safe)
    q = w0 * q0 + w1 * q1
    return q / q.norm(dim=-1, keepdim=True).clamp_min(1e-12)


@_numpy_in_numpy_out
def align_hemisphere(q: torch.Tensor, reference: torch.Tensor | None = None) -> torch.Tensor:
    """Flip signs along time (axis 0 of (T, ..., 4)) so consecutive quaternions have a non-negative dot.

    ``q`` and ``-q`` are the same rotation, but averaging, filtering or differencing quaternions
    needs them on one hemisphere. With ``reference`` (..., 4), the first frame is put on the
    reference's hemisphere too.
    """
    if len(q) == 0:
        return q
    dots = (q[1:] * q[:-1]).sum(-1)
    first = torch.ones_like(q[:1, ..., 0])
    if reference is not None:
        reference = torch.as_tensor(reference, dtype=q.dtype)
        first = torch.where((q[:1] * reference).sum(-1) < 0, -1.0, 1.0).to(q.dtype)
    flips = torch.cat([first, torch.where(dots < 0, -1.0, 1.0).to(q.dtype)])
    return q * torch.cumprod(flips, dim=0)[..., None]
