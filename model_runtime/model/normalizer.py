"""Per-feature mean/std of the training frames, saved with the model (``normalizer.safetensors``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SignAvatarError

STD_FLOOR = 0.02  # features that barely move (jaw, spine) are not blown up by a tiny std


@dataclass
class Normalizer:
    mean: np.ndarray  # (F,) float32
    std: np.ndarray  # (F,) float32, >= STD_FLOOR

    @classmethod
    def fit(cls, feats: np.ndarray) -> "Normalizer":
        """From (N_frames, F) raw features."""
        f = np.asarray(feats, dtype=np.float64)
        if f.ndim != 2 or len(f) == 0:
            raise SignAvatarError(f"cannot fit a normaliser on features of shape {f.shape}")
        return cls(mean=f.mean(0).astype(np.float32), std=np.maximum(f.std(0), STD_FLOOR).astype(np.float32))

    def normalise(self, x):
        import torch

        return (x - torch.as_tensor(self.mean, device=x.device)) / torch.as_tensor(self.std, device=x.device)

    def denormalise(self, x):
        import torch

        return x * torch.as_tensor(self.std, device=x.device) + torch.as_tensor(self.mean, device=x.device)

    def save(self, path) -> None:
        from safetensors.numpy import save_file

        save_file({"mean": self.mean, "std": self.std}, str(path))

    @classmethod
    def load(cls, path, feat_dim: int) -> "Normalizer":
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        path = Path(path)
        if not path.is_file():
            raise SignAvatarError(f"{path.parent}: missing {path.name} (the feature normaliser); the model folder is "
                                  "incomplete, copy it again or retrain")
        try:
            d = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as e:
            raise SignAvatarError(f"{path}: unreadable normaliser ({e})") from None
        problems = [f"'{k}' has shape {d[k].shape if k in d else 'missing'}, expected ({feat_dim},)"
                    for k in ("mean", "std") if k not in d or d[k].shape != (feat_dim,)]
        if problems:
            raise SignAvatarError(f"{path}: normaliser does not fit the model config: " + "; ".join(problems))
        if not (np.isfinite(d["mean"]).all() and np.isfinite(d["std"]).all() and (d["std"] > 0).all()):
            raise SignAvatarError(f"{path}: normaliser holds non-finite or non-positive values")
        return cls(mean=d["mean"].astype(np.float32), std=d["std"].astype(np.float32))
