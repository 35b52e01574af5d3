"""Training clips in memory: prepared features, per-gloss statistics, length-bucketed batches."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..data.dataset import SignDataset
from ..errors import SignAvatarError
from ..model.config import MotionSpec
from ..model.features import crop_window


@dataclass
class ClipSet:
    """Prepared clips, concatenated: ``feats[offsets[i]:offsets[i+1]]`` is clip ``i`` (raw 6D, float32)."""

    feats: np.ndarray  # (N_frames, F)
    offsets: np.ndarray  # (N + 1,)
    glosses: list[str]  # per clip
    sources: list[str]  # per clip

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.glosses)

    def clip(self, i: int) -> np.ndarray:
        return self.feats[self.offsets[i]:self.offsets[i + 1]]


def _resample_plan(frames: int, fps: float, spec: MotionSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source frame pairs and weights of the output frames that :func:`prepare_clip` keeps.

    Same timing as :meth:`SignMotion.resample` (first frame kept, duration rounded to whole
    output frames) followed by the centre crop to ``spec.max_frames``.
    """
    if frames == 1 or abs(fps - spec.fps) < 1e-6:
        t = np.arange(frames, dtype=np.float64)
    else:
        n_out = max(1, int(round((frames - 1) * spec.fps / fps)) + 1)
        t = np.clip(np.arange(n_out) * (fps / spec.fps), 0, frames - 1)
    t = t[crop_window(len(t), spec.max_frames)]
    i0 = np.floor(t).astype(np.int64)
    return i0, np.minimum(i0 + 1, frames - 1), t - i0


def load_clips(dataset: SignDataset, indices, spec: MotionSpec, progress: bool = False,
               chunk: int = 512) -> ClipSet:
    """Resample, crop and convert the dataset clips ``indices`` exactly as :func:`prepare_clip` does.

    Vectorised over ``chunk`` clips at a time: signing-joint quaternions of every source frame,
    one slerp for all output frames, then 6D.
    """
    import torch
    from tqdm import tqdm

    from .. import rotations as rot

    indices = list(indices)
    if not indices:
        raise SignAvatarError(f"{dataset.root}: no clips to train on in the chosen split")
    joints = spec.joint_indices
    feats, glosses, sources, offsets = [], [], [], [0]
    bar = tqdm(total=len(indices), desc="preparing clips", unit="clip", disable=not progress, leave=False)
    for s in range(0, len(indices), chunk):
        part = indices[s:s + chunk]
        raw, a, b, w, base = [], [], [], [], 0
        for i in part:
            r = dataset.records[i]
            raw.append(np.asarray(dataset.clip_poses(i))[:, joints])
            i0, i1, wt = _resample_plan(r["frames"], r["fps"], spec)
            a.append(i0 + base)
            b.append(i1 + base)
            w.append(wt)
            base += r["frames"]
            offsets.append(offsets[-1] + len(i0))
            glosses.append(r["gloss"])
            sources.append(r["source"])
        q = rot.axis_angle_to_quat(torch.from_numpy(np.concatenate(raw).astype(np.float64)))
        a, b = torch.from_numpy(np.concatenate(a)), torch.from_numpy(np.concatenate(b))
        wt = torch.from_numpy(np.concatenate(w))[:, None].expand(-1, len(joints))
        d6 = rot.matrix_to_6d(rot.quat_to_matrix(rot.quat_slerp(q[a], q[b], wt)))
        feats.append(d6.reshape(len(a), spec.feat_dim).float().numpy())
        bar.update(len(part))
    bar.close()
    return ClipSet(feats=np.concatenate(feats), offsets=np.asarray(offsets, dtype=np.int64), glosses=glosses,
                   sources=sources)


def phase_clips(clips: ClipSet, frames: int) -> ClipSet:
    """Every clip resampled in time to ``frames`` frames (:attr:`MotionSpec.phase_frames`)."""
    from ..model.features import time_resample

    feats = np.concatenate([time_resample(clips.clip(i), frames) for i in range(len(clips))])
    return ClipSet(feats=feats.astype(np.float32), offsets=np.arange(len(clips) + 1, dtype=np.int64) * frames,
                   glosses=list(clips.glosses), sources=list(clips.sources))


def gloss_statistics(clips: ClipSet) -> dict[str, dict]:
    """Per gloss: sample count, median / min / max length (frames at the model fps), sources."""
    out: dict[str, dict] = {}
    lengths = clips.lengths
    by_gloss: dict[str, list[int]] = {}
    for i, g in enumerate(clips.glosses):
        by_gloss.setdefault(g, []).append(i)
    for g in sorted(by_gloss):
        idx = by_gloss[g]
        ls = lengths[idx]
        out[g] = dict(samples=len(idx), frames=int(round(float(np.median(ls)))), frames_min=int(ls.min()),
                      frames_max=int(ls.max()), sources=dict(sorted(Counter(clips.sources[i] for i in idx).items())))
    return out


def epoch_batches(lengths: np.ndarray, gloss_ids: np.ndarray, batch_size: int, rng: np.random.Generator,
                  max_per_gloss: int = 0, bucket: int = 32) -> list[np.ndarray]:
    """Clip indices for one epoch, grouped into batches of similar length, in random order.

    ``max_per_gloss`` > 0 draws at most that many clips of each gloss this epoch (a fresh random
    subset each epoch), so a few huge glosses do not drown the single-clip dictionary glosses.
    """
    order = rng.permutation(len(lengths))
    if max_per_gloss > 0:
        seen: Counter = Counter()
        keep = []
        for i in order:
            if seen[gloss_ids[i]] < max_per_gloss:
                seen[gloss_ids[i]] += 1
                keep.append(i)
        order = np.asarray(keep, dtype=np.int64)
    batches = []
    chunk = batch_size * bucket
    for s in range(0, len(order), chunk):
        part = order[s:s + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches.extend(part[j:j + batch_size] for j in range(0, len(part), batch_size))
    return [batches[k] for k in rng.permutation(len(batches))]


def collate(clips: ClipSet, idx: np.ndarray):
    """(B, T, F) raw features zero-padded, (B, T) bool validity."""
    import torch

    lengths = clips.lengths[idx]
    T = int(lengths.max())
    x = np.zeros((len(idx), T, clips.feats.shape[1]), dtype=np.float32)
    for b, i in enumerate(idx):
        x[b, :lengths[b]] = clips.clip(i)
    valid = np.arange(T)[None, :] < lengths[:, None]
    return torch.from_numpy(x), torch.from_numpy(valid)
