"""Encode clips to posteriors and decode latents to clips: the one place that knows how the
network's input is laid out (padded frames at the model's fps, or time-normalised "phase"
frames when :attr:`MotionSpec.phase_frames` > 0).

Features here are raw 6D (see :mod:`.features`), one (T_i, F) tensor per clip; the
normaliser is applied inside. Call under ``torch.no_grad()`` for inference.
"""

from __future__ import annotations

from .features import time_resample


def _batch_in(feats: list, phase_frames: int, device):
    """Stack clips for the encoder: (B, T, F) raw features and (B, T) validity."""
    import torch

    if phase_frames:
        x = torch.stack([time_resample(f, phase_frames) for f in feats])
        return x.to(device), torch.ones(x.shape[:2], dtype=torch.bool, device=device)
    lengths = [len(f) for f in feats]
    T = max(lengths)
    x = torch.zeros(len(feats), T, feats[0].shape[-1])
    for b, f in enumerate(feats):
        x[b, :len(f)] = f
    valid = torch.arange(T)[None, :] < torch.as_tensor(lengths)[:, None]
    return x.to(device), valid.to(device)


def encode_clips(net, normalizer, feats: list, emb, phase_frames: int = 0):
    """Posterior mean and log-variance (B, D) of clips ``feats`` (list of (T_i, F) raw) given ``emb`` (B, E)."""
    x, valid = _batch_in(feats, phase_frames, emb.device)
    return net.encode(normalizer.normalise(x), valid, emb)


def decode_latents(net, normalizer, z, emb, lengths: list[int], phase_frames: int = 0) -> list:
    """Latents ``z`` (B, D) with ``emb`` (B, E) -> list of (lengths[i], F) raw feature tensors."""
    import torch

    if phase_frames:
        valid = torch.ones(len(lengths), phase_frames, dtype=torch.bool, device=z.device)
        y = normalizer.denormalise(net.decode(z, emb, valid))
        return [time_resample(y[b], int(n)) for b, n in enumerate(lengths)]
    T = max(lengths)
    valid = torch.arange(T, device=z.device)[None, :] < torch.as_tensor(lengths, device=z.device)[:, None]
    y = normalizer.denormalise(net.decode(z, emb, valid))
    return [y[b, :int(n)] for b, n in enumerate(lengths)]
