"""What a training run starts from: its config, its clips and tables, its folder.

:func:`run_config` picks the config (the saved one when resuming), :func:`prepare` loads the
clips and fits (new run) or loads (resumed run) the gloss table and the normaliser into a
:class:`Setup`, :func:`init_folder` checks a warm-start model, :func:`start_folder` and
:func:`trim_log` put the run folder in order. Paths a model folder records are
:func:`portable_path` (relative to the repository when inside it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..atomic import write_json, write_text
from ..data.dataset import SignDataset
from ..errors import SignAvatarError
from ..model.checkpoint import CONFIG_FILE, LOG_FILE, NORMALIZER_FILE, WEIGHTS_FILE
from ..model.config import ModelConfig, NetConfig
from ..model.gloss_table import GlossTable, gloss_words
from ..model.normalizer import Normalizer
from .data import ClipSet, gloss_statistics, load_clips, phase_clips
from .state import drop_state

REPO = Path(__file__).resolve().parents[2]


def build_gloss_table(clips: ClipSet, cfg: ModelConfig, encoder) -> GlossTable:
    return _gloss_table(clips, lambda texts: encoder.encode_text([cfg.encoder.text_for(t) for t in texts]))


def _gloss_table(clips: ClipSet, embed) -> GlossTable | None:
    """The gloss table of ``clips`` (sorted glosses, their words and length statistics); ``embed``
    maps the glosses' texts to their embeddings (or None: no table)."""
    stats = gloss_statistics(clips)
    glosses = sorted(stats)
    texts = [gloss_words(g) for g in glosses]
    emb = embed(texts)
    if emb is None:
        return None
    col = lambda k: [stats[g][k] for g in glosses]  # noqa: E731
    return GlossTable(glosses=glosses, texts=texts, embeddings=emb, samples=col("samples"), frames=col("frames"),
                      frames_min=col("frames_min"), frames_max=col("frames_max"), sources=col("sources"))


def dataset_info(ds: SignDataset, clips: ClipSet, split: str) -> dict:
    from collections import Counter

    lic = Counter(r.get("licence", "") for r in ds.records)
    return dict(path=portable_path(ds.root), split=split, clips=len(clips), glosses=len(set(clips.glosses)),
                frames=int(clips.offsets[-1]), sources=dict(sorted(Counter(clips.sources).items())),
                dataset_licences=dict(sorted(lic.items())))


