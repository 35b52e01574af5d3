"""The training loop: one process, or one per GPU under ``torchrun`` (DDP).

Per epoch: random generators re-seeded from (seed, epoch, rank); clips drawn (at most
``max_clips_per_gloss`` per gloss), bucketed by length into batches; curriculum mask ratio
``mask_ratio(epoch, epochs)``; loss = 6D MSE + fk_weight * FK position MSE + kl_weight * KL;
gradients clipped; learning rate by :func:`learning_rate` per step. Rank 0 writes one JSON
line per epoch to ``train_log.jsonl`` and, every ``save_every`` epochs and at the end, the
loadable model files plus ``train_state/`` for ``--resume``. What a run starts from (config,
clips, gloss table, normaliser, folder) is :mod:`.setup`.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import SignAvatarError
from ..model.checkpoint import (CONFIG_FILE, LOG_FILE, WEIGHTS_FILE, build_net, load_matching, load_state_dict,
                                save_model)
from ..model.config import ModelConfig
from .data import collate, epoch_batches
from .posteriors import fit_prior, validation_figures
from .precision import resolve_precision
from .setup import Setup, init_folder, prepare, run_config, same_tensors, start_folder, trim_log
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


@dataclass
class _Trainer:
    """The network, its optimiser and everything one optimisation step needs."""

    setup: Setup
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


def _build_trainer(run: Path, setup: Setup, resume: bool, device: str, dist: _Dist) -> tuple[_Trainer, int]:
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
            folder = init_folder(setup.cfg)
            if same_tensors(ModelConfig.load(folder / CONFIG_FILE).net, setup.cfg.net):
                net.load_state_dict(load_state_dict(folder / WEIGHTS_FILE, net))
            else:  # a new latent on a trained network: the rest is copied, the latent's layers start fresh
                fresh = load_matching(folder / WEIGHTS_FILE, net)
                if dist.rank == 0:
                    print(f"warm start from {folder.name}: new latent, {len(fresh)} tensors start fresh "
                          f"({', '.join(fresh[:6])}{' ...' if len(fresh) > 6 else ''})", flush=True)
        if dist.rank == 0:
            start_folder(run, setup.ds)
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
    cfg = run_config(run, cfg, resume, force, resume_epochs)
    cfg = replace(cfg, train=replace(cfg.train, precision=resolve_precision(cfg.train.precision, device)))
    tc = cfg.train
    dist.start(device)
    try:
        setup = prepare(data_dir, run, cfg, resume, encoder_id, clip_weights, progress and is_main)
        trainer, start_epoch = _build_trainer(run, setup, resume, device, dist)
        log_path = run / LOG_FILE
        if is_main and resume:
            trim_log(log_path, start_epoch)
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
