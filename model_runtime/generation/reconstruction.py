"""Reconstruction, the evaluation's Rec group and a check of what the model can represent: encode a clip
and decode it again (:meth:`Generator.reconstruct`, :meth:`Generator.reconstruct_batch`)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ..errors import SignAvatarError
from ..model.features import features_to_poses, poses_to_features, prepare_clip
from ..motion import SignMotion
from .decoding import reconstruct_features

if TYPE_CHECKING:
    from .generator import Generator


def reconstruct_batch(gen: Generator, clips: list[np.ndarray], glosses: list[str] | None = None,
                      sample: bool = False, seed: int = 0, fps=None) -> list[np.ndarray]:
    """Reconstruct many clips at once: each (T_i, 55, 3) axis-angle -> (T_i', 55, 3) at the model's fps.

    ``glosses``: the sign of each clip (required: the encoder is conditioned on it).
    ``fps``: the clips' frame rate (one number or one per clip; default: the model's). Clips are
    prepared as in training (resampled to the model's fps, centre-cropped to ``max_frames``), so
    T_i' = min(T_i * model fps / fps, max_frames). Joints the model does not drive keep their values.
    """
    import torch

    if glosses is None:
        raise SignAvatarError("reconstruct_batch needs the gloss of every clip (glosses=[...]): the model's "
                              "encoder is conditioned on the sign")
    if len(clips) != len(glosses):
        raise SignAvatarError(f"{len(clips)} clips but {len(glosses)} glosses")
    rates = [gen.fps if fps is None else fps] * len(clips) if fps is None or np.isscalar(fps) else list(fps)
    if len(rates) != len(clips):
        raise SignAvatarError(f"{len(clips)} clips but {len(rates)} frame rates")
    rows = gen._rows(glosses)
    if not clips:
        return []
    spec = gen._m.config.motion
    prepared = [prepare_clip(p, r, spec) for p, r in zip(clips, rates)]
    feats = [poses_to_features(c, spec) for c in prepared]
    emb = torch.as_tensor(gen._m.table.embeddings[rows], device=gen.device)
    rec = reconstruct_features(gen._m, gen.device, feats, emb, sample, seed)
    out = []
    for c, r in zip(prepared, rec):
        p = c.copy()
        p[:, spec.joint_indices] = features_to_poses(r, spec)[:, spec.joint_indices]
        out.append(p)
    return out


def reconstruct(gen: Generator, motion: SignMotion, sample: bool = False, seed: int = 0,
                gloss: str | None = None) -> SignMotion:
    """Encode a clip and decode it again (posterior mean, or a sample with ``sample=True``).

    The model is conditioned on the sign, so a gloss is needed: ``gloss`` or else ``motion.gloss``
    (free text is matched as in :meth:`Generator.match`). Any length and fps: the clip is resampled to the
    model's fps, processed in half-overlapping windows of ``max_frames`` blended with triangular
    weights, and resampled back, so the result has ``motion``'s fps and frame count. Joints the
    model does not drive (legs, eyes) and ``trans`` are kept from ``motion``.
    """
    import torch

    name = gloss if gloss else motion.gloss
    if not name:
        raise SignAvatarError("reconstruction is conditioned on the sign: pass gloss=... (the clip has none)")
    m = gen.match(name)
    spec = gen._m.config.motion
    poses = prepare_clip(motion.poses, motion.fps, spec, crop=False)
    feats = poses_to_features(poses, spec)
    T, W = len(feats), gen.max_frames
    starts = [0] if T <= W else sorted(set(list(range(0, T - W + 1, W // 2)) + [T - W]))
    windows = [feats[s:s + W] for s in starts]
    t = gen._m.table
    emb = torch.as_tensor(t.embeddings[t.index(m.gloss)], device=gen.device).expand(len(windows), -1)
    rec = reconstruct_features(gen._m, gen.device, windows, emb, sample, seed)
    acc = torch.zeros_like(feats)
    wsum = torch.zeros(T, 1)
    for s, r in zip(starts, rec):
        n = len(r)
        w = torch.minimum(torch.arange(1, n + 1), torch.arange(n, 0, -1)).float()[:, None]
        acc[s:s + n] += w * r
        wsum[s:s + n] += w
    out = poses.copy()
    out[:, spec.joint_indices] = features_to_poses(acc / wsum, spec)[:, spec.joint_indices]
    rec_m = SignMotion(poses=out, trans=np.zeros((T, 3), np.float32), fps=gen.fps)
    if abs(motion.fps - gen.fps) > 1e-6:
        rec_m = rec_m.resample(motion.fps)
    n_out = min(rec_m.num_frames, motion.num_frames)
    final = motion.poses.copy()
    final[:n_out, spec.joint_indices] = rec_m.poses[:n_out, spec.joint_indices]
    if n_out < motion.num_frames:  # resampling rounded one frame short: hold the last pose
        final[n_out:, spec.joint_indices] = rec_m.poses[n_out - 1, spec.joint_indices]
    return replace(motion, poses=final, trans=motion.trans.copy(), gloss=m.gloss,
                   source=f"{motion.source}:reconstructed:{gen.folder.name}")
