"""Generation speed on CPU: cold load of a model and warm latency of one 60-frame sign.

    .venv/bin/python benchmarks/bench_generate.py [--checkpoint DIR] [--threads 2] [--repeats 50]

Prints, for the model folder (default: the shipped model):

* cold load: a fresh Python process importing the runtime and running ``Generator.load``
  (the time a first click in Blender costs, torch import included), and its first sign;
* warm ``generate(gloss, frames=60)``: median and 95th percentile over ``--repeats`` seeds
  (goal: <= 100 ms), with wall and CPU time (on a shared machine wall time includes waiting
  for a core);
* free text: the first ``match`` of a word that is not a gloss (loads the text encoder) and a
  warm one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

COLD = """
import json, sys, time
t0 = time.perf_counter()
import torch
torch.set_num_threads({threads})
from model_runtime.generation import Generator
t1 = time.perf_counter()
gen = Generator.load({folder!r})
t2 = time.perf_counter()
gen.generate(gen.vocabulary[0], seed=0, frames=60)
t3 = time.perf_counter()
print(json.dumps(dict(imports=t1 - t0, load=t2 - t1, first=t3 - t2)))
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None, help="model folder (default: the shipped model)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--text", default="beverage", help="free text for the encoder timing")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    import torch

    torch.set_num_threads(args.threads)
    from model_runtime.generation.generator import DEFAULT_MODEL, Generator

    folder = str(Path(args.checkpoint) if args.checkpoint else DEFAULT_MODEL)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    colds = []
    for _ in range(3):
        r = subprocess.run([sys.executable, "-c", COLD.format(threads=args.threads, folder=folder)], env=env,
                           capture_output=True, text=True, cwd=REPO)
        if r.returncode != 0:
            print(r.stderr, file=sys.stderr)
            return 1
        colds.append(json.loads(r.stdout.strip().splitlines()[-1]))
    best = min(colds, key=lambda c: c["imports"] + c["load"])
    size = sum(p.stat().st_size for p in Path(folder).iterdir() if p.is_file()) / 2**20
    print(f"model {folder} ({size:.1f} MiB on disk), {args.threads} torch threads")
    print(f"cold: imports {best['imports']:.2f} s + Generator.load {best['load']:.2f} s, "
          f"first 60-frame sign {1000 * best['first']:.0f} ms (best of 3 fresh processes)")

    gen = Generator.load(folder)
    gloss = gen.vocabulary[0]
    for s in range(3):
        gen.generate(gloss, seed=s, frames=60)
    wall, cpu = [], []
    for s in range(args.repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        gen.generate(gloss, seed=s, frames=60)
        wall.append(1000 * (time.perf_counter() - w0))
        cpu.append(1000 * (time.process_time() - c0))
    p95 = sorted(wall)[int(0.95 * (len(wall) - 1))]
    print(f"warm generate('{gloss}', frames=60): median {statistics.median(wall):.1f} ms, p95 {p95:.1f} ms "
          f"(cpu median {statistics.median(cpu):.1f} ms) over {args.repeats} seeds; goal <= 100 ms")
    t0 = time.perf_counter()
    try:
        m = gen.match(args.text)
        first = time.perf_counter() - t0
        t1 = time.perf_counter()
        gen.match(args.text)
        print(f"free text '{args.text}' -> {m.gloss} ({m.score:.2f}): first match {first:.2f} s "
              f"(loads {gen.encoder_id}), warm {1000 * (time.perf_counter() - t1):.1f} ms")
    except Exception as e:  # a refusal is a result too
        print(f"free text '{args.text}': {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
