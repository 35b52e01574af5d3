"""Clips <-> network features.

A clip as the network sees it: resampled to :attr:`MotionSpec.fps`, centre-cropped to
:attr:`MotionSpec.max_frames`, and each frame flattened to the 6D rotations (first two
matrix columns, see :mod:`..rotations`) of :attr:`MotionSpec.joints`, joint after joint:
(T, 6 * J) float32. Back to a pose: Gram-Schmidt to matrices, then axis-angle, written into
a (T, 55, 3) array whose other joints (legs, eyes) stay zero = rest.
"""

from __future__ import annotations

import numpy as np

from ..errors import SignAvatarError
from ..motion import SignMotion
from ..skeleton import NUM_JOINTS
from .config import MotionSpec


def crop_window(length: int, max_frames: int) -> slice:
    """The centre window of ``max_frames`` frames (the whole clip when it is short enough)."""
    if length <= max_frames:
        return slice(0, length)
    start = (length - max_frames) // 2
    return slice(start, start + max_frames)


def prepare_clip(poses: np.ndarray, fps: float, spec: MotionSpec, crop: bool = True) -> np.ndarray:
    """(T, 55, 3) axis-angle at ``fps`` -> (T', 55, 3) at ``spec.fps``, centre-cropped to ``spec.max_frames``.

    The same preparation is used for training, reconstruction and evaluation.
    """
    poses = np.asarray(poses, dtype=np.float32)
    if poses.ndim != 3 or poses.shape[1:] != (NUM_JOINTS, 3):
        raise SignAvatarError(f"expected (T, 55, 3) axis-angle poses, got {poses.shape}")
    if abs(float(fps) - spec.fps) > 1e-6:
        m = SignMotion(poses=poses, trans=np.zeros((len(poses), 3), np.float32), fps=fps)
        poses = m.resample(spec.fps).poses
    if crop:
        poses = poses[crop_window(len(poses), spec.max_frames)]
    return np.ascontiguousarray(poses)


def time_resample(feats, n: int):
    """(T, F) -> (n, F) by linear interpolation in time, first and last frames kept.

    Used for the time-normalised ("phase") clips of :attr:`MotionSpec.phase_frames`, in both
    directions. Works on 6D features (numpy or torch, returned in kind): neighbouring frames
    are close rotations, so interpolating their matrix columns and re-orthonormalising
    (:func:`features_to_poses`) differs from a slerp by far less than the model's error.
    """
    import torch

    is_np = not isinstance(feats, torch.Tensor)
    x = torch.as_tensor(np.asarray(feats) if is_np else feats)
    T = x.shape[0]
    if T == n:
        out = x
    elif T == 1:
        out = x.expand(n, -1)
    else:
        t = torch.linspace(0, T - 1, n, dtype=torch.float64, device=x.device)
        i0 = t.floor().long().clamp(max=T - 2)
        w = (t - i0).to(x.dtype)[:, None]
        out = x[i0] * (1 - w) + x[i0 + 1] * w
    out = out.contiguous()
    return out.numpy() if is_np else out


def poses_to_features(poses, spec: MotionSpec):
    """(..., T, 55, 3) axis-angle (numpy or torch) -> (..., T, 6J) float32 torch tensor."""
    import torch

    from .. import rotations as rot

    p = torch.as_tensor(np.asarray(poses) if not isinstance(poses, torch.Tensor) else poses, dtype=torch.float32)
    sel = p[..., spec.joint_indices, :]
    d6 = rot.axis_angle_to_6d(sel)
    return d6.reshape(*d6.shape[:-2], spec.feat_dim)


def features_to_matrices(feats, spec: MotionSpec):
    """(..., 6J) -> (..., 55, 3, 3) local rotation matrices; joints outside the spec are identity."""
    import torch

    from .. import rotations as rot

    mats = rot.sixd_to_matrix(feats.reshape(*feats.shape[:-1], len(spec.joints), 6))
    full = torch.eye(3, dtype=mats.dtype, device=mats.device).expand(*feats.shape[:-1], NUM_JOINTS, 3, 3).clone()
    full[..., spec.joint_indices, :, :] = mats
    return full


def features_to_poses(feats, spec: MotionSpec) -> np.ndarray:
    """(..., T, 6J) torch features -> (..., T, 55, 3) float32 numpy axis-angle (others at rest)."""
    import torch

    from .. import rotations as rot

    with torch.no_grad():
        f = feats.detach().float().cpu()
        aa = rot.sixd_to_axis_angle(f.reshape(*f.shape[:-1], len(spec.joints), 6))
        out = torch.zeros(*f.shape[:-1], NUM_JOINTS, 3)
        out[..., spec.joint_indices, :] = aa
    return out.numpy().astype(np.float32)
