"""Pose clips -> the recognizer's input tensor.

A clip is (T, 55, 3) float axis-angle in SMPL-X joint order (the project's pose format).
The recognizer sees (N, 6, F, V): the 6D rotation (first two matrix columns, see
:mod:`..rotations`) of V joints at F frames. Every clip is resampled to the same F frames
by linear interpolation of the 6D vectors at evenly spaced times covering the whole clip
(first and last frame kept), so clips of any length compare on equal footing; the 6D
vectors of neighbouring frames are close, so interpolating them is a faithful
approximation of interpolating rotations.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..errors import SignAvatarError
from ..rotations import axis_angle_to_6d
from ..skeleton import NUM_JOINTS


def resample_times(num_frames: int, out_frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Floor index, ceil index and blend weight for ``out_frames`` evenly spaced times."""
    t = np.linspace(0.0, num_frames - 1, out_frames)
    lo = np.floor(t).astype(np.int64)
    hi = np.minimum(lo + 1, num_frames - 1)
    return lo, hi, (t - lo).astype(np.float32)


def clip_to_input(poses: np.ndarray, joints: np.ndarray, frames: int) -> torch.Tensor:
    """(T, 55, 3) axis-angle -> (6, frames, V) float32 6D rotations of ``joints``."""
    poses = np.asarray(poses)
    if poses.ndim != 3 or poses.shape[1:] != (NUM_JOINTS, 3) or poses.shape[0] < 1:
        raise SignAvatarError(f"expected a (T, {NUM_JOINTS}, 3) axis-angle clip, got shape {poses.shape}")
    lo, hi, w = resample_times(poses.shape[0], frames)
    sel = torch.from_numpy(np.ascontiguousarray(poses[:, joints], dtype=np.float32))
    d6 = axis_angle_to_6d(sel)  # (T, V, 6)
    w_t = torch.from_numpy(w)[:, None, None]
    out = d6[lo] * (1 - w_t) + d6[hi] * w_t  # (frames, V, 6)
    return out.permute(2, 0, 1).contiguous()


def clips_to_input(clips: Sequence[np.ndarray], joints: np.ndarray, frames: int) -> torch.Tensor:
    """A list of (T_i, 55, 3) clips -> (N, 6, frames, V) float32."""
    bad = [i for i, c in enumerate(clips) if np.ndim(c) != 3 or np.shape(c)[1:] != (NUM_JOINTS, 3)
           or np.shape(c)[0] < 1]
    if bad:
        raise SignAvatarError(f"{len(bad)} clip(s) are not (T, {NUM_JOINTS}, 3) axis-angle arrays "
                              f"(first: #{bad[0]}, shape {np.shape(clips[bad[0]])})")
    if not clips:
        return torch.zeros(0, 6, frames, len(joints))
    return torch.stack([clip_to_input(c, joints, frames) for c in clips])


def random_time_crop(x: torch.Tensor, min_keep: float, gen: torch.Generator) -> torch.Tensor:
    """Training augmentation: keep a random window of >= ``min_keep`` of each clip, stretched back to F frames."""
    n, c, f, v = x.shape
    keep = min_keep + (1 - min_keep) * torch.rand(n, generator=gen)
    start = (1 - keep) * torch.rand(n, generator=gen)
    t = start[:, None] + keep[:, None] * torch.linspace(0, 1, f)[None]  # (n, f) in [0, 1]
    pos = t * (f - 1)
    lo = pos.floor().long().clamp(0, f - 1)
    hi = (lo + 1).clamp(max=f - 1)
    w = (pos - lo)[:, None, :, None]
    gather = lambda idx: torch.gather(x, 2, idx[:, None, :, None].expand(n, c, f, v))  # noqa: E731
    return gather(lo) * (1 - w) + gather(hi) * w
