"""Do generated signs move like real ones, and are they new motions of their own sign?

    .venv/bin/python benchmarks/bench_motion.py --data datasets/asl [--checkpoint DIR] [--prior gloss|normal]

With the shipped model at its default settings unless told otherwise, on a dataset built by
``data build`` (the README's ``datasets/asl``). Positions come from FK on the neutral rest
skeleton (metres); speeds are per second at each clip's own frame rate. Prints:

1. **Hand speed** per gloss of the evaluation subset (glosses with >= ``--min-signers`` signers):
   the median over clips of each clip's median dominant-wrist (right, clips are right-dominant)
   speed, generated (``-n`` samples per gloss, default lengths) against the gloss's real clips;
   the ratio per gloss, how many glosses are within +-25 %, and how many generated clips are
   near-static (median speed below a quarter of the real median). Real clips carry landmark
   jitter (frame-to-frame noise that adds speed without moving the hand anywhere), so the same
   ratio is also printed for displacements over 0.2 s, with each side's jitter index.
2. **Not a lookup**: for generated clips, the distance to the nearest *training* clip of the same
   gloss (mean joint distance after resampling both to 32 frames) against the same distance for
   the gloss's real *test* clips (how far a new real performance is from the training clips).
3. **Rare glosses** (one or two clips in the whole dataset, up to ``--rare`` of them, seeded):
   each generated clip's distance to its own gloss's clips against its distance to the clips of
   the 5 glosses nearest to it in the text embedding; a rare sign must stay with its own clips.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PHASE = 32


def _positions(poses_list, fps_list):
    """FK joint positions of the signing arms and hands: list of (T, J, 3) numpy arrays."""
    import torch

    from model_runtime import rotations as rot
    from model_runtime.skeleton import JOINT_INDEX, forward_kinematics, rest_skeleton

    rest = torch.as_tensor(rest_skeleton("neutral").joints, dtype=torch.float32)
    keep = [JOINT_INDEX[n] for n in ("left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_index3",
                                     "right_index3", "left_thumb3", "right_thumb3", "left_pinky3", "right_pinky3")]
    out = []
    for p in poses_list:
        mats = rot.axis_angle_to_matrix(torch.as_tensor(np.asarray(p), dtype=torch.float32))
        out.append(forward_kinematics(mats, rest).positions[:, keep].numpy())
    return out


RIGHT_WRIST = 3  # index into the kept joints above
SLOW_S = 0.2  # the second speed measure: displacement over this many seconds


def _speed(pos: np.ndarray, fps: float, over_s: float = 0.0) -> float:
    """Median dominant-wrist speed (m/s) between frames ``over_s`` seconds apart (0: consecutive frames)."""
    lag = max(1, int(round(over_s * fps)))
    if len(pos) <= lag:
        return 0.0
    w = pos[:, RIGHT_WRIST]
    return float(np.median(np.linalg.norm(w[lag:] - w[:-lag], axis=-1)) * fps / lag)


def _jitter(pos: np.ndarray, fps: float, at_fps: float) -> float:
    """Mean |second difference| / mean |first difference| of the dominant wrist, resampled (linearly) from
    ``fps`` to ``at_fps`` first so that real and generated clips are compared at one frame rate: ~1.7 for
    white noise, well below 1 for a smooth movement."""
    w = pos[:, RIGHT_WRIST]
    if abs(fps - at_fps) > 1e-6 and len(w) > 1:
        t = np.arange(0.0, (len(w) - 1) / fps + 1e-9, 1.0 / at_fps)
        w = np.stack([np.interp(t, np.arange(len(w)) / fps, w[:, j]) for j in range(3)], axis=1)
    if len(w) < 3:
        return 0.0
    v = np.linalg.norm(np.diff(w, axis=0), axis=-1).mean()
    return float(np.linalg.norm(np.diff(w, 2, axis=0), axis=-1).mean() / max(v, 1e-9))


def _phase(pos: np.ndarray) -> np.ndarray:
    from model_runtime.model.features import time_resample

    return time_resample(pos.reshape(len(pos), -1), PHASE).reshape(PHASE, -1, 3)


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean joint distance (m) between phase clips a (N, P, J, 3) and b (M, P, J, 3) -> (N, M)."""
    return np.linalg.norm(a[:, None] - b[None], axis=-1).mean((-1, -2))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="dataset folder from 'data build' (e.g. datasets/asl)")
    ap.add_argument("--checkpoint", default=None, help="model folder (default: the shipped model)")
    ap.add_argument("--prior", default=None, choices=["gloss", "normal"], help="default: the model's own")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("-n", type=int, default=10, help="generated clips per gloss")
    ap.add_argument("--min-signers", type=int, default=5)
    ap.add_argument("--rare", type=int, default=100, help="rare glosses to check")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    import torch

    torch.set_num_threads(args.threads)
    from model_runtime.data.dataset import SignDataset
    from model_runtime.evaluation.protocol import eligible_glosses
    from model_runtime.generation import Generator

    t0 = time.time()
    ds = SignDataset.open(args.data)
    gen = Generator.load(args.checkpoint)
    prior = args.prior or gen.default_prior
    print(f"model {gen.folder.name} ({len(gen.vocabulary)} glosses), prior {prior}, temperature {args.temperature:g}, "
          f"{args.n} samples per gloss; data {ds.root.name} ({len(ds.records)} clips)")
    by_gloss: dict[str, dict[str, list[int]]] = {}
    for i, r in enumerate(ds.records):
        by_gloss.setdefault(r["gloss"], {"train": [], "test": []}).setdefault(r["split"], []).append(i)

    def real(idx):
        return _positions([np.asarray(ds.clip_poses(i)) for i in idx], None), [ds.records[i]["fps"] for i in idx]

    def made(gloss, seed):
        ms = gen.generate(gloss, seed=seed, n=args.n, temperature=args.temperature, prior=prior)
        return _positions([m.poses for m in ms], None), [m.fps for m in ms]

    subset = sorted(eligible_glosses(ds, 0, args.min_signers) & set(gen.vocabulary))
    print(f"\n1. hand speed (dominant wrist, median m/s) on the {len(subset)} glosses with >= {args.min_signers} "
          "signers\n")
    print("| gloss | real | generated | ratio | near-static generated | ratio over 0.2 s | jitter real / generated |")
    print("|---|---|---|---|---|---|---|")
    ratios, slow_ratios, statics, novelty, jit = [], [], 0, [], []
    for k, g in enumerate(subset):
        tr = by_gloss[g]["train"]
        rp, rf = real(tr + by_gloss[g]["test"])
        gp, gf = made(g, args.seed + k)
        rs = np.median([_speed(p, f) for p, f in zip(rp, rf)])
        gs = [_speed(p, f) for p, f in zip(gp, gf)]
        n_static = int(sum(s < 0.25 * rs for s in gs))
        statics += n_static
        ratios.append(np.median(gs) / max(rs, 1e-6))
        slow = [np.median([_speed(p, f, SLOW_S) for p, f in zip(ps, fs)]) for ps, fs in ((rp, rf), (gp, gf))]
        slow_ratios.append(slow[1] / max(slow[0], 1e-6))
        jit.append((np.median([_jitter(p, f, gf[0]) for p, f in zip(rp, rf)]),
                    np.median([_jitter(p, f, f) for p, f in zip(gp, gf)])))
        print(f"| {g} | {rs:.3f} | {np.median(gs):.3f} | {ratios[-1]:.2f} | {n_static}/{len(gs)} | "
              f"{slow_ratios[-1]:.2f} | {jit[-1][0]:.2f} / {jit[-1][1]:.2f} |")
        if by_gloss[g]["test"] and tr:
            train_ph = np.stack([_phase(p) for p in rp[:len(tr)]])
            test_ph = np.stack([_phase(p) for p in rp[len(tr):]])
            gen_ph = np.stack([_phase(p) for p in gp])
            novelty.append((np.median(_dist(gen_ph, train_ph).min(1)), np.median(_dist(test_ph, train_ph).min(1))))
    ratios = np.asarray(ratios)
    within = int(((ratios >= 0.75) & (ratios <= 1.25)).sum())
    print(f"\nspeed ratio generated/real: median {np.median(ratios):.2f} (min {ratios.min():.2f}, max "
          f"{ratios.max():.2f}); {within}/{len(ratios)} glosses within +-25 %; near-static generated clips: "
          f"{statics}/{len(ratios) * args.n}")
    slow_ratios, jit = np.asarray(slow_ratios), np.asarray(jit)
    print(f"over {SLOW_S:g} s instead of one frame (less of the landmarks' frame-to-frame jitter): median "
          f"{np.median(slow_ratios):.2f}, {int(((slow_ratios >= 0.75) & (slow_ratios <= 1.25)).sum())}/"
          f"{len(slow_ratios)} within +-25 %; wrist jitter (|2nd diff| / |1st diff| at the model's fps, white noise "
          f"~1.7) real "
          f"{np.median(jit[:, 0]):.2f}, generated {np.median(jit[:, 1]):.2f}")
    nov = np.asarray(novelty)
    print(f"\n2. nearest training clip of the same gloss (median over glosses, mm): generated "
          f"{1000 * np.median(nov[:, 0]):.0f}, real test clips {1000 * np.median(nov[:, 1]):.0f} "
          f"(ratio {np.median(nov[:, 0] / nov[:, 1]):.2f}; ~0 would be copies, ~1 a new performance)")

    # 3. rare glosses
    t = gen._m.table  # the model's own gloss table: embeddings and sample counts
    counts = {g: len(v["train"]) + len(v["test"]) for g, v in by_gloss.items()}
    rare = sorted(g for g, c in counts.items() if c <= 2 and g in gen.vocabulary)
    rng = np.random.default_rng(args.seed)
    if len(rare) > args.rare:
        rare = sorted(rng.choice(rare, args.rare, replace=False).tolist())
    own_d, other_d, wins = [], [], 0
    emb = t.embeddings
    for k, g in enumerate(rare):
        i = t.index(g)
        sims = emb @ emb[i]
        sims[i] = -np.inf
        neigh = [t.glosses[j] for j in np.argsort(-sims)[:5] if t.glosses[j] in by_gloss]
        own_p, _ = real(by_gloss[g]["train"] + by_gloss[g]["test"])
        oth_p, _ = real([j for n in neigh for j in by_gloss[n]["train"] + by_gloss[n]["test"]][:40])
        gp, _ = made(g, 10_000 + k)
        G = np.stack([_phase(p) for p in gp])
        d_own = _dist(G, np.stack([_phase(p) for p in own_p])).min(1)
        d_oth = _dist(G, np.stack([_phase(p) for p in oth_p])).min(1)
        own_d.append(np.median(d_own))
        other_d.append(np.median(d_oth))
        wins += int(np.median(d_own) < np.median(d_oth))
    if rare:
        r = np.asarray(own_d) / np.asarray(other_d)
        print(f"\n3. rare glosses (1-2 clips), {len(rare)} checked: generated clips closer to their own clips than to "
              f"the 5 nearest glosses' clips for {wins}/{len(rare)}; distance own {1000 * np.median(own_d):.0f} mm "
              f"vs neighbours {1000 * np.median(other_d):.0f} mm (median ratio {np.median(r):.2f})")
    print(f"\n{time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
