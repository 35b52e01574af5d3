"""Frames per second of video -> landmarks (MediaPipe Holistic) and, when present, of the whole
path video -> landmarks -> SMPL-X (inverse kinematics), against real time.

    python benchmarks/bench_extraction.py [VIDEO ...] [--threads N] [--frame-step 2]

Defaults to three shared videos of different sizes (../shared/videos). Prints one line per
video and a total: wall-clock frames per second of extraction, IK and the whole path, and
"x real time" = video duration / wall time (>= 1 keeps up). ``cpu`` columns divide by the
process's CPU time instead, which is what the figures would be on an otherwise idle machine
with one core per thread (on a shared machine wall time includes waiting for a core).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_VIDEOS = ("pose_soup.mp4", "startasl_hello.mp4", "aslcitizen_arm.mp4")


def _timed(fn, *args, **kw):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    return out, time.perf_counter() - w0, time.process_time() - c0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("videos", nargs="*", help="video files (default: three shared videos)")
    ap.add_argument("--threads", type=int, default=1, help="math threads (OMP/torch), default 1")
    ap.add_argument("--frame-step", type=int, default=None,
                    help="read every n-th frame (2: a 30 fps video at the shipped model's 15 fps); default: all "
                         "frames up to 30 fps")
    args = ap.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    sys.path.insert(0, str(REPO))
    from model_runtime.data.ik_jobs import ik_solver
    from model_runtime.errors import SignAvatarError
    from model_runtime.landmarks.video import load_video

    try:
        solve = ik_solver()
    except SignAvatarError:
        solve = None
    if solve is not None:
        import torch

        torch.set_num_threads(args.threads)
    videos = [Path(v) for v in args.videos] or [REPO.parent / "shared" / "videos" / v for v in DEFAULT_VIDEOS]
    load_video(videos[0], progress=False, max_frames=2)  # load MediaPipe's graphs once, outside the timing
    print(f"frame step {args.frame_step or 'auto'}; threads {args.threads}; IK {'present' if solve else 'absent (extraction only)'}; os.cpu_count "
          f"{os.cpu_count()}; load average {os.getloadavg()[0]:.1f}")
    head = ("video", "size", "frames", "extract", "(cpu)", "IK", "(cpu)", "path", "(cpu)", "x real", "(cpu)")
    print("{:22s} {:>9s} {:>6s} {:>8s} {:>6s} {:>6s} {:>6s} {:>6s} {:>6s} {:>7s} {:>6s}".format(*head))
    tot = {"n": 0, "dur": 0.0, "ew": 0.0, "ec": 0.0, "iw": 0.0, "ic": 0.0}
    nan = float("nan")

    def row(name, size, n, dur, ew, ec, iw, ic):
        pw, pc = ew + (iw if solve else 0.0), ec + (ic if solve else 0.0)
        print(f"{name:22s} {size:>9s} {n:6d} {n / ew:8.1f} {n / ec:6.1f} {n / iw if solve else nan:6.1f} "
              f"{n / ic if solve else nan:6.1f} {n / pw:6.1f} {n / pc:6.1f} {dur / pw:7.2f} {dur / pc:6.2f}")

    for v in videos:
        seq, ew, ec = _timed(load_video, v, progress=False, frame_step=args.frame_step)
        iw = ic = nan
        if solve is not None:
            _, iw, ic = _timed(solve, seq)
        n, dur = seq.num_frames, seq.num_frames / seq.fps
        row(v.name, f"{seq.image_size[0]}x{seq.image_size[1]}", n, dur, ew, ec, iw, ic)
        for k, x in (("n", n), ("dur", dur), ("ew", ew), ("ec", ec), ("iw", iw), ("ic", ic)):
            tot[k] += x if solve is not None or k not in ("iw", "ic") else 0.0
    row("total", "", tot["n"], tot["dur"], tot["ew"], tot["ec"], tot["iw"], tot["ic"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
