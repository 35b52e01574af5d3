"""The evaluation protocol: Raw / Rec / Gen groups on the train and test splits.

* **Raw**: the dataset's clips.
* **Rec**: each Raw clip reconstructed by the model (encoder -> latent -> decoder).
* **Gen**: one clip generated from the gloss alone for each Raw clip, with that clip's
  gloss and length (so every group has the same gloss histogram and length profile).

For every group the recognizer (trained on Raw train only) gives features and
predictions; per seed we compute accuracy, FID against the Raw set of the same split
(train groups vs Raw train, test groups vs Raw test), diversity and multimodality. For Raw
itself FID against itself is 0 by definition, so its FID entry is the *noise floor*: the
FID between two random halves of the Raw set (re-drawn per seed). Gen is re-generated per
seed; Rec is re-drawn per seed only when reconstructions are sampled (``rec_sample``),
otherwise the posterior mean is decoded once and only the metric draws change. Results
are the mean and 95 % Student-t interval over the seeds.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from typing import Callable, Protocol, Sequence

import numpy as np

from ..errors import SignAvatarError
from . import metrics
from .recognizer import Recognizer

GROUPS = ("raw", "rec", "gen")
SPLITS = ("train", "test")
METRICS = ("accuracy", "fid", "diversity", "multimodality")


class MotionModel(Protocol):
    """What the protocol needs of a trained model (``generation.Generator`` provides it)."""

    def generate_batch(self, glosses: Sequence[str], lengths: Sequence[int], seed: int) -> list[np.ndarray]: ...

    def reconstruct_batch(self, clips: Sequence[np.ndarray], glosses: Sequence[str], sample: bool, seed: int,
                          fps: Sequence[float]) -> list[np.ndarray]: ...


@dataclass
class ProtocolConfig:
    seeds: int = 10  # repetitions; the paper's protocol needs >= 10 for its intervals
    split_kind: str = "gloss"  # 'gloss' (per-gloss 8:2) or 'signer' (signer-disjoint)
    groups: tuple[str, ...] = GROUPS
    diversity_pairs: int = 200  # S_d
    multimodality_pairs: int = 20  # S_l per gloss
    multimodality_min_samples: int = 5  # glosses with fewer clips in a group are left out of multimodality
    rec_sample: bool = False  # sample the latent in reconstruction instead of decoding its mean
    temperature: float = 1.0  # latent scale of the Gen group (1 = the prior, the paper's generation)
    prior: str = ""  # latent prior of the Gen group: "" = the model's default, "gloss" or "normal" (the paper's)
    batch_size: int = 64  # clips per model call
    max_clips: int = 0  # per split; 0 = all. A fixed seeded subset (same for every seed and group)
    min_samples: int = 0  # only glosses with at least this many clips in the dataset (0 = all)
    min_signers: int = 0  # only glosses recorded by at least this many signers in the dataset (0 = all)
    first_seed: int = 0

    def __post_init__(self):
        self.groups = tuple(self.groups)
        problems = []
        if self.seeds < 1:
            problems.append(f"seeds must be >= 1, got {self.seeds}")
        if self.split_kind not in ("gloss", "signer"):
            problems.append(f"split must be 'gloss' or 'signer', got {self.split_kind!r}")
        bad = [g for g in self.groups if g not in GROUPS]
        if bad or not self.groups:
            problems.append(f"groups must be among {GROUPS}, got {self.groups}")
        if problems:
            raise SignAvatarError("invalid evaluation settings: " + "; ".join(problems))


def eligible_glosses(dataset, min_samples: int = 0, min_signers: int = 0) -> set[str] | None:
    """Glosses with >= ``min_samples`` clips and >= ``min_signers`` signers in the whole dataset (None: no filter)."""
    if min_samples <= 0 and min_signers <= 0:
        return None
    clips: dict[str, int] = {}
    signers: dict[str, set] = {}
    for r in dataset.records:
        clips[r["gloss"]] = clips.get(r["gloss"], 0) + 1
        signers.setdefault(r["gloss"], set()).add(r["signer"])
    keep = {g for g in clips if clips[g] >= min_samples and len(signers[g]) >= min_signers}
    if len(keep) < 2:
        raise SignAvatarError(f"{dataset.root}: only {len(keep)} gloss(es) have >= {min_samples} clips and >= "
                              f"{min_signers} signers; lower --min-samples / --min-signers")
    return keep


def select_clips(dataset, split: str, kind: str, max_clips: int, seed: int,
                 glosses: set[str] | None = None) -> np.ndarray:
    """Clip indices of a split (of ``glosses`` only, when given), optionally a seeded subset of ``max_clips``."""
    idx = dataset.indices(split, kind=kind)
    if glosses is not None:
        idx = np.array([i for i in idx if dataset.records[int(i)]["gloss"] in glosses], dtype=np.int64)
    if max_clips and len(idx) > max_clips:
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.choice(idx, size=max_clips, replace=False))
    return idx


def model_lengths(frames: Sequence[int], clip_fps: Sequence[float], model_fps: float | None) -> list[int]:
    """Each real clip's length in the model's frames (same duration), at least one frame."""
    if not model_fps:
        return [int(f) for f in frames]
    return [max(1, int(round(f * model_fps / fps))) for f, fps in zip(frames, clip_fps)]


def _summary(values: list[float]) -> dict:
    mean, half = metrics.mean_ci(values)
    return {"mean": mean, "ci95": half, "values": [float(v) for v in values]}


@dataclass
class _Split:
    """One split's Raw clips, prepared once for every group and seed."""

    name: str
    index: int  # position in SPLITS (part of every seed)
    clips: list[np.ndarray]
    glosses: list[str]
    labels: np.ndarray
    clip_fps: list[float]
    lengths: list[int]  # each clip's length in the model's frames
    raw_feat: np.ndarray
    raw_pred: np.ndarray
    raw_accuracy: float
    left_out: int  # clips of glosses the recognizer never saw in train


