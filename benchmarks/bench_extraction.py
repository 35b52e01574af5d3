"""Frames per second of video -> landmarks (MediaPipe Holistic) and, when present, of the whole
path video -> landmarks -> SMPL-X (inverse kinematics), against real time.

    python benchmarks/bench_extraction.py [VIDEO ...] [--threads N]

Defaults to three shared videos of different sizes (../shared/videos). Prints one line per
video and a total; "x real time" is video duration / processing time (>= 1 keeps up).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_VIDEOS = ("pose_soup.mp4", "startasl_hello.mp4", "aslcitizen_arm.mp4")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("videos", nargs="*", help="video files (default: three shared videos)")
    ap.add_argument("--threads", type=int, default=1, help="math threads (OMP/torch), default 1")
    args = ap.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    sys.path.insert(0, str(REPO))
    from model_runtime.landmarks.video import load_video

    try:
        from model_runtime.ik import solve
    except ImportError:
        solve = None
    if solve is not None:
        import torch

        torch.set_num_threads(args.threads)
    videos = [Path(v) for v in args.videos] or [REPO.parent / "shared" / "videos" / v for v in DEFAULT_VIDEOS]
    print(f"threads {args.threads}; IK {'present' if solve else 'absent (extraction only)'}")
    print(f"{'video':24s} {'size':>10s} {'frames':>6s} {'extract fps':>11s} {'IK fps':>7s} {'path fps':>8s} "
          f"{'x real time':>11s}")
    tot_frames = tot_ext = tot_ik = tot_dur = 0.0
    for v in videos:
        seq = load_video(v, progress=False)
        n, ext = seq.num_frames, seq.meta["extract_seconds"]
        ik = float("nan")
        if solve is not None:
            t0 = time.perf_counter()
            solve(seq)
            ik = time.perf_counter() - t0
        dur = n / seq.fps
        whole = ext + (ik if solve is not None else 0.0)
        size = f"{seq.image_size[0]}x{seq.image_size[1]}"
        print(f"{v.name:24s} {size:>10s} {n:6d} {n / ext:11.1f} {n / ik if solve else float('nan'):7.1f} "
              f"{n / whole:8.1f} {dur / whole:11.2f}")
        tot_frames += n
        tot_ext += ext
        tot_ik += ik if solve is not None else 0.0
        tot_dur += dur
    whole = tot_ext + tot_ik
    print(f"{'total':24s} {'':>10s} {int(tot_frames):6d} {tot_frames / tot_ext:11.1f} "
          f"{tot_frames / tot_ik if solve else float('nan'):7.1f} {tot_frames / whole:8.1f} {tot_dur / whole:11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
