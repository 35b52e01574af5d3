"""What the training loop asks of the posteriors of whole clip sets: held-out reconstruction figures
and the per-gloss latent prior fitted at every save (both from the posterior means)."""

from __future__ import annotations

import numpy as np

from ..model.latent_prior import GlossPrior
from .data import ClipSet


def validation_figures(net, clips: ClipSet | None, table_emb, gloss_index, normalizer, fk, device,
                phase_frames: int = 0) -> dict:
    """Reconstruction of held-out clips from the posterior mean: 6D MSE and mean joint error (mm),
    both at the clips' own length (a time-normalised model's output is resampled back first)."""
    import torch

    from ..model.inference import decode_latents, encode_clips

    if clips is None or len(clips) == 0:
        return {}
    net.eval()
    se, n, dist_sum, n_frames = 0.0, 0, 0.0, 0
    with torch.no_grad():
        for s in range(0, len(clips), 128):
            idx = [i for i in range(s, min(s + 128, len(clips))) if clips.glosses[i] in gloss_index]
            if not idx:
                continue
            feats = [torch.from_numpy(clips.clip(i)) for i in idx]
            emb = table_emb[[gloss_index[clips.glosses[i]] for i in idx]]
            mu, _ = encode_clips(net, normalizer, feats, emb, phase_frames)
            preds = decode_latents(net, normalizer, mu, emb, [len(f) for f in feats], phase_frames)
            pred, x = torch.cat(preds).to(device), torch.cat(feats).to(device)
            se += float(((pred - x) ** 2).sum())
            n += x.numel()
            dist_sum += float((fk(pred) - fk(x)).norm(dim=-1).mean(-1).sum())
            n_frames += len(x)
    net.train()
    return dict(val_recon=se / max(n, 1), val_joint_mm=1000 * dist_sum / max(n_frames, 1)) if n else {}


def fit_prior(net, clips: ClipSet, gloss_ids: np.ndarray, table_emb, normalizer, n_glosses: int,
              phase_frames: int = 0, seed: int = 0) -> GlossPrior:
    """The per-gloss latent prior from the posterior means of the training clips (:mod:`..model.latent_prior`)."""
    mus, logvars = encode_posteriors(net, clips, gloss_ids, table_emb, normalizer, phase_frames)
    return GlossPrior.fit(mus, gloss_ids, clips.lengths, n_glosses, logvars, seed=seed)


def encode_posteriors(net, clips: ClipSet, gloss_ids: np.ndarray, table_emb, normalizer,
                      phase_frames: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and log-variances (N, D) of ``clips`` with gloss rows ``gloss_ids`` (N,)."""
    import torch

    from ..model.inference import encode_clips

    net.eval()
    mus, logvars = [], []
    with torch.no_grad():
        for s in range(0, len(clips), 256):
            idx = list(range(s, min(s + 256, len(clips))))
            feats = [torch.from_numpy(clips.clip(i)) for i in idx]
            mu, logvar = encode_clips(net, normalizer, feats, table_emb[torch.as_tensor(gloss_ids[idx])],
                                      phase_frames)
            mus.append(mu.cpu().numpy())
            logvars.append(logvar.cpu().numpy())
    net.train()
    return np.concatenate(mus), np.concatenate(logvars)