def _load_split(dataset, recognizer: Recognizer, config: ProtocolConfig, s_i: int, eligible, model_fps,
                log) -> _Split:
    split = SPLITS[s_i]
    idx = select_clips(dataset, split, config.split_kind, config.max_clips, seed=1000 + s_i, glosses=eligible)
    known = set(recognizer.glosses)
    unknown = [int(i) for i in idx if dataset.records[int(i)]["gloss"] not in known]
    if unknown:  # glosses absent from the train split (possible with the signer-disjoint split)
        idx = np.array([i for i in idx if dataset.records[int(i)]["gloss"] in known], dtype=np.int64)
        log(f"{split}: {len(unknown)} clip(s) of glosses without train clips left out")
    if len(idx) < 4:
        raise SignAvatarError(f"the {split} split ({config.split_kind}) of {dataset.root} has {len(idx)} clip(s); "
                              "the protocol needs at least 4 (FID's noise floor compares two halves); "
                              "use a larger dataset")
    records = [dataset.records[i] for i in idx]
    glosses = [r["gloss"] for r in records]
    labels = recognizer.labels(glosses)
    clips = [np.asarray(dataset.clip_poses(int(i))) for i in idx]
    raw_feat, raw_pred = recognizer.run(clips)
    accuracy = metrics.accuracy(raw_pred, labels)
    log(f"{split}: {len(idx)} clips, {len(set(glosses))} glosses; Raw accuracy {accuracy:.3f}")
    clip_fps = [r["fps"] for r in records]
    return _Split(name=split, index=s_i, clips=clips, glosses=glosses, labels=labels, clip_fps=clip_fps,
                  lengths=model_lengths([r["frames"] for r in records], clip_fps, model_fps), raw_feat=raw_feat,
                  raw_pred=raw_pred, raw_accuracy=accuracy, left_out=len(unknown))


