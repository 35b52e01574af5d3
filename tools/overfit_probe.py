"""Can the network fit a few hundred training clips, motion included? A quick probe for loss and optimiser choices.

    .venv/bin/python tools/overfit_probe.py --data datasets/asl [--clips 256] [--steps 400] [--lr 4e-4]
        [--loss raw|normalised] [--vel6d-weight 0] [--fk-vel-weight 1] [--checkpoint DIR]

Trains the network of ``--checkpoint``'s config (default: the shipped model's) from scratch on ``--clips``
random training clips of a dataset built by ``data build`` (seeded; no curriculum mask; bfloat16 autocast
forward as ``--precision bfloat16``), and four times during the run reconstructs the same clips from the
posterior mean. Prints, as JSON lines: ``mm``, the mean joint error (signing joints and fingertips, FK on the
neutral skeleton), and ``speed_ratio``, the median over clips of (median frame-to-frame joint displacement of
the reconstruction / of the clip): 1 means the motion is reproduced, 0 a held pose.

``--loss normalised`` puts the 6D MSE on normalised features instead of raw 6D values; ``--vel6d-weight``
adds an MSE on frame-to-frame differences of the raw 6D features. docs/evaluation.md reports what they bought.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--checkpoint", default=str(REPO / "model_runtime" / "checkpoints" / "default"))
    ap.add_argument("--clips", type=int, default=256)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=4e-4)
    ap.add_argument("--loss", choices=("raw", "normalised"), default="raw")
    ap.add_argument("--vel6d-weight", type=float, default=0.0)
    ap.add_argument("--fk-weight", type=float, default=1.0)
    ap.add_argument("--fk-vel-weight", type=float, default=1.0)
    ap.add_argument("--kl-weight", type=float, default=1e-5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    import torch

    from model_runtime.data.dataset import SignDataset
    from model_runtime.model.checkpoint import build_net
    from model_runtime.model.config import ModelConfig
    from model_runtime.model.gloss_table import gloss_words
    from model_runtime.model.losses import FKPositions, fk_losses, kl_divergence, masked_mse
    from model_runtime.model.normalizer import Normalizer
    from model_runtime.semantic.factory import build_encoder
    from model_runtime.training.data import collate, load_clips

    torch.set_num_threads(args.threads)
    cfg = ModelConfig.load(Path(args.checkpoint) / "config.json")
    ds = SignDataset.open(args.data)
    rng = np.random.default_rng(args.seed)
    train = ds.indices("train")
    clips = load_clips(ds, rng.choice(train, min(args.clips, len(train)), replace=False), cfg.motion)
    norm = Normalizer.fit(clips.feats)
    glosses = sorted(set(clips.glosses))
    encoder = build_encoder(f"{cfg.encoder.kind}:{cfg.encoder.name}" if cfg.encoder.kind != "minilm" else "minilm",
                            text_template=cfg.encoder.text_template)
    emb_table = torch.as_tensor(encoder.encode_text([cfg.encoder.text_for(gloss_words(g)) for g in glosses]))
    gloss_ids = np.array([glosses.index(g) for g in clips.glosses])
    torch.manual_seed(args.seed)
    net = build_net(cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.01)
    fk = FKPositions(cfg.motion)
    gen = torch.Generator().manual_seed(args.seed)

    def probe() -> tuple[float, float]:
        net.eval()
        ratios, errors = [], []
        with torch.no_grad():
            for s in range(0, len(clips), 64):
                b = np.arange(s, min(s + 64, len(clips)))
                x, valid = collate(clips, b)
                emb = emb_table[gloss_ids[b]]
                mu, _ = net.encode(norm.normalise(x), valid, emb)
                y = norm.denormalise(net.decode(mu, emb, valid))
                p, q = fk(torch.where(valid[..., None], y, x)), fk(x)
                for k in range(len(b)):
                    n = int(valid[k].sum())
                    if n < 3:
                        continue
                    vp = (p[k, 1:n] - p[k, :n - 1]).norm(dim=-1).mean(-1).median()
                    vq = (q[k, 1:n] - q[k, :n - 1]).norm(dim=-1).mean(-1).median()
                    ratios.append(float(vp / vq.clamp(min=1e-6)))
                    errors.append(1000 * float((p[k, :n] - q[k, :n]).norm(dim=-1).mean()))
        net.train()
        return float(np.median(ratios)), float(np.mean(errors))

    t0 = time.time()
    every = max(1, args.steps // 4)
    for step in range(args.steps + 1):
        if step % every == 0:
            ratio, mm = probe()
            print(json.dumps(dict(step=step, speed_ratio=round(ratio, 3), mm=round(mm, 1),
                                  seconds=round(time.time() - t0))), flush=True)
        if step == args.steps:
            break
        b = rng.choice(len(clips), min(args.batch_size, len(clips)), replace=False)
        x, valid = collate(clips, b[np.argsort(clips.lengths[b])])
        emb = emb_table[gloss_ids[b[np.argsort(clips.lengths[b])]]]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = net(norm.normalise(x), valid, emb, None, gen)
        pred = norm.denormalise(out.recon.float())
        loss = (masked_mse(out.recon.float(), norm.normalise(x), valid) if args.loss == "normalised"
                else masked_mse(pred, x, valid)) + args.kl_weight * kl_divergence(out.mu.float(), out.logvar.float())
        pos, vel = fk_losses(pred, x, valid, fk)
        loss = loss + args.fk_weight * pos + args.fk_vel_weight * vel
        if args.vel6d_weight:
            pair = (valid[:, 1:] & valid[:, :-1]).float()[..., None]
            dv = (pred[:, 1:] - pred[:, :-1]) - (x[:, 1:] - x[:, :-1])
            loss = loss + args.vel6d_weight * ((dv ** 2) * pair).sum() / (pair.sum() * pred.shape[-1]).clamp(min=1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
