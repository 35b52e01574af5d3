"""Landmarks from a video file: OpenCV decoding + MediaPipe Holistic (imported lazily).

Extractor settings are those of the shared ``dictvideo`` landmarks (mediapipe 0.10.21,
``mp.solutions.holistic.Holistic(static_image_mode=False, model_complexity=1,
smooth_landmarks=True, refine_face_landmarks=False)``, a fresh graph per video, frames
converted BGR -> RGB), so a user's video and the training data see the same extractor.

Orientation: OpenCV applies the container's rotation metadata (phone videos) while
decoding; ``image_size`` is that of the upright frames. A video stored sideways without
metadata is detected from the landmarks (the shoulder-to-nose direction points along the
image x axis or downwards) or, when nobody is found at all, by probing a few frames in each
quarter turn; it is then decoded again with the right rotation (``meta["rotation"]``).

Hands: Holistic's ``left_hand`` is seeded from pose point 15, the signer's left wrist as the
image shows it. A mirrored ("selfie") recording shows a mirror-image signer: pass
``mirrored=True`` to get the real signer back (see :mod:`.handedness`).
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import SignAvatarError
from .extract_workers import WorkerStartError, plan_spans, run_spans
from .extract_workers import running as workers_running
from .handedness import fix_hand_labels, mirror
from .holistic_pass import FIELDS, Span, run_span
from .holistic_pass import frames as _frames
from .holistic_pass import import_cv2 as _import_cv2
from .holistic_pass import import_mediapipe as _import_mediapipe
from .holistic_pass import open_video as _open
from .sequence import LandmarkSequence

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".gif")
DEFAULT_FPS = 30.0
PROBE_FRAMES = 8
# Frames below which the default reads a video in this process while no workers are running: starting two
# costs each about 1.7 CPU-s (importing MediaPipe, building its graph; measured at load 4.5), which the split
# of a clip of T frames saves back only from about 15 + 25 * 1.7 ~ 60 frames (half of T - 15 at ~80 ms a frame).
START_WORKERS_FRAMES = 60


def _check_file(path: Path) -> None:
    if not path.exists():
        raise SignAvatarError(f"video not found: {path}")
    if not path.is_file():
        raise SignAvatarError(f"{path} is not a file; give the path of one video")
    if path.stat().st_size == 0:
        raise SignAvatarError(f"{path}: the file is empty (0 bytes); export or copy the video again")


def _up_rotation(pose: np.ndarray, size: tuple[int, int]) -> int:
    """Clockwise quarter turns (degrees) that make the detected person upright; 0 if unsure."""
    xy = pose[:, :, :2] * np.array(size, dtype=np.float32)
    up = xy[:, 0] - (xy[:, 11] + xy[:, 12]) / 2  # mid-shoulder -> nose, pixels
    up = up[np.isfinite(up).all(-1)]
    if len(up) == 0:
        return 0
    # angle of "up" measured from image-up (-y) towards image-right (+x)
    ang = np.degrees(np.arctan2(up[:, 0], -up[:, 1]))
    k = np.round(ang / 90.0).astype(int) % 4
    counts = np.bincount(k, minlength=4)
    best = int(np.argmax(counts))
    if best == 0 or counts[best] < 0.6 * len(k):
        return 0
    return (360 - 90 * best) % 360  # head pointing right (k=1) needs a 270-degree clockwise turn


def auto_frame_step(fps: float) -> int:
    """Every how many frames to process: 1 up to 45 fps, else about 30 processed frames per second."""
    return max(1, int(round(fps / 30.0))) if math.isfinite(fps) and fps > 45 else 1


def default_workers() -> int:
    """Worker processes for one video: one per core this process may use (at most 8); 1 inside a
    worker process of a pool (``data build``'s clip workers already share the cores out)."""
    import multiprocessing

    if multiprocessing.parent_process() is not None:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, 8))


def _worker_count(expected: int, workers: int | None) -> int:
    """``workers`` if given; by default one per core, but 1 for a short clip while no workers are running."""
    if workers is not None:
        return workers
    n = default_workers()
    return n if n == 1 or expected >= START_WORKERS_FRAMES or workers_running(n) else 1


def _spans(expected: int, max_frames: int | None, workers: int) -> list[Span]:
    spans = plan_spans(expected, workers)
    if max_frames:
        last = spans[-1]
        spans[-1] = Span(last.first, max(max_frames, last.first), last.warm)
    return spans


