"""SMPL-X poses -> Blender pose-bone channels, numpy only (tested without Blender).

Frames and conventions:

* SMPL-X (``SignMotion``): Y-up, facing +Z, the body's left on +X; every joint's rest
  frame is aligned with the body frame; ``poses`` are axis-angle local rotations.
* Blender: Z-up, characters face -Y, the body's left stays on +X. The change of basis is
  the +90 degree rotation about X, ``(x, y, z)_smplx -> (x, -z, y)_blender``
  (:data:`YUP_TO_ZUP`).
* A pose bone's ``rotation_quaternion`` (WXYZ) rotates the bone in its own rest frame.

For a target rig, let ``S`` map SMPL-X body axes to the rig's armature space (read from
its rest skeleton, :func:`smplx_to_armature`) and ``B_j``
be bone j's rest orientation in armature space (``bone.matrix_local``). With
``A_j = S^T · B_j`` (bone j's rest frame seen from the SMPL-X body frame), the SMPL-X
local rotation ``R_j`` becomes the Blender pose rotation ``Q_j = A_j^T · R_j · A_j``,
provided bone j's parent is the bone of SMPL-X parent joint (checked in :mod:`.rigs`).
``A_j`` is computed once per rig (:func:`rest_conversion`); keying a clip is then one
vectorised quaternion product (:func:`bone_quaternions`). This holds for our own rig
(Z-up, bones along the limbs) and for SMPL-X add-on rigs (bone frames equal to SMPL-X
joint frames, Y-up armature data under a +90 degree X object rotation) alike.
"""

from __future__ import annotations

import numpy as np

from . import quaternion as quat

# SMPL-X body frame (Y-up) -> Blender world (Z-up): +90 degrees about X.
YUP_TO_ZUP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def yup_to_zup(points: np.ndarray) -> np.ndarray:
    """(..., 3) Y-up points or vectors -> Z-up: ``(x, y, z) -> (x, -z, y)``."""
    points = np.asarray(points, dtype=np.float64)
    return np.stack([points[..., 0], -points[..., 2], points[..., 1]], axis=-1)


def orthonormalize(m: np.ndarray) -> np.ndarray:
    """Nearest rotation to each (..., 3, 3) matrix (removes scale from a rest or world matrix)."""
    u, _, vt = np.linalg.svd(np.asarray(m, dtype=np.float64))
    r = u @ vt
    det = np.linalg.det(r)
    if np.any(det < 0):
        u = u.copy()
        u[det < 0, :, -1] *= -1
        r = u @ vt
    return r


def smplx_to_armature(pelvis: np.ndarray, neck: np.ndarray, left_shoulder: np.ndarray,
                      right_shoulder: np.ndarray, snap_degrees: float = 25.0) -> np.ndarray:
    """``S``: SMPL-X body axes -> armature space, read from the rig's rest skeleton.

    Up is pelvis -> neck, the body's left is right shoulder -> left shoulder, forward is
    left x up (SMPL-X: X left, Y up, Z forward). A frame within ``snap_degrees`` of an
    axis-aligned one is snapped to it, so a slightly leaning rest pose does not tilt the
    motion. Reading it from the rest skeleton (not the object transform) keeps motions in
    the armature object's own frame: move or turn the object and the signing follows.
    Ours gives :data:`YUP_TO_ZUP`; a Y-up SMPL-X add-on rig gives the identity.
    """
    up = np.asarray(neck, float) - np.asarray(pelvis, float)
    left = np.asarray(left_shoulder, float) - np.asarray(right_shoulder, float)
    if np.linalg.norm(up) < 1e-9 or np.linalg.norm(left) < 1e-9:
        raise ValueError("degenerate rest skeleton: cannot tell up or left")
    up /= np.linalg.norm(up)
    left = left - (left @ up) * up
    left /= np.linalg.norm(left)
    s = np.stack([left, up, np.cross(left, up)], axis=1)
    snapped = np.zeros((3, 3))
    for c in range(3):
        k = int(np.argmax(np.abs(s[:, c])))
        snapped[k, c] = np.sign(s[k, c])
    if abs(np.linalg.det(snapped)) > 0.5:
        cos = (np.trace(snapped.T @ s) - 1.0) / 2.0
        if np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))) <= snap_degrees:
            return snapped
    return s


def rest_conversion(bone_rest: np.ndarray, smplx_to_arm: np.ndarray) -> np.ndarray:
    """(J, 4) WXYZ quaternions of ``A_j = S^T · B_j`` for bone rest matrices ``B`` (J, 3, 3)."""
    bone_rest = np.asarray(bone_rest, dtype=np.float64)
    if bone_rest.ndim != 3 or bone_rest.shape[1:] != (3, 3):
        raise ValueError(f"expected (J, 3, 3) rest rotations, got {bone_rest.shape}")
    a = smplx_to_arm.T @ orthonormalize(bone_rest)
    return quat.from_matrix(a)


def bone_quaternions(poses: np.ndarray, rest_quats: np.ndarray) -> np.ndarray:
    """(T, J, 3) axis-angle SMPL-X local rotations -> (T, J, 4) WXYZ pose-bone quaternions.

    ``Q_j = A_j^T R_j A_j`` as ``conj(a) ⊗ r ⊗ a``, then made continuous over time so
    Blender's per-channel interpolation never flips between keys.
    """
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim != 3 or poses.shape[-1] != 3 or poses.shape[1] != rest_quats.shape[0]:
        raise ValueError(f"expected (T, {rest_quats.shape[0]}, 3) axis-angle, got {poses.shape}")
    r = quat.from_axis_angle(poses)
    q = quat.multiply(quat.multiply(quat.conjugate(rest_quats)[None], r), rest_quats[None])
    return quat.make_continuous(q, axis=0)


def pelvis_locations(trans: np.ndarray, pelvis_rest: np.ndarray, smplx_to_arm: np.ndarray,
                     object_scale: float = 1.0) -> np.ndarray:
    """(T, 3) SMPL-X ``trans`` (metres, Y-up) -> the pelvis bone's ``location`` channel.

    A root bone's pose location is an offset in its own rest frame: ``B_0^T · S · trans``,
    divided by the armature object's scale so the body moves by ``trans`` metres.
    """
    b0 = orthonormalize(np.asarray(pelvis_rest, dtype=np.float64))
    if object_scale <= 0:
        raise ValueError(f"armature scale must be positive, got {object_scale}")
    return (np.asarray(trans, dtype=np.float64) @ (b0.T @ smplx_to_arm).T) / object_scale


def pose_from_bone_quaternions(q: np.ndarray, rest_quats: np.ndarray) -> np.ndarray:
    """Inverse of :func:`bone_quaternions`: (T, J, 4) WXYZ -> (T, J, 3) SMPL-X axis-angle."""
    r = quat.multiply(quat.multiply(rest_quats[None], np.asarray(q, dtype=np.float64)),
                      quat.conjugate(rest_quats)[None])
    return quat.to_axis_angle(r)


def trans_from_pelvis_locations(loc: np.ndarray, pelvis_rest: np.ndarray, smplx_to_arm: np.ndarray,
                                object_scale: float = 1.0) -> np.ndarray:
    """Inverse of :func:`pelvis_locations`."""
    b0 = orthonormalize(np.asarray(pelvis_rest, dtype=np.float64))
    return (np.asarray(loc, dtype=np.float64) * object_scale) @ (b0.T @ smplx_to_arm)
