"""The per-gloss latent prior: sample z where the training clips of that sign put their posteriors.

A CVAE trained with a small KL weight keeps its posteriors q(z | clip, sign) far from N(0, I):
decoding z ~ N(0, I) then lands in a "prior hole" and gives a blurred, mean-like motion. This
prior is a kernel density estimate of the aggregate posterior of each gloss:

    p(z | g) = 1/K_g * sum_k N(z; c_k, S_g R S_g),   S_g = diag(s_g)

with centres c_k the posterior means of (at most ``max_centres``) training clips of g and a
per-dimension kernel width s_g^2 = (mean posterior variance of g's clips) + (``bandwidth`` * the
within-gloss spread of the posterior means)^2, that spread shrunk towards the one pooled over all
glosses (a gloss with one or two clips gets the pooled spread around its own clips, never its
neighbours'). The first part is the noise the decoder was trained with (so a sample is decoded
as well as a sampled reconstruction); the second moves samples between the clips of the sign,
so they are new motions rather than copies.

R is the correlation of the latent dimensions within a gloss, pooled over all glosses (the
deviations of each clip's posterior mean from its gloss's mean, divided by that gloss's spread),
shrunk by ``corr_shrink`` towards the identity. The ways two clips of one sign differ (faster,
wider, the other hand higher) move many latent dimensions together: a kernel with R puts its
samples along those directions instead of in an axis-aligned box around them (held-out
posteriors are more likely under it; ``docs/evaluation.md``). ``correlated=False`` (or a file
without ``mixing``) is the diagonal kernel, R = I.

Sampling picks a centre uniformly, then adds ``temperature`` * s_g * (L eps), eps ~ N(0, I),
L the lower Cholesky factor of R (its rows have unit norm, so each dimension keeps the variance
s_g^2); each centre also keeps its clip's length (frames at the model's fps), the default length
of a sample drawn from it.

File ``latent_prior.safetensors`` in the model folder (optional: older folders sample N(0, I)):
``centres`` (K, D) float32, ``owner`` (K,) int64 gloss index, ``frames`` (K,) int64,
``scale`` (G, D) float32, optional ``mixing`` (D, D) float32 (L); metadata ``bandwidth``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SignAvatarError

PRIOR_FILE = "latent_prior.safetensors"
DEFAULT_BANDWIDTH = 0.35
DEFAULT_CORR_SHRINK = 0.05


@dataclass
class GlossPrior:
    centres: np.ndarray  # (K, D) posterior means of training clips
    owner: np.ndarray  # (K,) gloss index (row of the gloss table) of each centre
    frames: np.ndarray  # (K,) that clip's length in model frames
    scale: np.ndarray  # (G, D) kernel width per gloss and latent dimension
    bandwidth: float
    mixing: np.ndarray | None = None  # (D, D) lower Cholesky factor of the within-gloss correlation; None = I

    @property
    def dim(self) -> int:
        return int(self.centres.shape[1])

    @classmethod
    def fit(cls, mus: np.ndarray, gloss_ids: np.ndarray, frames: np.ndarray, n_glosses: int,
            logvars: np.ndarray | None = None, bandwidth: float = DEFAULT_BANDWIDTH, max_centres: int = 32,
            shrink: float = 4.0, seed: int = 0, correlated: bool = True,
            corr_shrink: float = DEFAULT_CORR_SHRINK) -> "GlossPrior":
        """From the posterior means ``mus`` (N, D) (and log-variances ``logvars``) of training clips
        with gloss rows ``gloss_ids`` (N,) and lengths ``frames`` (N,)."""
        mus = np.asarray(mus, dtype=np.float64)
        gloss_ids = np.asarray(gloss_ids, dtype=np.int64)
        frames = np.maximum(np.asarray(frames, dtype=np.int64), 2)
        if mus.ndim != 2 or len(mus) != len(gloss_ids) or len(mus) != len(frames) or len(mus) == 0:
            raise SignAvatarError(f"latent prior: {len(gloss_ids)} gloss ids and {len(frames)} lengths for "
                                  f"posteriors of shape {mus.shape}")
        missing = sorted(set(range(n_glosses)) - set(gloss_ids.tolist()))
        if missing:
            raise SignAvatarError(f"latent prior: {len(missing)} glosses have no training clip (first: {missing[0]})")
        D = mus.shape[1]
        counts = np.bincount(gloss_ids, minlength=n_glosses).astype(np.float64)
        means = np.zeros((n_glosses, D))
        np.add.at(means, gloss_ids, mus)
        means /= counts[:, None]
        sq = np.zeros((n_glosses, D))
        np.add.at(sq, gloss_ids, (mus - means[gloss_ids]) ** 2)
        dof = counts - 1
        pooled = sq.sum(0) / max(dof.sum(), 1.0) if dof.sum() > 0 else np.var(mus, axis=0)
        pooled = np.maximum(pooled, 1e-8)
        var = (sq + shrink * pooled) / (dof + shrink)[:, None]
        post = np.zeros((n_glosses, D))
        if logvars is not None:
            np.add.at(post, gloss_ids, np.exp(np.asarray(logvars, dtype=np.float64)))
            post /= counts[:, None]
        scale = np.sqrt(post + bandwidth ** 2 * var)
        mixing = None
        if correlated and dof.sum() >= 2 * D:
            mixing = _correlation_factor((mus - means[gloss_ids]) / np.sqrt(var[gloss_ids]), dof.sum(), corr_shrink)
        rng = np.random.default_rng(seed)
        keep = []
        for g in range(n_glosses):
            rows = np.flatnonzero(gloss_ids == g)
            if len(rows) > max_centres:
                rows = np.sort(rng.choice(rows, max_centres, replace=False))
            keep.append(rows)
        keep = np.concatenate(keep)
        return cls(centres=mus[keep].astype(np.float32), owner=gloss_ids[keep], frames=frames[keep],
                   scale=scale.astype(np.float32), bandwidth=float(bandwidth),
                   mixing=None if mixing is None else mixing.astype(np.float32))

    def sample(self, gloss_rows, generator, temperature: float = 1.0):
        """Latents (N, D) torch float32 and default lengths (N,) for gloss rows ``gloss_rows`` (N,).

        ``generator``: a seeded CPU ``torch.Generator`` (same seed, same latents; sample k does not
        depend on how many are drawn). Per sample, one uniform draw picks the centre, then D normal
        draws give the offset.
        """
        import torch

        rows = np.asarray(gloss_rows, dtype=np.int64)
        starts, counts = self._index()
        if len(rows) and (rows.min() < 0 or rows.max() >= len(counts) or (counts[rows] == 0).any()):
            raise SignAvatarError("latent prior: a gloss row without centres was asked for")
        # per sample: one uniform (the centre), then D normals (the offset), so that sample k is the same
        # whatever the number of samples drawn with the seed
        u = np.zeros(len(rows))
        eps = torch.zeros((len(rows), self.dim))
        for k in range(len(rows)):
            u[k] = float(torch.rand((), generator=generator, dtype=torch.float64))
            eps[k] = torch.randn(self.dim, generator=generator)
        pick = starts[rows] + np.minimum((u * counts[rows]).astype(np.int64), counts[rows] - 1)
        if self.mixing is not None:
            eps = eps @ torch.from_numpy(self.mixing).T  # each row: L eps
        z = torch.from_numpy(self.centres[pick]) + float(temperature) * torch.from_numpy(self.scale[rows]) * eps
        return z, self.frames[pick].copy()

    def log_likelihood(self, z: np.ndarray, gloss_rows, temperature: float = 1.0) -> np.ndarray:
        """log p(z_i | g_i) (N,) of latents ``z`` (N, D) under each one's gloss kernel, in nats.

        The measure of how well the prior covers posteriors it was not fitted on (a held-out
        clip's posterior mean should be likely under its own gloss)."""
        from scipy.linalg import solve_triangular
        from scipy.special import logsumexp

        z = np.asarray(z, dtype=np.float64)
        rows = np.asarray(gloss_rows, dtype=np.int64)
        starts, counts = self._index()
        D = self.dim
        mix = np.eye(D) if self.mixing is None else self.mixing.astype(np.float64)
        log_det_mix = float(np.log(np.diag(mix)).sum())
        out = np.empty(len(z))
        for i, (zi, g) in enumerate(zip(z, rows)):
            s = float(temperature) * self.scale[g].astype(np.float64)
            c = self.centres[starts[g]:starts[g] + counts[g]].astype(np.float64)
            white = solve_triangular(mix, ((zi - c) / s).T, lower=True)  # (D, K): L^-1 of the standardised offsets
            log_k = -0.5 * (white ** 2).sum(0) - np.log(s).sum() - log_det_mix - 0.5 * D * np.log(2 * np.pi)
            out[i] = logsumexp(log_k) - np.log(len(c))
        return out

    def _index(self) -> tuple[np.ndarray, np.ndarray]:
        """Centres sorted by gloss: first row and count of each gloss's centres."""
        if not hasattr(self, "_cache"):
            order = np.argsort(self.owner, kind="stable")
            self.centres, self.owner, self.frames = self.centres[order], self.owner[order], self.frames[order]
            counts = np.bincount(self.owner, minlength=len(self.scale))
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            self._cache = (starts, counts)
        return self._cache

    # ---- files -----------------------------------------------------------------------------------
    def save(self, path) -> None:
        from safetensors.numpy import save_file

        from ..atomic import write_with as atomic_write

        tensors = {"centres": self.centres.astype(np.float32), "owner": self.owner.astype(np.int64),
                   "frames": self.frames.astype(np.int64), "scale": self.scale.astype(np.float32)}
        if self.mixing is not None:
            tensors["mixing"] = self.mixing.astype(np.float32)
        atomic_write(Path(path), lambda p: save_file(tensors, str(p), metadata={"bandwidth": repr(self.bandwidth)}))

    @classmethod
    def load(cls, path, dim: int, n_glosses: int, max_frames: int) -> "GlossPrior":
        """Read and check ``latent_prior.safetensors`` against the model (latent width, gloss count)."""
        from safetensors import SafetensorError, safe_open

        path = Path(path)
        try:
            with safe_open(str(path), framework="numpy") as f:
                meta = f.metadata() or {}
                d = {k: f.get_tensor(k) for k in f.keys()}
        except (SafetensorError, OSError, ValueError) as e:
            raise SignAvatarError(f"{path}: unreadable latent prior ({e})") from None
        problems = [f"missing '{k}'" for k in ("centres", "owner", "frames", "scale") if k not in d]
        if not problems:
            K = len(d["owner"])
            if d["centres"].shape != (K, dim):
                problems.append(f"centres {d['centres'].shape}, expected ({K}, {dim})")
            if d["frames"].shape != (K,):
                problems.append(f"frames {d['frames'].shape}, expected ({K},)")
            if d["scale"].shape != (n_glosses, dim):
                problems.append(f"scale {d['scale'].shape}, expected ({n_glosses}, {dim})")
            if not problems:
                if K == 0 or d["owner"].min() < 0 or d["owner"].max() >= n_glosses:
                    problems.append("owner rows outside the gloss table")
                elif len(set(d["owner"].tolist())) != n_glosses:
                    problems.append("some glosses have no centre")
                if len(d["frames"]) and (d["frames"].min() < 2 or d["frames"].max() > max_frames):
                    problems.append(f"frames outside [2, {max_frames}]")
                if not (np.isfinite(d["centres"]).all() and np.isfinite(d["scale"]).all()
                        and (d["scale"] >= 0).all()):
                    problems.append("non-finite centres or negative scales")
                if "mixing" in d:
                    problems += _mixing_problems(d["mixing"], dim)
        try:
            bandwidth = float(meta.get("bandwidth", "nan"))
        except ValueError:
            bandwidth = float("nan")
        if problems:
            raise SignAvatarError(f"{path}: latent prior does not fit the model: " + "; ".join(problems))
        return cls(centres=d["centres"].astype(np.float32), owner=d["owner"].astype(np.int64),
                   frames=d["frames"].astype(np.int64), scale=d["scale"].astype(np.float32), bandwidth=bandwidth,
                   mixing=d["mixing"].astype(np.float32) if "mixing" in d else None)


def kernel_summary(path) -> tuple[str, str]:
    """(``"correlated"`` or ``"diagonal"``, bandwidth as stored) of a prior file, without loading its tensors."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        return ("correlated" if "mixing" in f.keys() else "diagonal"), (f.metadata() or {}).get("bandwidth", "?")


def _correlation_factor(dev: np.ndarray, dof: float, shrink: float) -> np.ndarray:
    """Lower Cholesky factor of the pooled correlation of standardised within-gloss deviations
    ``dev`` (N, D) with ``dof`` degrees of freedom, shrunk by ``shrink`` towards the identity."""
    cov = dev.T @ dev / dof
    sd = np.sqrt(np.maximum(np.diag(cov), 1e-12))
    corr = cov / np.outer(sd, sd)
    corr = (1 - shrink) * corr + shrink * np.eye(len(corr))
    return np.linalg.cholesky(corr)


def _mixing_problems(mixing: np.ndarray, dim: int) -> list[str]:
    if mixing.shape != (dim, dim):
        return [f"mixing {mixing.shape}, expected ({dim}, {dim})"]
    m = mixing.astype(np.float64)
    if not np.isfinite(m).all() or np.abs(np.triu(m, 1)).max(initial=0) > 0 or (np.diag(m) <= 0).any():
        return ["mixing is not a lower-triangular factor with a positive diagonal"]
    if np.abs((m ** 2).sum(1) - 1).max() > 1e-3:
        return ["mixing rows do not have unit norm (not the factor of a correlation matrix)"]
    return []
