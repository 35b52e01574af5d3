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
from ..model.checkpoint import CONFIG_FILE, LOG_FILE, build_net, save_model
from ..model.config import ModelConfig
from ..model.gloss_table import GlossTable, gloss_words
from ..model.normalizer import Normalizer
from ..model.latent_prior import GlossPrior
from .data import ClipSet, collate, epoch_batches, gloss_statistics, load_clips, phase_clips
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


def _validation(net, clips: ClipSet | None, table_emb, gloss_index, normalizer, fk, device,
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
    return GlossPrior.fit(np.concatenate(mus), gloss_ids, clips.lengths, n_glosses, np.concatenate(logvars),
                          seed=seed)


def train(data_dir, run, cfg: ModelConfig, encoder_id: str = "minilm", clip_weights=None, device: str = "auto",
          resume: bool = False, force: bool = False, keep_state: bool = False, progress: bool = True,
          stop_after: int = 0, resume_epochs: int | None = None) -> TrainResult:
    """Train (or resume) a model into the folder ``run``; returns a summary.

    ``stop_after`` > 0 ends this invocation after that many epochs with a checkpoint and the
    resumable state (for time-limited jobs); ``--resume`` continues the run with its saved
    config (``resume_epochs`` may change the planned number of epochs; the curriculum and the
    learning-rate schedule then follow the new total).
    """
    import torch
    from tqdm import tqdm

    from ..model.curriculum import learning_rate, mask_ratio, sample_frame_mask
    from ..model.losses import FKPositions, fk_losses, kl_divergence, masked_mse
    from ..semantic.factory import build_encoder

    run = Path(run)
    dist = _Dist()
    device = resolve_device(device, dist.local_rank)
    is_main = dist.rank == 0
    if resume:
        cfg_saved = ModelConfig.load(run / CONFIG_FILE)
        # the saved run defines everything; only the number of epochs may be changed (resume_epochs)
        epochs = resume_epochs or cfg_saved.train.epochs
        cfg = replace(cfg_saved, train=replace(cfg_saved.train, epochs=epochs))
    elif (run / CONFIG_FILE).exists() and not force:
        raise SignAvatarError(f"{run} already holds a model; continue it with --resume, or pass --force to "
                              "overwrite it, or choose another --out")
    tc = cfg.train
    dist.start(device)
    try:
        ds = SignDataset.open(data_dir)
        train_idx = ds.indices(None if tc.split == "all" else "train")
        clips = load_clips(ds, train_idx, cfg.motion, progress=progress and is_main)
        test_idx = ds.indices("test") if tc.split == "train" else []
        val_clips = load_clips(ds, test_idx, cfg.motion) if len(test_idx) else None
        phase = cfg.motion.phase_frames
        net_clips = phase_clips(clips, phase) if phase else clips  # what the network is trained on

        if resume:
            table = GlossTable.load(run, cfg.encoder.dim)
            normalizer = Normalizer.load(run / "normalizer.safetensors", cfg.motion.feat_dim)
        else:
            encoder = build_encoder(encoder_id, clip_weights=clip_weights, text_template=cfg.encoder.text_template)
            cfg = replace(cfg, encoder=encoder.spec, dataset=_dataset_info(ds, clips, tc.split))
            table = build_gloss_table(clips, cfg, encoder)
            normalizer = Normalizer.fit(net_clips.feats)
            del encoder
        gloss_index = {g: i for i, g in enumerate(table.glosses)}
        missing = sorted({g for g in clips.glosses if g not in gloss_index})
        if missing:
            raise SignAvatarError(f"{run}: the saved gloss table lacks training glosses {missing[:10]}; "
                                  "the dataset changed since this run started, start a new run")
        gloss_ids = np.array([gloss_index[g] for g in clips.glosses])

        torch.manual_seed(tc.seed)
        net = build_net(cfg).to(device)
        optimizer = torch.optim.AdamW(net.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
        start_epoch, steps_per_epoch = 0, 0
        if resume:
            start_epoch, steps_per_epoch = load_state(run, net, optimizer, device)
        elif is_main:
            run.mkdir(parents=True, exist_ok=True)
            for stale in (LOG_FILE,):
                (run / stale).unlink(missing_ok=True)
            drop_state(run)
            if ds.card:
                write_json(run / "dataset_card.json", ds.card, indent=1, sort_keys=True)
        model = net
        if dist.active:
            from torch.nn.parallel import DistributedDataParallel as DDP

            model = DDP(net, device_ids=[device] if device.startswith("cuda") else None)

        table_emb = torch.as_tensor(table.embeddings, device=device)
        fk = FKPositions(cfg.motion, device=device)
        log_path = run / LOG_FILE
        if is_main and resume and log_path.exists():  # drop epochs that were logged after the last saved state
            lines = [ln for ln in log_path.read_text().splitlines() if ln.strip()]
            write_text(log_path, "".join(ln + "\n" for ln in lines if json.loads(ln)["epoch"] < start_epoch))

        autocast = torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16,
                                  enabled=tc.precision == "bfloat16")
        t_start = time.time()
        last: dict = {}
        bar = tqdm(range(start_epoch, tc.epochs), desc="training", unit="epoch", disable=not (progress and is_main),
                   initial=start_epoch, total=tc.epochs)
        for epoch in bar:
            t0, c0 = time.time(), time.process_time()
            rng = np.random.default_rng([tc.seed, epoch])
            torch.manual_seed(tc.seed * 1_000_003 + epoch * 101 + dist.rank)
            gen = torch.Generator(device=device).manual_seed(tc.seed * 7_919 + epoch * 104_729 + dist.rank)
            batches = epoch_batches(net_clips.lengths, gloss_ids, tc.batch_size, rng, tc.max_clips_per_gloss)
            n_b = len(batches) // dist.world
            if n_b == 0:
                raise SignAvatarError(f"not enough clips for {dist.world} processes with batch size {tc.batch_size}")
            batches = batches[dist.rank * n_b:(dist.rank + 1) * n_b]
            if steps_per_epoch == 0:
                steps_per_epoch = n_b
            total_steps = steps_per_epoch * tc.epochs
            ratio = mask_ratio(epoch, tc.epochs) if tc.curriculum else 0.0
            sums = np.zeros(5)
            for b, idx in enumerate(batches):
                step = epoch * steps_per_epoch + b
                lr = learning_rate(step, total_steps, tc.lr, tc.warmup_steps, tc.min_lr_ratio)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                x, valid = collate(net_clips, idx)
                x, valid = x.to(device), valid.to(device)
                emb = table_emb[torch.as_tensor(gloss_ids[idx], device=device)]
                frame_mask = sample_frame_mask(valid, ratio, gen)
                with autocast:
                    out = model(normalizer.normalise(x), valid, emb, frame_mask, gen)
                pred = normalizer.denormalise(out.recon.float())
                recon = masked_mse(pred, x, valid)
                kl = kl_divergence(out.mu.float(), out.logvar.float())
                loss = recon + tc.kl_weight * kl
                fk_term = torch.zeros((), device=device)
                if tc.fk_weight > 0 or tc.fk_vel_weight > 0:
                    fk_term, fk_vel = fk_losses(pred, x, valid, fk)
                    loss = loss + tc.fk_weight * fk_term + tc.fk_vel_weight * fk_vel
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                gnorm = torch.nn.utils.clip_grad_norm_(net.parameters(), tc.grad_clip)
                optimizer.step()
                sums += [t.item() for t in (loss.detach(), recon.detach(), kl.detach(), fk_term.detach(), gnorm)]
            mean = dist.mean(list(sums / len(batches)), device)
            record = dict(epoch=epoch, loss=mean[0], recon=mean[1], kl=mean[2], fk=mean[3], grad_norm=mean[4],
                          mask_ratio=ratio, lr=lr, batches=len(batches) * dist.world,
                          seconds=round(time.time() - t0, 3), cpu_seconds=round(time.process_time() - c0, 3))
            stopping = stop_after > 0 and epoch + 1 - start_epoch >= stop_after and epoch + 1 < tc.epochs
            saving = (epoch + 1) % tc.save_every == 0 or epoch + 1 == tc.epochs or stopping
            if saving and is_main:
                record.update(_validation(net, val_clips, table_emb, gloss_index, normalizer, fk, device, phase))
            if is_main:
                with open(log_path, "a") as f:
                    f.write(json.dumps(record) + "\n")
                bar.set_postfix(loss=f"{record['loss']:.4f}", kl=f"{record['kl']:.1f}", mask=ratio)
            if saving and is_main:
                prior = fit_prior(net, clips, gloss_ids, table_emb, normalizer, len(table), phase, tc.seed)
                save_model(run, cfg, net, normalizer, table, prior)
                save_state(run, net, optimizer, epoch + 1, steps_per_epoch)
            last = record
            if stopping:
                bar.close()
                return TrainResult(run=run, epochs=epoch + 1, seconds=time.time() - t_start, last=last,
                                   finished=False)
        if is_main and not keep_state:
            drop_state(run)
        if is_main and start_epoch >= tc.epochs:
            prior = fit_prior(net, clips, gloss_ids, table_emb, normalizer, len(table), phase, tc.seed)
            save_model(run, cfg, net, normalizer, table, prior)
        return TrainResult(run=run, epochs=tc.epochs, seconds=time.time() - t_start, last=last)
    finally:
        dist.stop()


def read_log(run) -> list[dict]:
    path = Path(run) / LOG_FILE
    if not path.is_file():
        return []
    return [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]
