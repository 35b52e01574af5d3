"""One evaluation end to end: dataset + recognizer (cached) + model -> report files."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import SignAvatarError
from .protocol import ProtocolConfig, eligible_glosses, evaluate, select_clips
from .recognizer import Recognizer, TrainConfig, dataset_fingerprint, train_recognizer
from .report import write_report


@dataclass
class RecognizerSettings:
    epochs: int = 30
    max_per_gloss: int = 0  # per epoch; 0 = every train clip
    joint_set: str = "signing"
    seed: int = 0
    retrain: bool = False


def recognizer_for(dataset, folder, split_kind: str, settings: RecognizerSettings,
                   log: Callable[[str], None] = print, min_samples: int = 0, min_signers: int = 0) -> Recognizer:
    """Load the recognizer in ``folder`` if it was trained on this dataset's Raw train split; else train and save it.

    ``min_samples`` / ``min_signers`` restrict it to the glosses the evaluation keeps (see
    :func:`.protocol.eligible_glosses`).
    """
    from .protocol import eligible_glosses

    folder = Path(folder)
    fingerprint = dataset_fingerprint(dataset.root)
    gloss_filter = {"min_samples": min_samples, "min_signers": min_signers}
    eligible = eligible_glosses(dataset, min_samples, min_signers)
    if not settings.retrain and (folder / "recognizer.json").is_file():
        rec = Recognizer.load(folder)
        r = rec.record
        if (r.get("data_fingerprint") == fingerprint and r.get("split_kind") == split_kind
                and r.get("gloss_filter", {"min_samples": 0, "min_signers": 0}) == gloss_filter
                and rec.config.joint_set == settings.joint_set and rec.train_config.epochs == settings.epochs
                and rec.train_config.max_per_gloss == settings.max_per_gloss
                and rec.train_config.seed == settings.seed):
            log(f"recognizer: reusing {folder} (Raw test accuracy {r.get('raw_test_accuracy', float('nan')):.3f})")
            return rec
        log(f"recognizer: {folder} was trained on other data or settings; training a new one")
    train_idx = dataset.indices("train", kind=split_kind)
    test_idx = dataset.indices("test", kind=split_kind)
    if eligible is not None:
        train_idx = np.array([i for i in train_idx if dataset.records[int(i)]["gloss"] in eligible], dtype=np.int64)
        test_idx = np.array([i for i in test_idx if dataset.records[int(i)]["gloss"] in eligible], dtype=np.int64)
    if len(train_idx) == 0 or len(test_idx) == 0:
        raise SignAvatarError(f"{dataset.root}: the {split_kind} split has {len(train_idx)} train and "
                              f"{len(test_idx)} test clips; both must be non-empty")
    log(f"recognizer: training on {len(train_idx)} Raw train clips ({split_kind} split), {settings.epochs} epochs")
    rec = train_recognizer([dataset.clip_poses(int(i)) for i in train_idx],
                           [dataset.records[int(i)]["gloss"] for i in train_idx],
                           model_config={"joint_set": settings.joint_set},
                           train_config=TrainConfig(epochs=settings.epochs, seed=settings.seed,
                                                    max_per_gloss=settings.max_per_gloss), log=log)
    test_glosses = [dataset.records[int(i)]["gloss"] for i in test_idx]
    known = [k for k, g in enumerate(test_glosses) if g in set(rec.glosses)]
    if len(known) < len(test_idx):
        log(f"recognizer: {len(test_idx) - len(known)} test clips have glosses absent from train; ignored")
    acc = rec.accuracy([dataset.clip_poses(int(test_idx[k])) for k in known], [test_glosses[k] for k in known])
    rec.record.update(data=str(dataset.root), data_fingerprint=fingerprint, split_kind=split_kind,
                      gloss_filter=gloss_filter,
                      raw_test_accuracy=acc, chance_accuracy=1.0 / len(rec.glosses))
    rec.save(folder)
    log(f"recognizer: Raw test accuracy {acc:.3f} (chance {1 / len(rec.glosses):.3f}); saved to {folder}")
    return rec


def load_model(checkpoint):
    """The trained generator of a run folder (lazy import: generation may be absent from a build)."""
    try:
        from ..generation import Generator
    except ImportError as e:
        raise SignAvatarError(f"this build has no generation module ({e}); evaluate Raw only with --groups raw") \
            from None
    return Generator.load(checkpoint)


def training_overlap(model, dataset, test_idx) -> dict:
    """How many of the evaluation's test clips the model was trained on (by ``clip_id``).

    Reads the model's provenance (``config.dataset``: path and split it was trained on).
    ``overlap`` is None when the training dataset cannot be opened; the report then says so.
    """
    from ..data.dataset import SignDataset

    info = dict(getattr(getattr(model, "config", None), "dataset", None) or {})
    out = {"trained_on": info.get("path"), "trained_split": info.get("split"), "overlap": None,
           "test_clips": int(len(test_idx))}
    if not info.get("path"):
        return out
    from ..training.setup import resolve_dataset_path

    path = resolve_dataset_path(info["path"])
    try:
        trained = dataset if Path(path).resolve() == Path(dataset.root).resolve() else SignDataset.open(path)
    except SignAvatarError:
        return out
    idx = trained.indices(None if info.get("split") == "all" else "train")
    seen = {trained.records[int(i)]["clip_id"] for i in idx}
    test = {dataset.records[int(i)]["clip_id"] for i in test_idx}
    out["overlap"] = len(seen & test)
    return out


@dataclass
class EvalJob:
    data: Path
    out: Path
    recognizer_dir: Path
    checkpoint: Path | None = None
    protocol: ProtocolConfig = field(default_factory=ProtocolConfig)
    recognizer: RecognizerSettings = field(default_factory=RecognizerSettings)
    title: str = "SignAvatar evaluation"


def run_job(job: EvalJob, log: Callable[[str], None] = print) -> dict:
    from ..data.dataset import SignDataset

    t0 = time.time()
    dataset = SignDataset.open(job.data)
    rec = recognizer_for(dataset, job.recognizer_dir, job.protocol.split_kind, job.recognizer, log,
                         min_samples=job.protocol.min_samples, min_signers=job.protocol.min_signers)
    model = load_model(job.checkpoint) if job.checkpoint and any(g != "raw" for g in job.protocol.groups) else None
    result = evaluate(dataset, rec, model, job.protocol, log)
    if model is not None:
        p = job.protocol
        test_idx = select_clips(dataset, "test", p.split_kind, 0, 0,
                                glosses=eligible_glosses(dataset, p.min_samples, p.min_signers))
        result["held_out"] = training_overlap(model, dataset, test_idx)
        h = result["held_out"]
        if h["overlap"]:
            log(f"WARNING: the model was trained on {h['overlap']} of the {h['test_clips']} test clips; "
                "its Rec/Gen test figures are not held-out")
    result.update(data=str(job.data), checkpoint=str(job.checkpoint) if job.checkpoint else None,
                  recognizer_dir=str(job.recognizer_dir), total_seconds=round(time.time() - t0, 1))
    json_path, md_path = write_report(result, job.out, job.title)
    log(f"wrote {json_path} and {md_path}")
    return result
