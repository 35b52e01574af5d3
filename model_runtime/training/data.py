"""Training clips in memory: prepared features, per-gloss statistics, length-bucketed batches."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..data.dataset import SignDataset
from ..errors import SignAvatarError
from ..model.config import MotionSpec
from ..model.features import poses_to_features, prepare_clip


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


def load_clips(dataset: SignDataset, indices, spec: MotionSpec, progress: bool = False) -> ClipSet:
    """Resample, crop and convert the dataset clips ``indices`` (see :func:`prepare_clip`)."""
    from tqdm import tqdm

    indices = list(indices)
    if not indices:
        raise SignAvatarError(f"{dataset.root}: no clips to train on in the chosen split")
    feats, glosses, sources, offsets = [], [], [], [0]
    for i in tqdm(indices, desc="preparing clips", unit="clip", disable=not progress, leave=False):
        r = dataset.records[i]
        poses = prepare_clip(np.array(dataset.clip_poses(i)), r["fps"], spec)
        f = poses_to_features(poses, spec).numpy()
        feats.append(f)
        offsets.append(offsets[-1] + len(f))
        glosses.append(r["gloss"])
        sources.append(r["source"])
    return ClipSet(feats=np.concatenate(feats).astype(np.float32), offsets=np.asarray(offsets, dtype=np.int64),
                   glosses=glosses, sources=sources)


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
