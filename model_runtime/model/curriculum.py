"""Schedules as pure functions: the curriculum mask ratio and the learning rate.

Curriculum (SignAvatar paper): ``g(ep) = min(0.1 * floor(ep / 500), 0.6)`` for 5000 epochs,
i.e. ten equal stages of the run, each masking 10 % more input frames, capped at 60 %.
:func:`mask_ratio` scales the stage length to any run: stage = ``floor(10 * epoch / total)``.
"""

from __future__ import annotations

import math

MAX_MASK_RATIO = 0.6
STAGES = 10


def mask_ratio(epoch: int, total_epochs: int) -> float:
    """Share of a clip's input frames hidden from the encoder at ``epoch`` (0-based) of ``total_epochs``."""
    if total_epochs < 1:
        raise ValueError(f"total_epochs must be >= 1, got {total_epochs}")
    if epoch < 0:
        raise ValueError(f"epoch must be >= 0, got {epoch}")
    stage = (STAGES * epoch) // total_epochs  # floor(epoch / (total / 10)) in exact integer arithmetic
    return min(stage, round(MAX_MASK_RATIO * STAGES)) / STAGES


def learning_rate(step: int, total_steps: int, lr: float, warmup_steps: int, min_ratio: float) -> float:
    """Linear warm-up over ``warmup_steps``, then cosine decay from ``lr`` to ``lr * min_ratio``."""
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    return lr * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def sample_frame_mask(valid, ratio: float, generator):
    """(B, T) bool: ``round(ratio * length)`` random valid frames of each clip, chosen with ``generator``.

    ``valid``: (B, T) bool, True on real (non-padding) frames. Masked frames are a uniformly
    random subset of each clip's frames; padding is never masked.
    """
    import torch

    if ratio <= 0:
        return torch.zeros_like(valid)
    scores = torch.rand(valid.shape, generator=generator, device=valid.device)
    scores = scores.masked_fill(~valid, 2.0)  # padding sorts last
    order = scores.argsort(dim=1)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(valid.shape[1], device=valid.device).expand_as(order))
    n_mask = torch.round(valid.sum(1).float() * ratio).long()
    return (rank < n_mask[:, None]) & valid