def _run_holistic(path: Path, rotation: int, progress: bool | Callable[[int, int], None], max_frames: int | None,
                  frame_step: int | None, workers: int | None, crop=None):
    cap = _open(path)
    cv2 = _import_cv2()
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    step = frame_step or auto_frame_step(fps)
    total = -(-int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0) // step)
    orientation = float(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0.0)
    cap.release()
    from tqdm import tqdm

    expected = (min(total, max_frames) if max_frames else total) or 0
    spans = _spans(expected, max_frames, _worker_count(expected, workers))
    report = progress if callable(progress) else None
    bar = tqdm(total=expected or None, unit="frame", desc=path.name, disable=progress is not True, leave=False)

    def on_frame(done: int) -> None:
        bar.update(1)
        if report is not None:
            report(done, expected)

    t0 = time.perf_counter()
    try:
        if len(spans) == 1:
            arrays, size = run_span(path, rotation, step, spans[0], on_frame=on_frame, crop=crop)
        else:
            try:
                parts = run_spans(path, rotation, step, spans, on_frame=on_frame, crop=crop)
                arrays = {k: np.concatenate([a[k] for a, _ in parts]) for k in FIELDS}
                size = next((s for _, s in parts if s is not None), None)
            except WorkerStartError as e:
                print(f"warning: {e}; reading the video in this process", file=sys.stderr, flush=True)
                spans = _spans(expected, max_frames, 1)
                arrays, size = run_span(path, rotation, step, spans[0], on_frame=on_frame, crop=crop)
    finally:
        bar.close()
    seconds = time.perf_counter() - t0
    if not len(arrays["pose"]):
        raise SignAvatarError(f"{path}: no video frames could be decoded (empty or corrupt video); "
                              "check that it plays, or re-encode it as H.264 .mp4")
    info = {"fps": fps / step, "frames_expected": total, "size": size, "seconds": seconds,
            "orientation_meta": orientation, "frame_step": step, "source_fps": fps, "workers": len(spans)}
    return arrays, info


