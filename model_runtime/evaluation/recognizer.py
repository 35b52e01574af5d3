"""The evaluation recognizer: an :class:`.stgcn.STGCN` with its gloss vocabulary.

Trained on the Raw train split only (never on reconstructed or generated clips, never on
test clips); its features (penultimate activations) feed FID, diversity and
multimodality. Saved as a folder::

    recognizer.safetensors   weights (incl. the input normaliser's running statistics)
    recognizer.json          STGCNConfig, TrainConfig, glosses, training record

and rebuilt from the JSON on load (no pickles).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch.nn import functional as F

from ..atomic import write_json, write_with
from ..errors import SignAvatarError
from .graph import joint_indices
from .inputs import clips_to_input, random_time_crop
from .stgcn import STGCN, STGCNConfig

WEIGHTS = "recognizer.safetensors"
CONFIG = "recognizer.json"


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 64  # at most; small sets use n/8 (>= 8) so that every epoch has >= 8 steps
    lr: float = 3e-3  # peak of a cosine schedule with one warm-up epoch
    weight_decay: float = 1e-3
    label_smoothing: float = 0.1
    min_keep: float = 0.8  # augmentation: random window of >= this fraction of each clip
    max_per_gloss: int = 0  # > 0: each epoch uses a fresh random draw of at most this many clips per gloss
    seed: int = 0


def lr_at(step: int, total_steps: int, warmup_steps: int, peak: float) -> float:
    """Linear warm-up to ``peak`` then cosine decay to zero."""
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def dataset_fingerprint(root) -> str:
    """SHA-1 of a dataset's index.csv: a recognizer is reused only on the data it was trained for."""
    return hashlib.sha1(Path(root, "index.csv").read_bytes()).hexdigest()