def _group_features(model: MotionModel, recognizer: Recognizer, config: ProtocolConfig, sp: _Split, group: str,
                    seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Recognizer features and predictions of the model's Rec or Gen clips for one split, in batches."""
    feats, preds = [], []
    for s in range(0, len(sp.clips), config.batch_size):
        sl = slice(s, s + config.batch_size)
        if group == "rec":
            batch = [np.array(c) for c in sp.clips[sl]]  # writable copies of the memory-mapped clips
            out = model.reconstruct_batch(batch, glosses=sp.glosses[sl], sample=config.rec_sample,
                                          seed=seed + s, fps=sp.clip_fps[sl])
        else:
            # temperature only when asked for: models without that option still evaluate
            extra = {} if config.temperature == 1.0 else {"temperature": config.temperature}
            if config.prior:
                extra["prior"] = config.prior
            out = model.generate_batch(sp.glosses[sl], sp.lengths[sl], seed=seed + s, **extra)
        f, p = recognizer.run(out)
        feats.append(f)
        preds.append(p)
    return np.concatenate(feats), np.concatenate(preds)


def _score_group(model, recognizer: Recognizer, config: ProtocolConfig, sp: _Split, group: str, seeds: list[int],
                 rec_once: list) -> dict:
    """Mean and interval of every metric of one group over the seeds (``rec_once`` caches the split's
    posterior-mean reconstructions)."""
    per = {m: [] for m in METRICS}
    mm_glosses = 0
    t0 = time.time()
    for seed in seeds:
        rng = np.random.default_rng([seed, sp.index, GROUPS.index(group)])
        if group == "raw":
            feat, pred = sp.raw_feat, sp.raw_pred
            half = rng.permutation(len(feat))
            per["fid"].append(metrics.fid(feat[half[: len(half) // 2]], feat[half[len(half) // 2:]]))
        else:
            if group == "rec" and not config.rec_sample:
                if not rec_once:
                    rec_once.append(_group_features(model, recognizer, config, sp, "rec", seeds[0]))
                feat, pred = rec_once[0]
            else:
                feat, pred = _group_features(model, recognizer, config, sp, group, seed * 100_003 + sp.index * 7919)
            per["fid"].append(metrics.fid(feat, sp.raw_feat))
        per["accuracy"].append(metrics.accuracy(pred, sp.labels))
        per["diversity"].append(metrics.diversity(feat, rng, config.diversity_pairs))
        mm = metrics.multimodality(feat, sp.labels, rng, config.multimodality_pairs, config.multimodality_min_samples)
        per["multimodality"].append(mm.value)
        mm_glosses = mm.glosses
    entry = {m: _summary(v) for m, v in per.items()}
    entry.update(clips=len(sp.clips), glosses=len(set(sp.glosses)), multimodality_glosses=mm_glosses,
                 seconds=round(time.time() - t0, 1))
    return entry


def evaluate(dataset, recognizer: Recognizer, model: MotionModel | None, config: ProtocolConfig,
             log: Callable[[str], None] = print) -> dict:
    """Run the protocol; returns a JSON-ready dict (see :mod:`.report` for its layout)."""
    needs_model = [g for g in config.groups if g != "raw"]
    if needs_model and model is None:
        raise SignAvatarError(f"groups {needs_model} need a trained model: pass --checkpoint RUN "
                              "(or evaluate Raw only with --groups raw)")
    if model is not None and not config.prior and getattr(model, "default_prior", None):
        config = replace(config, prior=model.default_prior)  # the report names the prior actually sampled
    t_start = time.time()
    seeds = list(range(config.first_seed, config.first_seed + config.seeds))
    model_fps = getattr(model, "fps", None) if model is not None else None
    eligible = eligible_glosses(dataset, config.min_samples, config.min_signers)
    out_groups: dict[str, dict] = {}
    splits = []
    for s_i in range(len(SPLITS)):
        sp = _load_split(dataset, recognizer, config, s_i, eligible, model_fps, log)
        splits.append(sp)
        rec_once: list = []
        for group in config.groups:
            entry = out_groups[f"{group}_{sp.name}"] = _score_group(model, recognizer, config, sp, group, seeds,
                                                                    rec_once)
            log(f"  {group}_{sp.name}: acc {entry['accuracy']['mean']:.3f}, FID {entry['fid']['mean']:.3f}, "
                f"div {entry['diversity']['mean']:.3f}, MM {entry['multimodality']['mean']:.3f} "
                f"({entry['seconds']:.0f} s)")
    accuracy = {sp.name: sp.raw_accuracy for sp in splits}
    return {
        "protocol": asdict(config),
        "seeds": seeds,
        "clips": {sp.name: len(sp.clips) for sp in splits},
        "glosses": len(eligible) if eligible is not None else len(dataset.glosses()),
        "clips_left_out_unknown_gloss": {sp.name: sp.left_out for sp in splits},
        "recognizer": {**recognizer.record, "raw_train_accuracy": accuracy["train"],
                       "raw_test_accuracy": accuracy["test"], "glosses": len(recognizer.glosses),
                       "config": recognizer.config.to_dict()},
        "groups": out_groups,
        "seconds": round(time.time() - t_start, 1),
    }