def _probe_rotation(path: Path) -> int | None:
    """Rotation (degrees clockwise) under which a person is found in a few sampled frames; None if none."""
    holistic = _import_mediapipe()
    cv2 = _import_cv2()
    cap = _open(path)
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    want = set(np.linspace(0, max(total - 1, 0), PROBE_FRAMES).astype(int).tolist()) if total else set(range(30))
    samples = [f for i, f in enumerate(_frames(cap, 0)) if i in want]
    cap.release()
    turns = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    with holistic.Holistic(static_image_mode=True, model_complexity=1) as model:
        for rot, code in turns.items():
            hits = sum(model.process(np.ascontiguousarray(cv2.rotate(f, code))).pose_landmarks is not None
                       for f in samples)
            if hits >= max(1, len(samples) // 4):
                return rot
    return None


def truncation_notice(path, decoded: int, expected: int, max_frames: int | None) -> str:
    """A sentence when fewer frames decoded than the container announces (a truncated or damaged file)."""
    want = min(expected, max_frames) if max_frames else expected
    if want <= 0 or decoded >= want - max(1, round(0.02 * want)):  # containers' counts are off by a frame or two
        return ""
    return (f"{path}: the video announces {want} frames but only {decoded} could be decoded (truncated or "
            f"damaged file?); using those {decoded} frames")


def _people(path: Path, rotation: int, enabled: bool):
    """The crop around the signer when several people are in view (:mod:`.people`), else None."""
    if not enabled:
        return None
    from .people import probe_people

    crop = probe_people(path, rotation)
    if crop is not None:
        print(f"note: {path.name}: {crop.note}", file=sys.stderr, flush=True)
    return crop


def load_video(path, *, mirrored: bool = False, rotation: int | None = None,
               progress: bool | Callable[[int, int], None] = True, max_frames: int | None = None,
               frame_step: int | None = None, workers: int | None = None, people: bool = True) -> LandmarkSequence:
    """Extract the landmarks of one video.

    ``mirrored``: the recording is a mirror image (selfie preview); the result is mirrored
    back. ``rotation``: force a clockwise turn (0/90/180/270) instead of detecting it.
    ``frame_step``: process every n-th frame (default :func:`auto_frame_step`: a 60 fps
    video is read at 30 fps, as the shared dictionary landmarks were); ``seq.fps`` is the
    rate of the frames returned. ``progress``: ``True`` shows a tqdm bar on stderr, ``False``
    nothing; a callable is called as ``progress(done, expected)`` after every processed frame
    (``expected`` 0 when the container does not say), from 0 again if the video is decoded a
    second time with a detected rotation; an exception it raises (e.g. a cancelled job) stops
    the extraction and propagates. ``workers``: processes sharing the frames out by time
    (:mod:`.extract_workers`; default :func:`default_workers`, one per core, except that a clip
    under :data:`START_WORKERS_FRAMES` stays in this process while no workers are running yet;
    1 = this process alone, exactly the extractor of the shared landmarks). Clips too short to
    split (under about 1.5 s) always run in this process; ``meta["workers"]`` says how many ran.
    ``people``: look for several people on a few frames first (:mod:`.people`); with two or more in
    view Holistic reads a crop around the most central, largest one, ``meta["people"]`` says how many
    were seen and ``meta["people_note"]`` whom it followed (also printed). One person in view is read
    exactly as with ``people=False``. Raises :class:`SignAvatarError` for a missing, empty or undecodable file and when no
    person is found in any frame.
    """
    path = Path(path)
    _check_file(path)
    if rotation not in (None, 0, 90, 180, 270):
        raise SignAvatarError(f"rotation must be 0, 90, 180 or 270 degrees, got {rotation!r}")
    if frame_step is not None and (int(frame_step) != frame_step or frame_step < 1):
        raise SignAvatarError(f"frame_step must be a positive whole number, got {frame_step!r}")
    if workers is not None and (int(workers) != workers or workers < 1):
        raise SignAvatarError(f"workers must be a positive whole number, got {workers!r}")
    workers = None if workers is None else int(workers)
    crop = _people(path, rotation or 0, people)
    arrays, info = _run_holistic(path, rotation or 0, progress, max_frames, frame_step, workers, crop)
    applied = rotation or 0
    if rotation is None:
        found = np.isfinite(arrays["pose"]).all(axis=(1, 2))
        turn = _up_rotation(arrays["pose"][found], info["size"]) if found.any() else _probe_rotation(path)
        if turn:
            crop = _people(path, turn, people)
            arrays, info = _run_holistic(path, turn, progress, max_frames, frame_step, workers, crop)
            applied = turn
    found = np.isfinite(arrays["pose"]).all(axis=(1, 2))
    n = len(found)
    truncated = truncation_notice(path, n, info["frames_expected"], max_frames)
    if truncated:
        print(f"warning: {truncated}", file=sys.stderr, flush=True)
    if not found.any():
        raise SignAvatarError(f"{path}: no person detected in any of its {n} frames; the signer's face, shoulders "
                              "and hands must be visible (is it the right file? is it very dark or tiny?)")
    fps = info["fps"]
    fps_assumed = not (math.isfinite(fps) and 0 < fps <= 1000)
    pose_world = arrays["pose_world"] if np.isfinite(arrays["pose_world"]).any() else None
    hands = np.stack([np.isfinite(arrays["left_hand"]).all(axis=(1, 2)),
                      np.isfinite(arrays["right_hand"]).all(axis=(1, 2))], axis=1)
    meta = {"gloss": "", "signer": "", "sample_id": path.stem, "video_path": str(path), "rotation": applied,
            "orientation_meta": info["orientation_meta"], "frames_expected": info["frames_expected"],
            "frame_step": info["frame_step"], "source_fps": info["source_fps"], "workers": info["workers"],
            "extract_seconds": info["seconds"], "extract_fps": n / info["seconds"] if info["seconds"] > 0 else 0.0,
            "pose_detected": float(found.mean()), "left_hand_detected": float(hands[:, 0].mean()),
            "right_hand_detected": float(hands[:, 1].mean()), "fps_assumed": fps_assumed,
            "pose_visibility": arrays["vis"], "truncated": truncated, "people": crop.people if crop else 1,
            "people_note": crop.note if crop else "",
            "people_crop": (crop.x0, crop.y0, crop.x1, crop.y1) if crop else None}
    seq = LandmarkSequence(pose=arrays["pose"], left_hand=arrays["left_hand"], right_hand=arrays["right_hand"],
                           face=arrays["face"], fps=DEFAULT_FPS if fps_assumed else fps, image_size=info["size"],
                           pose_world=pose_world, source=str(path), meta=meta)
    if mirrored:
        seq = mirror(seq)
    return fix_hand_labels(seq)