class Recognizer:
    """An STGCN plus the gloss names of its classes (class k = ``glosses[k]``)."""

    def __init__(self, model: STGCN, glosses: Sequence[str], train_config: TrainConfig, record: dict):
        self.model = model.eval()
        self.config = model.config
        self.glosses = list(glosses)
        self.train_config = train_config
        self.record = record
        self.joints = joint_indices(self.config.joint_set)
        self._index = {g: k for k, g in enumerate(self.glosses)}

    # -- inputs and labels --
    def labels(self, glosses: Sequence[str]) -> np.ndarray:
        """Class indices of ``glosses``; unknown glosses are an error naming them."""
        unknown = sorted({g for g in glosses if g not in self._index})
        if unknown:
            raise SignAvatarError(f"the recognizer was not trained on gloss(es) {unknown[:10]}"
                                  f"{' ...' if len(unknown) > 10 else ''}; retrain it on a dataset holding them")
        return np.array([self._index[g] for g in glosses], dtype=np.int64)

    def encode(self, clips: Sequence[np.ndarray]) -> torch.Tensor:
        return clips_to_input(clips, self.joints, self.config.frames)

    # -- inference --
    @torch.no_grad()
    def run(self, clips: Sequence[np.ndarray], batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Features (N, feature_dim) float32 and predicted class indices (N,) of pose clips."""
        self.model.eval()
        feats, preds = [], []
        for s in range(0, len(clips), batch_size):
            f = self.model.features(self.encode(clips[s:s + batch_size]))
            feats.append(f.numpy())
            preds.append(self.model.classifier(f).argmax(dim=1).numpy())
        if not feats:
            return np.zeros((0, self.config.feature_dim), np.float32), np.zeros(0, np.int64)
        return np.concatenate(feats), np.concatenate(preds)

    def accuracy(self, clips: Sequence[np.ndarray], glosses: Sequence[str]) -> float:
        _, pred = self.run(clips)
        return float(np.mean(pred == self.labels(glosses)))

    # -- storage --
    def save(self, folder) -> Path:
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().contiguous() for k, v in self.model.state_dict().items()}
        write_with(folder / WEIGHTS, lambda p: save_file(state, str(p)))
        meta = {"model": self.config.to_dict(), "train": asdict(self.train_config), "glosses": self.glosses,
                "record": self.record}
        write_json(folder / CONFIG, meta, indent=2)
        return folder

    @classmethod
    def load(cls, folder) -> "Recognizer":
        from safetensors.torch import load_file

        folder = Path(folder)
        if not (folder / CONFIG).is_file() or not (folder / WEIGHTS).is_file():
            raise SignAvatarError(f"{folder}: no recognizer here (expected {CONFIG} and {WEIGHTS}); "
                                  "'python -m model_runtime evaluate' trains one")
        meta = json.loads((folder / CONFIG).read_text())
        model = STGCN(STGCNConfig(**meta["model"]))
        try:
            model.load_state_dict(load_file(str(folder / WEIGHTS)))
        except RuntimeError as e:
            raise SignAvatarError(f"{folder}/{WEIGHTS} does not match {CONFIG}: {e}") from None
        return cls(model, meta["glosses"], TrainConfig(**meta["train"]), meta["record"])


@torch.no_grad()
def recalibrate_batchnorm(model: torch.nn.Module, x: torch.Tensor, batch_size: int) -> None:
    """Set every batch norm's running statistics to their exact average over ``x`` (un-augmented).

    With few optimiser steps (small datasets, short runs) the exponential running averages
    lag far behind the weights, and the network in eval mode is then much worse than in
    training; one pass with a cumulative average fixes that.
    """
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average
    model.train()
    for s in range(0, len(x), batch_size):
        if len(x[s:s + batch_size]) >= 2:
            model.features(x[s:s + batch_size])
    for m, mom in zip(norms, saved):
        m.momentum = mom
    model.eval()


def train_recognizer(train_clips: Sequence[np.ndarray], train_glosses: Sequence[str], model_config: dict | None = None,
                     train_config: TrainConfig | None = None, log: Callable[[str], None] = print) -> Recognizer:
    """Train an STGCN on raw clips and their glosses (the Raw train split).

    ``model_config``: STGCNConfig fields other than ``num_classes`` (taken from the
    glosses). Returns the recognizer in eval mode; ``record`` holds the training accuracy
    of the last epoch, the time taken and the clip count.
    """
    tc = train_config or TrainConfig()
    glosses = sorted(set(train_glosses))
    if len(glosses) < 2:
        raise SignAvatarError(f"a recognizer needs at least 2 glosses in the train split, got {glosses}")
    if len(train_clips) != len(train_glosses):
        raise SignAvatarError(f"{len(train_clips)} clips but {len(train_glosses)} glosses")
    config = STGCNConfig(num_classes=len(glosses), **(model_config or {}))
    torch.manual_seed(tc.seed)
    gen = torch.Generator().manual_seed(tc.seed)
    model = STGCN(config)
    index = {g: k for k, g in enumerate(glosses)}
    y = torch.tensor([index[g] for g in train_glosses], dtype=torch.long)
    t0 = time.time()
    x = clips_to_input(train_clips, joint_indices(config.joint_set), config.frames)
    opt = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    n_all = len(y)
    by_gloss = [torch.nonzero(y == k).flatten() for k in range(len(glosses))]
    n = sum(min(len(b), tc.max_per_gloss) for b in by_gloss) if tc.max_per_gloss > 0 else n_all
    batch_size = min(tc.batch_size, max(8, n // 8))
    steps_per_epoch = max(1, math.ceil(n / batch_size))
    total = steps_per_epoch * tc.epochs
    step = 0
    train_acc = float("nan")
    for epoch in range(tc.epochs):
        model.train()
        if tc.max_per_gloss > 0:
            draw = [b[torch.randperm(len(b), generator=gen)[:tc.max_per_gloss]] for b in by_gloss]
            chosen = torch.cat(draw)
            order = chosen[torch.randperm(len(chosen), generator=gen)]
        else:
            order = torch.randperm(n, generator=gen)
        correct, loss_sum = 0, 0.0
        for s in range(0, n, batch_size):
            idx = order[s:s + batch_size]
            if len(idx) < 2:
                continue  # batch norm needs two clips
            for group in opt.param_groups:
                group["lr"] = lr_at(step, total, steps_per_epoch, tc.lr)
            xb = random_time_crop(x[idx], tc.min_keep, gen) if tc.min_keep < 1 else x[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, y[idx], label_smoothing=tc.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            correct += int((logits.argmax(1) == y[idx]).sum())
            loss_sum += loss.item() * len(idx)
        train_acc = correct / n
        log(f"recognizer epoch {epoch + 1}/{tc.epochs}: loss {loss_sum / n:.3f}, train acc {train_acc:.3f} "
            f"({time.time() - t0:.0f} s)")
    recalibrate_batchnorm(model, x, tc.batch_size)
    record = {"train_clips": n_all, "clips_per_epoch": n, "epochs": tc.epochs, "batch_size": batch_size, "train_accuracy_last_epoch": train_acc,
              "seconds": round(time.time() - t0, 1)}
    return Recognizer(model, glosses, tc, record)
