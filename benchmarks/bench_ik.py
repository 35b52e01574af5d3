"""Frames per second of the inverse kinematics (landmarks -> SMPL-X), one clip at a time and batched.

    python benchmarks/bench_ik.py [--clips N] [--threads N] [--iterations N]

Uses real clips of the shared data (../shared): N dictionary videos (long clips, ~100
frames, as a user's video) and N GISLR clips (short, 6-40 frames, as in dataset builds).
Prints frames per second of wall-clock time and of the process's CPU time (what an idle
machine with one core per thread would give; on a shared machine wall time includes
waiting for a core), for ``solve`` on each clip and for ``solve_batch`` on all clips of a
source at once, and the milliseconds per frame of each stage.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _timed(fn, *args, **kw):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    return out, time.perf_counter() - w0, time.process_time() - c0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=8, help="clips per source (default 8)")
    ap.add_argument("--threads", type=int, default=1, help="math threads (OMP/torch), default 1")
    ap.add_argument("--iterations", type=int, default=0, help="Adam steps (default: IKConfig's)")
    args = ap.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    sys.path.insert(0, str(REPO))
    import numpy as np
    import torch

    from model_runtime.ik import IKConfig, solve, solve_batch
    from model_runtime.landmarks.sources import iter_clips, resolve_spec

    torch.set_num_threads(args.threads)
    cfg = IKConfig(threads=args.threads, **({"iterations": args.iterations} if args.iterations else {}))
    print(f"threads {args.threads}; Adam steps {cfg.iterations} + {cfg.smooth_iterations} (temporal); "
          f"os.cpu_count {os.cpu_count()}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'source':10s} {'mode':7s} {'clips':>5s} {'frames':>6s} {'fps wall':>9s} {'fps cpu':>8s} "
          f"{'ms/frame cpu':>12s}")
    for spec in ("dictvideo", "gislr"):
        refs = iter_clips(str(resolve_spec(spec)))
        pick = np.random.default_rng(0).choice(len(refs), size=min(args.clips, len(refs)), replace=False)
        seqs = [refs[i].load() for i in sorted(pick)]
        n = sum(s.num_frames for s in seqs)
        solve(seqs[0], config=cfg)  # warm-up (imports, caches)
        wall = cpu = 0.0
        for s in seqs:
            _, w, c = _timed(solve, s, config=cfg)
            wall, cpu = wall + w, cpu + c
        print(f"{spec:10s} {'single':7s} {len(seqs):5d} {n:6d} {n / wall:9.1f} {n / cpu:8.1f} {1000 * cpu / n:12.2f}")
        _, w, c = _timed(solve_batch, seqs, config=cfg)
        print(f"{spec:10s} {'batch':7s} {len(seqs):5d} {n:6d} {n / w:9.1f} {n / c:8.1f} {1000 * c / n:12.2f}")
    print("30 fps real time needs >= 30 frames/s for the whole path (extraction + IK): see bench_extraction.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
