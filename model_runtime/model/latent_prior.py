"""The per-gloss latent prior: sample z where the training clips of that sign put their posteriors.

A CVAE trained with a small KL weight keeps its posteriors q(z | clip, sign) far from N(0, I):
decoding z ~ N(0, I) then lands in a "prior hole" and gives a blurred, mean-like motion. This
prior is a kernel density estimate of the aggregate posterior of each gloss:

    p(z | g) = 1/K_g * sum_k N(z; c_k, diag(s_g)^2)

with centres c_k the posterior means of (at most ``max_centres``) training clips of g and a
per-dimension kernel width s_g^2 = (mean posterior std of g's clips)^2 + (``bandwidth`` * the
within-gloss spread of the posterior means)^2, that spread shrunk towards the one pooled over all
glosses (a gloss with one or two clips gets the pooled spread around its own clips, never its
neighbours'). The first part is the noise the decoder was trained with (so a sample is decoded
as well as a sampled reconstruction); the second moves samples between the clips of the sign,
so they are new motions rather than copies. Sampling picks a centre uniformly, then adds
``temperature`` * s_g * N(0, I); each centre also keeps its clip's length (frames at the model's
fps), the default length of a sample drawn from it.

File ``latent_prior.safetensors`` in the model folder (optional: older folders sample N(0, I)):
``centres`` (K, D) float32, ``owner`` (K,) int64 gloss index, ``frames`` (K,) int64,
``scale`` (G, D) float32; metadata ``bandwidth``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SignAvatarError

PRIOR_FILE = "latent_prior.safetensors"


@dataclass
class GlossPrior:
    centres: np.ndarray  # (K, D) posterior means of training clips
    owner: np.ndarray  # (K,) gloss index (row of the gloss table) of each centre
    frames: np.ndarray  # (K,) that clip's length in model frames
    scale: np.ndarray  # (G, D) kernel width per gloss and latent dimension
    bandwidth: float

    @property
    def dim(self) -> int:
        return int(self.centres.shape[1])

    @classmethod
    def fit(cls, mus: np.ndarray, gloss_ids: np.ndarray, frames: np.ndarray, n_glosses: int,
            logvars: np.ndarray | None = None, bandwidth: float = 0.5, max_centres: int = 32,
            shrink: float = 4.0, seed: int = 0) -> "GlossPrior":
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
        rng = np.random.default_rng(seed)
        keep = []
        for g in range(n_glosses):
            rows = np.flatnonzero(gloss_ids == g)
            if len(rows) > max_centres:
                rows = np.sort(rng.choice(rows, max_centres, replace=False))
            keep.append(rows)
        keep = np.concatenate(keep)
        return cls(centres=mus[keep].astype(np.float32), owner=gloss_ids[keep], frames=frames[keep],
                   scale=scale.astype(np.float32), bandwidth=float(bandwidth))

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
        z = torch.from_numpy(self.centres[pick]) + float(temperature) * torch.from_numpy(self.scale[rows]) * eps
        return z, self.frames[pick].copy()

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
        try:
            bandwidth = float(meta.get("bandwidth", "nan"))
        except ValueError:
            bandwidth = float("nan")
        if problems:
            raise SignAvatarError(f"{path}: latent prior does not fit the model: " + "; ".join(problems))
        return cls(centres=d["centres"].astype(np.float32), owner=d["owner"].astype(np.int64),
                   frames=d["frames"].astype(np.int64), scale=d["scale"].astype(np.float32), bandwidth=bandwidth)
