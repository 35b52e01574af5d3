"""The training loop: one process, or one per GPU under ``torchrun`` (DDP).

Per epoch: random generators re-seeded from (seed, epoch, rank); clips drawn (at most
``max_clips_per_gloss`` per gloss), bucketed by length into batches; curriculum mask ratio
``mask_ratio(epoch, epochs)``; loss = 6D MSE + fk_weight * FK position MSE + kl_weight * KL;
gradients clipped; learning rate by :func:`learning_rate` per step. Rank 0 writes one JSON
line per epoch to ``train_log.jsonl`` and, every ``save_every`` epochs and at the end, the
loadable model files plus ``train_state/`` for ``--resume``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..atomic import write_json, write_text
from ..data.dataset import SignDataset
from ..errors import SignAvatarError
from ..model.checkpoint import CONFIG_FILE, LOG_FILE, NORMALIZER_FILE, WEIGHTS_FILE, build_net, load_state_dict, save_model
from ..model.config import ModelConfig
from ..model.gloss_table import GlossTable, gloss_words
from ..model.normalizer import Normalizer
from .data import ClipSet, collate, epoch_batches, gloss_statistics, load_clips, phase_clips
from .posteriors import validation_figures, fit_prior
from .precision import resolve_precision
from .state import drop_state, load_state, save_state


@dataclass
class TrainResult:
    run: Path
    epochs: int
    seconds: float
    last: dict  # the last epoch's log record
    finished: bool = True  # False when stopped early by stop_after (resumable)


def resolve_device(device: str, local_rank: int = 0) -> str:
    import torch

    if device == "auto":
        return f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SignAvatarError("--device cuda was asked for but this torch has no CUDA device; use --device cpu")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise SignAvatarError(f"unknown device '{device}': use auto, cpu, cuda or cuda:N")
    return f"cuda:{local_rank}" if device == "cuda" else device


class _Dist:
    """torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK) or a single process."""

    def __init__(self):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.active = False

    def start(self, device: str) -> None:
        if self.world > 1:
            import torch.distributed as dist

            if device.startswith("cuda"):
                import torch

                torch.cuda.set_device(device)
            dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
            self.active = True

    def mean(self, values: list[float], device) -> list[float]:
        if not self.active:
            return values
        import torch
        import torch.distributed as dist

        t = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(t)
        return (t / self.world).tolist()

    def stop(self) -> None:
        if self.active:
            import torch.distributed as dist

            dist.destroy_process_group()


def build_gloss_table(clips: ClipSet, cfg: ModelConfig, encoder) -> GlossTable:
    stats = gloss_statistics(clips)
    glosses = sorted(stats)
    texts = [gloss_words(g) for g in glosses]
    emb = encoder.encode_text([cfg.encoder.text_for(t) for t in texts])
    col = lambda k: [stats[g][k] for g in glosses]  # noqa: E731
    return GlossTable(glosses=glosses, texts=texts, embeddings=emb, samples=col("samples"), frames=col("frames"),
                      frames_min=col("frames_min"), frames_max=col("frames_max"), sources=col("sources"))


def _dataset_info(ds: SignDataset, clips: ClipSet, split: str) -> dict:
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


REPO = Path(__file__).resolve().parents[2]


@dataclass
class _Setup:
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


def _run_config(run: Path, cfg: ModelConfig, resume: bool, force: bool, resume_epochs: int | None) -> ModelConfig:
    """The config a call trains with: the saved one when resuming (only the number of epochs may change)."""
    if resume:
        saved = ModelConfig.load(run / CONFIG_FILE)
        return replace(saved, train=replace(saved.train, epochs=resume_epochs or saved.train.epochs))
    if (run / CONFIG_FILE).exists() and not force:
        raise SignAvatarError(f"{run} already holds a model; continue it with --resume, or pass --force to "
                              "overwrite it, or choose another --out")
    return cfg


def _prepare(data_dir, run: Path, cfg: ModelConfig, resume: bool, encoder_id: str, clip_weights,
             progress: bool) -> _Setup:
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
        encoder = build_encoder(encoder_id, clip_weights=clip_weights, text_template=cfg.encoder.text_template)
        cfg = replace(cfg, encoder=encoder.spec, dataset=_dataset_info(ds, clips, tc.split))
        table = build_gloss_table(clips, cfg, encoder)
        if tc.init_from:  # the warm-start weights expect their own normalised space
            folder = _init_folder(cfg)
            normalizer = Normalizer.load(folder / NORMALIZER_FILE, cfg.motion.feat_dim)
            cfg = replace(cfg, train=replace(tc, init_from=portable_path(folder)))
        else:
            normalizer = Normalizer.fit(net_clips.feats)
    gloss_index = {g: i for i, g in enumerate(table.glosses)}
    missing = sorted({g for g in clips.glosses if g not in gloss_index})
    if missing:
        raise SignAvatarError(f"{run}: the saved gloss table lacks training glosses {missing[:10]}; "
                              "the dataset changed since this run started, start a new run")
    return _Setup(cfg=cfg, ds=ds, clips=clips, val_clips=val_clips, net_clips=net_clips, table=table,
                  normalizer=normalizer, gloss_index=gloss_index,
                  gloss_ids=np.array([gloss_index[g] for g in clips.glosses]))


def _init_folder(cfg: ModelConfig) -> Path:
    """The warm-start model folder of ``cfg.train.init_from``, checked to fit ``cfg`` (every mismatch named)."""
    folder = Path(cfg.train.init_from)
    if not folder.exists():  # as a model folder records it: relative to the repository
        folder = resolve_dataset_path(cfg.train.init_from)
    if not (folder / CONFIG_FILE).is_file() or not (folder / WEIGHTS_FILE).is_file():
        raise SignAvatarError(f"--init-from {cfg.train.init_from}: not a model folder (no {CONFIG_FILE} and "
                              f"{WEIGHTS_FILE})")
    init = ModelConfig.load(folder / CONFIG_FILE)
    problems = [f"{part} differs" for part, a, b in (("motion", init.motion, cfg.motion), ("net", init.net, cfg.net))
                if a != b]
    if (init.encoder.kind, init.encoder.name, init.encoder.dim, init.encoder.text_template) != \
            (cfg.encoder.kind, cfg.encoder.name, cfg.encoder.dim, cfg.encoder.text_template):
        problems.append(f"encoder {init.encoder.id} != {cfg.encoder.id}")
    if problems:
        raise SignAvatarError(f"--init-from {cfg.train.init_from}: that model does not fit this run ("
                              + "; ".join(problems) + "); pass the same motion and network options it was "
                              "trained with (see its config.json)")
    return folder


def _start_folder(run: Path, ds: SignDataset) -> None:
    """A new run's folder: no log or resumable state of an earlier run, the dataset's card beside the model."""
    run.mkdir(parents=True, exist_ok=True)
    (run / LOG_FILE).unlink(missing_ok=True)
    drop_state(run)
    if ds.card:
        write_json(run / "dataset_card.json", ds.card, indent=1, sort_keys=True)


def _trim_log(log_path: Path, start_epoch: int) -> None:
    """Drop the epochs a resumed run logged after its last saved state (they are trained again)."""
    if log_path.exists():
        lines = [ln for ln in log_path.read_text().splitlines() if ln.strip()]
        write_text(log_path, "".join(ln + "\n" for ln in lines if json.loads(ln)["epoch"] < start_epoch))


@dataclass
class _Trainer:
    """The network, its optimiser and everything one optimisation step needs."""

    setup: _Setup
    net: object  # SignCVAE
    model: object  # the net, or its DDP wrapper
    optimizer: object
    device: str
    dist: _Dist
    steps_per_epoch: int = 0

    def __post_init__(self):
        import torch

        from ..model.losses import FKPositions

        tc = self.setup.cfg.train
        self.table_emb = torch.as_tensor(self.setup.table.embeddings, device=self.device)
        self.fk = FKPositions(self.setup.cfg.motion, device=self.device)
        self.autocast = torch.autocast(device_type=torch.device(self.device).type, dtype=torch.bfloat16,
                                       enabled=tc.precision == "bfloat16")

    def epoch(self, epoch: int) -> dict:
        """Train one epoch; its log record (means over batches and processes)."""
        import torch

        from ..model.curriculum import learning_rate, mask_ratio

        tc, dist = self.setup.cfg.train, self.dist
        t0, c0 = time.time(), time.process_time()
        rng = np.random.default_rng([tc.seed, epoch])
        torch.manual_seed(tc.seed * 1_000_003 + epoch * 101 + dist.rank)
        gen = torch.Generator(device=self.device).manual_seed(tc.seed * 7_919 + epoch * 104_729 + dist.rank)
        batches = epoch_batches(self.setup.net_clips.lengths, self.setup.gloss_ids, tc.batch_size, rng,
                                tc.max_clips_per_gloss)
        n_b = len(batches) // dist.world
        if n_b == 0:
            raise SignAvatarError(f"not enough clips for {dist.world} processes with batch size {tc.batch_size}")
        batches = batches[dist.rank * n_b:(dist.rank + 1) * n_b]
        if self.steps_per_epoch == 0:
            self.steps_per_epoch = n_b
        total_steps = self.steps_per_epoch * tc.epochs
        ratio = mask_ratio(epoch, tc.epochs) if tc.curriculum else 0.0
        sums, lr = np.zeros(5), tc.lr
        for b, idx in enumerate(batches):
            lr = learning_rate(epoch * self.steps_per_epoch + b, total_steps, tc.lr, tc.warmup_steps,
                               tc.min_lr_ratio)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            sums += self.step(idx, ratio, gen)
        mean = dist.mean(list(sums / len(batches)), self.device)
        return dict(epoch=epoch, loss=mean[0], recon=mean[1], kl=mean[2], fk=mean[3], grad_norm=mean[4],
                    mask_ratio=ratio, lr=lr, batches=len(batches) * dist.world,
                    seconds=round(time.time() - t0, 3), cpu_seconds=round(time.process_time() - c0, 3))

    def step(self, idx: np.ndarray, ratio: float, gen) -> list[float]:
        """One optimisation step on the clips ``idx``: [loss, recon, kl, fk, grad norm]."""
        import torch

        from ..model.curriculum import sample_frame_mask
        from ..model.losses import fk_losses, kl_divergence, masked_mse

        tc, su = self.setup.cfg.train, self.setup
        x, valid = collate(su.net_clips, idx)
        x, valid = x.to(self.device), valid.to(self.device)
        emb = self.table_emb[torch.as_tensor(su.gloss_ids[idx], device=self.device)]
        frame_mask = sample_frame_mask(valid, ratio, gen)
        with self.autocast:
            out = self.model(su.normalizer.normalise(x), valid, emb, frame_mask, gen)
        pred = su.normalizer.denormalise(out.recon.float())
        recon = masked_mse(pred, x, valid)
        kl = kl_divergence(out.mu.float(), out.logvar.float())
        loss = recon + tc.kl_weight * kl
        fk_term = torch.zeros((), device=self.device)
        if tc.fk_weight > 0 or tc.fk_vel_weight > 0:
            fk_term, fk_vel = fk_losses(pred, x, valid, self.fk)
            loss = loss + tc.fk_weight * fk_term + tc.fk_vel_weight * fk_vel
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(self.net.parameters(), tc.grad_clip)
        self.optimizer.step()
        return [t.item() for t in (loss.detach(), recon.detach(), kl.detach(), fk_term.detach(), gnorm)]

    def validate(self) -> dict:
        su = self.setup
        return validation_figures(self.net, su.val_clips, self.table_emb, su.gloss_index, su.normalizer, self.fk,
                           self.device, su.cfg.motion.phase_frames)

    def save(self, run: Path, epochs_done: int | None) -> None:
        """The loadable model (with a freshly fitted latent prior) and, when ``epochs_done``, the resumable state."""
        su = self.setup
        prior = fit_prior(self.net, su.clips, su.gloss_ids, self.table_emb, su.normalizer, len(su.table),
                          su.cfg.motion.phase_frames, su.cfg.train.seed)
        save_model(run, su.cfg, self.net, su.normalizer, su.table, prior)
        if epochs_done is not None:
            save_state(run, self.net, self.optimizer, epochs_done, self.steps_per_epoch)


def _build_trainer(run: Path, setup: _Setup, resume: bool, device: str, dist: _Dist) -> tuple[_Trainer, int]:
    """The network and optimiser, restored from ``run`` when resuming; also the first epoch to train."""
    import torch

    tc = setup.cfg.train
    torch.manual_seed(tc.seed)
    net = build_net(setup.cfg).to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    start_epoch, steps_per_epoch = 0, 0
    if resume:
        start_epoch, steps_per_epoch = load_state(run, net, optimizer, device)
    else:
        if tc.init_from:
            net.load_state_dict(load_state_dict(_init_folder(setup.cfg) / WEIGHTS_FILE, net))
        if dist.rank == 0:
            _start_folder(run, setup.ds)
    model = net
    if dist.active:
        from torch.nn.parallel import DistributedDataParallel as DDP

        model = DDP(net, device_ids=[device] if device.startswith("cuda") else None)
    return _Trainer(setup, net, model, optimizer, device, dist, steps_per_epoch), start_epoch


def train(data_dir, run, cfg: ModelConfig, encoder_id: str = "minilm", clip_weights=None, device: str = "auto",
          resume: bool = False, force: bool = False, keep_state: bool = False, progress: bool = True,
          stop_after: int = 0, resume_epochs: int | None = None) -> TrainResult:
    """Train (or resume) a model into the folder ``run``; returns a summary.

    ``stop_after`` > 0 ends this invocation after that many epochs with a checkpoint and the
    resumable state (for time-limited jobs); ``--resume`` continues the run with its saved
    config (``resume_epochs`` may change the planned number of epochs; the curriculum and the
    learning-rate schedule then follow the new total).
    """
    from tqdm import tqdm

    run = Path(run)
    dist = _Dist()
    device = resolve_device(device, dist.local_rank)
    is_main = dist.rank == 0
    cfg = _run_config(run, cfg, resume, force, resume_epochs)
    cfg = replace(cfg, train=replace(cfg.train, precision=resolve_precision(cfg.train.precision, device)))
    tc = cfg.train
    dist.start(device)
    try:
        setup = _prepare(data_dir, run, cfg, resume, encoder_id, clip_weights, progress and is_main)
        trainer, start_epoch = _build_trainer(run, setup, resume, device, dist)
        log_path = run / LOG_FILE
        if is_main and resume:
            _trim_log(log_path, start_epoch)
        t_start = time.time()
        last: dict = {}
        bar = tqdm(range(start_epoch, tc.epochs), desc="training", unit="epoch", disable=not (progress and is_main),
                   initial=start_epoch, total=tc.epochs)
        for epoch in bar:
            record = trainer.epoch(epoch)
            stopping = stop_after > 0 and epoch + 1 - start_epoch >= stop_after and epoch + 1 < tc.epochs
            saving = (epoch + 1) % tc.save_every == 0 or epoch + 1 == tc.epochs or stopping
            if is_main:
                if saving:
                    record.update(trainer.validate())
                with open(log_path, "a") as f:
                    f.write(json.dumps(record) + "\n")
                bar.set_postfix(loss=f"{record['loss']:.4f}", kl=f"{record['kl']:.1f}", mask=record["mask_ratio"])
                if saving:
                    trainer.save(run, epoch + 1)
            last = record
            if stopping:
                bar.close()
                return TrainResult(run=run, epochs=epoch + 1, seconds=time.time() - t_start, last=last,
                                   finished=False)
        if is_main and not keep_state:
            drop_state(run)
        if is_main and start_epoch >= tc.epochs:
            trainer.save(run, None)
        return TrainResult(run=run, epochs=tc.epochs, seconds=time.time() - t_start, last=last)
    finally:
        dist.stop()


def read_log(run) -> list[dict]:
    path = Path(run) / LOG_FILE
    if not path.is_file():
        return []
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]
