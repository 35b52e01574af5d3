"""Smoothness of sentence joins: jerk at the joins against jerk inside the signs.

    .venv/bin/python benchmarks/bench_sentence_joins.py [--model DIR | --library DIR]

Signs come from the shipped model when it loads (or ``--model``), from a motion library
with ``--library``, and otherwise from real ASL-App exemplars (../shared/data/aslapp)
through our IK. For each sentence it prints the median per-frame jerk of the hand points
(wrists and fingertips, m/s^3) in the join regions (transition +/- 3 frames) and inside
the signs, their ratio (goal: <= 1.5) and the 95th-percentile ratio; then the same for
the signs simply butted together (no transition), as the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

SENTENCES = (
    "hello my name is bob", "thank you mother", "please want water", "good morning friend",
    "sorry i am tired", "where is the school", "how are you today", "yes i learn to read",
    "happy family home", "book phone car",
)
ASLAPP_SIGNS = ("hello", "thank_you", "mother", "please", "want", "water", "good", "morning", "friend", "sorry",
                "tired", "where", "school", "how", "today", "yes", "learn", "read", "happy", "family", "home",
                "book", "phone", "car") + tuple("abcdefghijklmnopqrstuvwxyz")


def source(args):
    from model_runtime.errors import SignAvatarError
    from model_runtime.sentence import MotionLibrary

    if args.library:
        return MotionLibrary.open(args.library), f"library {args.library}"
    try:
        from model_runtime.generation import Generator

        gen = Generator.load(args.model)
        return gen, f"model {gen.folder}"
    except SignAvatarError as e:
        if args.model:
            raise
        print(f"(no model: {e})")
    from real_clips import real_clip_library

    folder = real_clip_library(REPO.parent / "shared" / "data" / "aslapp", ASLAPP_SIGNS)
    return MotionLibrary.open(folder), "ASL-App exemplars through IK"


def butted(result, gen):
    """The same trimmed-free clips back to back: what the joins would look like without transitions."""
    from model_runtime.motion import SignMotion

    clips = []
    for k, r in enumerate(result.ranges):
        glosses = r.gloss.split("-") if "-" in r.gloss and all(len(x) == 1 for x in r.gloss.split("-")) else [r.gloss]
        for g in glosses:
            clips.append(gen.generate(g.lower() if len(g) == 1 else g, seed=0)[0])
    fps = clips[0].fps
    clips = [c if c.fps == fps else c.resample(fps) for c in clips]
    motion = SignMotion(poses=np.concatenate([c.poses for c in clips]), trans=np.concatenate([c.trans for c in clips]),
                        fps=fps, gender=clips[0].gender)
    cuts = np.cumsum([c.num_frames for c in clips])[:-1]
    spans = [(0, 0, int(a), int(b)) for a, b in zip([0, *cuts], [*cuts, motion.num_frames])]
    return motion, spans, [(int(c), int(c)) for c in cuts]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="model folder (default: the shipped model)")
    p.add_argument("--library", help="folder of .npz clips to sign from instead of the model")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    from model_runtime.sentence import generate_sentence, join_jerk

    gen, what = source(args)
    print(f"signs from: {what}")
    print(f"{'sentence':28s} {'joins':>5s} {'join':>8s} {'sign':>8s} {'ratio':>6s} {'p95':>6s} | {'butted':>7s}")
    ratios, p95s, baseline = [], [], []
    for text in SENTENCES:
        res = generate_sentence(text, generator=gen, seed=args.seed)
        jj = join_jerk(res.motion, res.ranges, res.transitions)
        bm, bspans, bcuts = butted(res, gen)
        bj = join_jerk(bm, bspans, bcuts)
        ratios.append(jj.ratio)
        p95s.append(jj.p95_ratio)
        baseline.append(bj.ratio)
        print(f"{text:28s} {jj.joins:5d} {jj.join_median:8.1f} {jj.sign_median:8.1f} {jj.ratio:6.2f} "
              f"{jj.p95_ratio:6.2f} | {bj.ratio:7.2f}")
    print(f"median over {len(SENTENCES)} sentences: join/sign jerk ratio {statistics.median(ratios):.2f} "
          f"(worst {max(ratios):.2f}; goal <= 1.5), p95 ratio {statistics.median(p95s):.2f}; "
          f"butted together: {statistics.median(baseline):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
