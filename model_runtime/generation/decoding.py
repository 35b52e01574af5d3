"""The network calls behind every generation job: decode latents to poses; encode clips and decode them again.

Both run without gradients and in chunks of :data:`BATCH` clips, on the device the model was loaded to.
"""

from __future__ import annotations

import numpy as np

from ..model.checkpoint import LoadedModel
from ..model.features import features_to_poses
from ..model.inference import decode_latents, encode_clips

BATCH = 256


def decode(m: LoadedModel, z, emb, lengths: list[int]) -> list[np.ndarray]:
    """Decode latents (N, D) with embeddings (N, E) to (T_i, 55, 3) poses, in chunks."""
    import torch

    spec = m.config.motion
    out = []
    with torch.no_grad():
        for s in range(0, len(lengths), BATCH):
            ls = [int(x) for x in lengths[s:s + BATCH]]
            feats = decode_latents(m.net, m.normalizer, z[s:s + BATCH], emb[s:s + BATCH], ls, spec.phase_frames)
            out.extend(features_to_poses(f, spec) for f in feats)
    return out


def reconstruct_features(m: LoadedModel, device: str, feats: list, emb, sample: bool, seed: int) -> list:
    """Encode -> (mean or sampled) z -> decode, for raw feature tensors (T_i <= max_frames, F)."""
    import torch

    phase = m.config.motion.phase_frames
    out = []
    g = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for s in range(0, len(feats), BATCH):
            chunk = feats[s:s + BATCH]
            e = emb[s:s + BATCH]
            mu, logvar = encode_clips(m.net, m.normalizer, chunk, e, phase)
            z = mu
            if sample:
                z = mu + torch.randn(mu.shape, generator=g).to(device) * torch.exp(0.5 * logvar)
            out.extend(y.cpu() for y in decode_latents(m.net, m.normalizer, z, e, [len(f) for f in chunk], phase))
    return out
