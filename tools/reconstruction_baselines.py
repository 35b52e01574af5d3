"""How much of each clip does a model's reconstruction keep? Joint error against simple baselines.

    .venv/bin/python tools/reconstruction_baselines.py --checkpoint RUN --data DATASET [--every 4]

Prints the mean joint-position error (mm; forward kinematics on the neutral skeleton, the
model's signing joints plus fingertips, pelvis at the origin, the same figure as the training
log's ``val_joint_mm``) on the train and test splits of:

* ``model``: each clip encoded and decoded by the model (posterior mean);
* ``global mean pose``: one static pose for every clip (the train split's mean 6D features);
* ``gloss mean pose``: a static pose per gloss (mean over that gloss's train clips);
* ``clip's own mean pose``: each clip's own static average, an oracle that knows the clip
  but none of its motion.

A model between the gloss and clip baselines keeps some of the clip beyond its gloss; one
near the gloss baseline decodes mostly from the gloss, i.e. its latent carries little.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True, help="trained model folder")
    p.add_argument("--data", required=True, help="built dataset folder")
    p.add_argument("--every", type=int, default=4, help="use every N-th clip of each split")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)

    import torch

    from model_runtime.data.dataset import SignDataset
    from model_runtime.generation.generator import Generator
    from model_runtime.model.features import poses_to_features
    from model_runtime.model.losses import FKPositions
    from model_runtime.training.data import load_clips

    torch.set_num_threads(a.threads)
    ds = SignDataset.open(a.data)
    gen = Generator.load(a.checkpoint)
    spec = gen.config.motion
    fk = FKPositions(spec, device="cpu")
    known = set(gen.vocabulary)

    def clips(split):
        idx = [i for i in ds.indices(split)[::a.every] if ds.records[i]["gloss"] in known]
        return idx, load_clips(ds, idx, spec)

    _, train = clips("train")
    global_mean = train.feats.mean(0, keepdims=True)
    per_gloss = defaultdict(list)
    for i in range(len(train)):
        per_gloss[train.glosses[i]].append(train.clip(i))
    gloss_mean = {g: np.concatenate(v).mean(0, keepdims=True) for g, v in per_gloss.items()}

    def error(pred: np.ndarray, x: np.ndarray) -> tuple[float, int]:
        n = min(len(pred), len(x))
        p, q = (torch.from_numpy(np.ascontiguousarray(v[:n])).float() for v in (pred, x))
        return float((fk(p) - fk(q)).norm(dim=-1).mean(-1).sum()), n

    print(f"{a.checkpoint} on {a.data} (every {a.every}th clip); mean joint error, mm")
    print(f"{'':24s} {'train':>8s} {'test':>8s}")
    rows = defaultdict(dict)
    for split in ("train", "test"):
        idx, cs = clips(split)
        if not idx:
            continue
        raw = [np.array(ds.clip_poses(i)) for i in idx]
        rec = gen.reconstruct_batch(raw, [ds.records[i]["gloss"] for i in idx],
                                    fps=[ds.records[i]["fps"] for i in idx])
        preds = {
            "model": lambda k, x: poses_to_features(rec[k], spec).numpy(),
            "global mean pose": lambda k, x: np.repeat(global_mean, len(x), 0),
            "gloss mean pose": lambda k, x: np.repeat(gloss_mean.get(cs.glosses[k], global_mean), len(x), 0),
            "clip's own mean pose": lambda k, x: np.repeat(x.mean(0, keepdims=True), len(x), 0),
        }
        for name, predict in preds.items():
            total = frames = 0
            for k in range(len(cs)):
                x = cs.clip(k)
                e, n = error(predict(k, x), x)
                total, frames = total + e, frames + n
            rows[name][split] = 1000 * total / max(frames, 1)
    for name, r in rows.items():
        print(f"{name:24s} {r.get('train', float('nan')):8.1f} {r.get('test', float('nan')):8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
