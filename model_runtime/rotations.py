"""Rotation conversions: axis-angle <-> matrix <-> 6D <-> quaternion.

Conventions used everywhere in the project:

* **axis-angle** (``rotvec``): (..., 3), axis times angle in radians (SMPL-X ``poses``).
* **matrix**: (..., 3, 3), acting on column vectors (``v' = R @ v``).
* **6D** (Zhou et al., CVPR 2019): the **first two columns** of the matrix,
  concatenated column after column: ``[R00, R10, R20, R01, R11, R21]``; back to a matrix
  by Gram-Schmidt (column 3 = column 1 x column 2).
* **quaternion**: (..., 4) unit quaternion in **XYZW** order (roma's), scalar last.
  Blender uses **WXYZ**; :func:`xyzw_to_wxyz` is the only reordering, called at the
  Blender keying boundary.

The torch functions delegate to roma (a maintained rotation library); they work in
float32 and float64 and are safe at zero and pi rotations.
"""

from __future__ import annotations

import roma
import torch


def axis_angle_to_matrix(rotvec: torch.Tensor) -> torch.Tensor:
    """(..., 3) axis-angle -> (..., 3, 3) rotation matrix."""
    return roma.rotvec_to_rotmat(rotvec)


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


def axis_angle_to_quat(rotvec: torch.Tensor) -> torch.Tensor:
    """(..., 3) -> (..., 4) unit quaternion, XYZW."""
    return roma.rotvec_to_unitquat(rotvec)


def quat_to_axis_angle(quat: torch.Tensor) -> torch.Tensor:
    """(..., 4) XYZW unit quaternion -> (..., 3) axis-angle (angle in [0, pi])."""
    return roma.unitquat_to_rotvec(quat)


def matrix_to_quat(mat: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 4) XYZW."""
    return roma.rotmat_to_unitquat(mat)


def quat_to_matrix(quat: torch.Tensor) -> torch.Tensor:
    """(..., 4) XYZW -> (..., 3, 3)."""
    return roma.unitquat_to_rotmat(quat)


def quat_slerp(q0: torch.Tensor, q1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Shortest-path spherical interpolation of XYZW quaternions, ``t`` broadcast over (...,)."""
    dot = (q0 * q1).sum(-1, keepdim=True)
    q1 = torch.where(dot < 0, -q1, q1)
    dot = dot.abs().clamp(max=1.0)
    t = t[..., None]
    theta = torch.acos(dot)
    sin = torch.sin(theta)
    small = sin < 1e-6
    w0 = torch.where(small, 1 - t, torch.sin((1 - t) * theta) / torch.where(small, torch.ones_like(sin), sin))
    w1 = torch.where(small, t, torch.sin(t * theta) / torch.where(small, torch.ones_like(sin), sin))
    q = w0 * q0 + w1 * q1
    return q / q.norm(dim=-1, keepdim=True)


def xyzw_to_wxyz(quat):
    """Reorder a (..., 4) quaternion from roma's XYZW to Blender's WXYZ (numpy or torch)."""
    return quat[..., [3, 0, 1, 2]]


def wxyz_to_xyzw(quat):
    """Reorder a (..., 4) quaternion from Blender's WXYZ to roma's XYZW (numpy or torch)."""
    return quat[..., [1, 2, 3, 0]]