def portable_path(path) -> str:
    """A dataset folder as a model folder records it: relative to the repository when inside it (so a
    model trained there, the shipped one included, carries no path of the training machine), else as
    given; the evaluation's held-out check opens it (see :func:`resolve_dataset_path`)."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(REPO).as_posix()
    except ValueError:
        return str(resolved)


def resolve_dataset_path(recorded: str) -> Path:
    """The folder :func:`portable_path` recorded: relative paths are relative to the repository."""
    p = Path(recorded)
    return p if p.is_absolute() else REPO / p



@dataclass
class Setup:
    """What a run trains on: its resolved config, the clips and the tables that map them to the network."""

    cfg: ModelConfig
    ds: SignDataset
    clips: ClipSet  # training clips at the model's fps
    val_clips: ClipSet | None  # held-out clips for the validation figures
    net_clips: ClipSet  # what the network sees (time-normalised when ``phase_frames``)
    table: GlossTable
    normalizer: Normalizer
    gloss_index: dict[str, int]
    gloss_ids: np.ndarray  # (N,) gloss row of each training clip


def run_config(run: Path, cfg: ModelConfig, resume: bool, force: bool, resume_epochs: int | None) -> ModelConfig:
    """The config a call trains with: the saved one when resuming (only the number of epochs may change)."""
    if resume:
        saved = ModelConfig.load(run / CONFIG_FILE)
        return replace(saved, train=replace(saved.train, epochs=resume_epochs or saved.train.epochs))
    if (run / CONFIG_FILE).exists() and not force:
        raise SignAvatarError(f"{run} already holds a model; continue it with --resume, or pass --force to "
                              "overwrite it, or choose another --out")
    return cfg


def prepare(data_dir, run: Path, cfg: ModelConfig, resume: bool, encoder_id: str, clip_weights,
             progress: bool) -> Setup:
    """Load the clips; fit (new run) or load (resumed run) the gloss table and the normaliser."""
    from ..semantic.factory import build_encoder

    tc = cfg.train
    ds = SignDataset.open(data_dir)
    clips = load_clips(ds, ds.indices(None if tc.split == "all" else "train"), cfg.motion, progress=progress)
    test_idx = ds.indices("test") if tc.split == "train" else []
    val_clips = load_clips(ds, test_idx, cfg.motion) if len(test_idx) else None
    phase = cfg.motion.phase_frames
    net_clips = phase_clips(clips, phase) if phase else clips
    if resume:
        table = GlossTable.load(run, cfg.encoder.dim)
        normalizer = Normalizer.load(run / NORMALIZER_FILE, cfg.motion.feat_dim)
    else:
        reused = warm_start_table(clips, cfg, encoder_id) if tc.init_from else None
        if reused is not None:  # the warm-start model already embedded every gloss with this encoder
            spec, table = reused
            cfg = replace(cfg, encoder=spec, dataset=dataset_info(ds, clips, tc.split))
        else:
            encoder = build_encoder(encoder_id, clip_weights=clip_weights, text_template=cfg.encoder.text_template)
            cfg = replace(cfg, encoder=encoder.spec, dataset=dataset_info(ds, clips, tc.split))
            table = build_gloss_table(clips, cfg, encoder)
        if tc.init_from:  # the warm-start weights expect their own normalised space
            folder = init_folder(cfg)
            normalizer = Normalizer.load(folder / NORMALIZER_FILE, cfg.motion.feat_dim)
            cfg = replace(cfg, train=replace(tc, init_from=portable_path(folder)))
        else:
            normalizer = Normalizer.fit(net_clips.feats)
    gloss_index = {g: i for i, g in enumerate(table.glosses)}
    missing = sorted({g for g in clips.glosses if g not in gloss_index})
    if missing:
        raise SignAvatarError(f"{run}: the saved gloss table lacks training glosses {missing[:10]}; "
                              "the dataset changed since this run started, start a new run")
    return Setup(cfg=cfg, ds=ds, clips=clips, val_clips=val_clips, net_clips=net_clips, table=table,
                  normalizer=normalizer, gloss_index=gloss_index,
                  gloss_ids=np.array([gloss_index[g] for g in clips.glosses]))


def warm_start_table(clips: ClipSet, cfg: ModelConfig, encoder_id: str):
    """(encoder spec, gloss table) for ``clips`` taken from the ``--init-from`` model, or None.

    MiniLM's weights ship in a fixed package, so the same gloss text always gets the same
    embedding: when the warm-start model was trained with MiniLM and the same text template and
    embedded every gloss of this run, its embeddings are reused rather than recomputed (the run
    then needs no text encoder: a warm start on a machine without it, or with a slow one, works).
    CLIP embeddings depend on the weights file a user gives, so they are always recomputed.
    """
    from ..semantic.base import parse_encoder_id

    kind, name = parse_encoder_id(encoder_id)
    folder = _locate(cfg.train.init_from)
    if kind != "minilm" or not (folder / CONFIG_FILE).is_file():
        return None
    init = ModelConfig.load(folder / CONFIG_FILE)
    if init.encoder.kind != "minilm" or (name and name != init.encoder.name) or \
            init.encoder.text_template != cfg.encoder.text_template:
        return None
    try:
        old = GlossTable.load(folder, init.encoder.dim)
    except SignAvatarError:
        return None
    old_rows = {t: i for i, t in enumerate(old.texts)}

    def embed(texts):
        rows = [old_rows.get(t) for t in texts]
        return None if any(r is None for r in rows) else old.embeddings[rows].copy()

    table = _gloss_table(clips, embed)
    return None if table is None else (init.encoder, table)


def _locate(init_from: str) -> Path:
    """The ``--init-from`` folder: as given, else as a model folder records it (relative to the repository)."""
    folder = Path(init_from)
    return folder if folder.exists() else resolve_dataset_path(init_from)


def init_folder(cfg: ModelConfig) -> Path:
    """The warm-start model folder of ``cfg.train.init_from``, checked to fit ``cfg`` (every mismatch named)."""
    folder = _locate(cfg.train.init_from)
    if not (folder / CONFIG_FILE).is_file() or not (folder / WEIGHTS_FILE).is_file():
        raise SignAvatarError(f"--init-from {cfg.train.init_from}: not a model folder (no {CONFIG_FILE} and "
                              f"{WEIGHTS_FILE})")
    init = ModelConfig.load(folder / CONFIG_FILE)
    problems = ["motion differs"] if init.motion != cfg.motion else []
    if not same_but_latent(init, cfg):
        problems.append("net differs (beyond latent_tokens, latent_dim, memory_tokens, posterior_heads and dropout)")
    if (init.encoder.kind, init.encoder.name, init.encoder.dim, init.encoder.text_template) != \
            (cfg.encoder.kind, cfg.encoder.name, cfg.encoder.dim, cfg.encoder.text_template):
        problems.append(f"encoder {init.encoder.id} != {cfg.encoder.id}")
    if problems:
        raise SignAvatarError(f"--init-from {cfg.train.init_from}: that model does not fit this run ("
                              + "; ".join(problems) + "); pass the same motion and network options it was "
                              "trained with (see its config.json)")
    return folder


def same_tensors(init: NetConfig, net: NetConfig) -> bool:
    """The two networks hold the same tensors (they may differ in dropout rate, which no tensor depends on)."""
    return replace(init, dropout=net.dropout) == net


def same_but_latent(init: ModelConfig, cfg: ModelConfig) -> bool:
    """The two networks differ at most in their latent (a warm start then copies every other tensor) and in
    their dropout rate (no tensor depends on it: a later stage may train with less regularisation)."""
    n = cfg.net
    return replace(init.net, latent_tokens=n.latent_tokens, latent_dim=n.latent_dim, memory_tokens=n.memory_tokens,
                   posterior_heads=n.posterior_heads, dropout=n.dropout) == n


def start_folder(run: Path, ds: SignDataset) -> None:
    """A new run's folder: no log or resumable state of an earlier run, the dataset's card beside the model."""
    run.mkdir(parents=True, exist_ok=True)
    (run / LOG_FILE).unlink(missing_ok=True)
    drop_state(run)
    if ds.card:
        write_json(run / "dataset_card.json", ds.card, indent=1, sort_keys=True)


def trim_log(log_path: Path, start_epoch: int) -> None:
    """Drop the epochs a resumed run logged after its last saved state (they are trained again)."""
    if log_path.exists():
        lines = [ln for ln in log_path.read_text().splitlines() if ln.strip()]
        write_text(log_path, "".join(ln + "\n" for ln in lines if json.loads(ln)["epoch"] < start_epoch))
