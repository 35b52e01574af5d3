"""Video -> landmarks (MediaPipe Holistic) -> SMPL-X (inverse kinematics) against real time, on a short
and a long 640x480, 30 fps video, next to reading the video alone, in one process and split over workers.

    nice -n 19 python benchmarks/bench_extraction.py [--short-seconds 1.5] [--long-seconds 120] [--workers N]

Both videos are made in a temporary folder from the shared 640x480 webcam clips (../shared/videos,
aslcitizen_*.mp4: the short one is the first 1.5 s of one clip, the long one loops the four clips; MPEG-4
part 2, the codec OpenCV can write) and deleted afterwards. Every frame is read (frame step 1). Per video
and mode the table gives seconds and "x real" = video duration / wall time (>= 1 keeps up): ``read`` =
decoding alone; ``landmarks`` = ``load_video(workers=N)``; ``IK`` = ``ik.solve`` of those landmarks;
``path`` = landmarks + IK. ``cpu`` = CPU seconds of this process and of the workers; on a machine shared
with other jobs wall time includes waiting for a core, so the line also gives the load average, and
``idle est.`` = duration / (landmark CPU / workers + IK CPU), what idle cores would give if the CPU
seconds stayed the same. ``pipelined bound`` is the best a pipeline of one landmark process and the IK
in another could reach: max(landmarks with 1 worker, IK), since the IK refines the whole clip at once.
Memory: peak resident size of this process and of the largest worker.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("aslcitizen_arm.mp4", "aslcitizen_blood.mp4", "aslcitizen_eyes.mp4", "aslcitizen_nose.mp4")
FPS, SIZE = 30.0, (640, 480)


def _make_video(path: Path, sources: list[Path], frames: int) -> Path:
    """``frames`` frames at 30 fps, 640x480, looping ``sources``; one frame in memory at a time."""
    import cv2

    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, SIZE)
    n = 0
    while n < frames:
        for src in sources:
            cap = cv2.VideoCapture(str(src))
            while n < frames:
                ok, f = cap.read()
                if not ok:
                    break
                out.write(cv2.resize(f, SIZE) if (f.shape[1], f.shape[0]) != SIZE else f)
                n += 1
            cap.release()
    out.release()
    return path


def _read_only(path: Path) -> int:
    from model_runtime.landmarks.holistic_pass import frames, open_video

    cap = open_video(path)
    n = sum(1 for _ in frames(cap, 0))
    cap.release()
    return n


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def _proc_peak_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _cpu_now() -> float:
    from model_runtime.landmarks.extract_workers import start, worker_pids

    return time.process_time() + sum(_proc_cpu(p) for p in worker_pids())


def _timed(fn, *args, **kw):
    w0, c0 = time.perf_counter(), _cpu_now()
    out = fn(*args, **kw)
    return out, time.perf_counter() - w0, _cpu_now() - c0


def _rotation_gap_deg(a, b) -> tuple[float, float]:
    """Mean and 95th percentile of the angle between two motions' joint rotations (upper body and hands)."""
    import numpy as np

    from model_runtime.rotations import axis_angle_to_matrix

    Ra, Rb = axis_angle_to_matrix(a.poses.astype(np.float64)), axis_angle_to_matrix(b.poses.astype(np.float64))
    cos = (np.einsum("...ij,...ij->...", Ra, Rb) - 1.0) / 2.0  # trace(Ra^T Rb) = cos of the angle between
    ang = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))[:, 9:]  # spine3 onwards: what the video drives
    moving = ang.max(axis=0) > 0  # joints the IK moves at all (not legs or eyes)
    return float(ang[:, moving].mean()), float(np.percentile(ang[:, moving], 95))


def _bench(name: str, path: Path, modes: list[int], solve) -> None:
    from model_runtime.landmarks.video import load_video

    n, rw, rc = _timed(_read_only, path)
    dur = n / FPS
    print(f"{name}: {n} frames, {dur:.1f} s; load average {os.getloadavg()[0]:.2f}")
    print(f"  {'read':26s} {rw:7.2f} s  cpu {rc:7.2f} s  {dur / rw:6.2f}x real")
    motions = {}
    for w in modes:
        seq, lw, lc = _timed(load_video, path, progress=False, frame_step=1, workers=w)
        res, iw, ic = _timed(solve, seq)
        used = seq.meta["workers"]
        motions[used] = res.motion
        est = dur / (lc / used + ic)
        print(f"  {f'landmarks, {used} worker(s)':26s} {lw:7.2f} s  cpu {lc:7.2f} s  {dur / lw:6.2f}x real")
        print(f"  {'IK':26s} {iw:7.2f} s  cpu {ic:7.2f} s  {dur / iw:6.2f}x real")
        print(f"  {f'path, {used} worker(s)':26s} {lw + iw:7.2f} s  {'':14s}{dur / (lw + iw):6.2f}x real  "
              f"(idle est. {est:.2f}x; load {os.getloadavg()[0]:.2f})", flush=True)
        if used == 1:
            print(f"  {'pipelined bound':26s} {max(lw, iw):7.2f} s  {'':14s}{dur / max(lw, iw):6.2f}x real")
    if len(motions) == 2:
        mean, p95 = _rotation_gap_deg(*motions.values())
        print(f"  IK of the split landmarks vs one process: joint rotations differ {mean:.2f} deg mean, "
              f"{p95:.2f} deg 95th percentile")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short-seconds", type=float, default=1.5, help="short video, seconds (default 1.5)")
    ap.add_argument("--long-seconds", type=float, default=120.0, help="long video, seconds (default 120; 0: skip)")
    ap.add_argument("--workers", type=int, default=0, help="landmark workers of the parallel mode "
                    "(default: load_video's default, one per core)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads of the IK (default 1: faster than 2 on "
                    "2 cores, measured)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from model_runtime.data.ik_jobs import ik_solver
    from model_runtime.landmarks.extract_workers import start, worker_pids
    from model_runtime.landmarks.video import default_workers, load_video

    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(args.threads)
    workers = args.workers or default_workers()
    solve = ik_solver()
    shared = REPO.parent / "shared" / "videos"
    sources = [shared / s for s in SOURCES]
    print(f"cores {cores}; landmark workers {workers}; IK threads {torch.get_num_threads()}; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        short = _make_video(Path(tmp) / "short.mp4", sources[:1], round(args.short_seconds * FPS))
        t0 = time.perf_counter()
        start(workers)  # as the first long video of a session would
        t1 = time.perf_counter()
        warm = load_video(short, progress=False, workers=1)  # MediaPipe's graphs in this process too
        solve(warm)
        print(f"start-up, once per session, not timed below: {workers} workers {t1 - t0:.1f} s, this process's "
              f"MediaPipe and IK {time.perf_counter() - t1:.1f} s")
        modes = [1, workers] if workers > 1 else [1]
        _bench(f"short video ({args.short_seconds:g} s)", short, modes, solve)
        if args.long_seconds > 0:
            long = _make_video(Path(tmp) / "long.mp4", sources, round(args.long_seconds * FPS))
            _bench(f"long video ({args.long_seconds:g} s)", long, modes[::-1], solve)
        peak = max((_proc_peak_mb(p) for p in worker_pids()), default=float("nan"))
    print(f"peak memory: this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB, "
          f"largest worker {peak:.0f} MB; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
