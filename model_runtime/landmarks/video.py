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
from .handedness import fix_hand_labels, mirror
from .sequence import FACE_ORDER, N_HAND, N_POSE, LandmarkSequence

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".gif")
DEFAULT_FPS = 30.0
PROBE_FRAMES = 8


def _import_mediapipe():
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ start-up chatter
    try:
        import mediapipe as mp
        holistic = mp.solutions.holistic
    except (ImportError, AttributeError) as e:
        raise SignAvatarError(f"importing a video needs mediapipe 0.10.21 with mp.solutions ({e}); "
                              "install it with 'python install_deps.py'") from None
    return holistic


def _import_cv2():
    try:
        import cv2
    except ImportError as e:
        raise SignAvatarError(f"reading a video needs OpenCV ({e}); install it with 'python install_deps.py'") from None
    return cv2


def _check_file(path: Path) -> None:
    if not path.exists():
        raise SignAvatarError(f"video not found: {path}")
    if not path.is_file():
        raise SignAvatarError(f"{path} is not a file; give the path of one video")
    if path.stat().st_size == 0:
        raise SignAvatarError(f"{path}: the file is empty (0 bytes); export or copy the video again")


def _open(path: Path):
    cv2 = _import_cv2()
    cap = cv2.VideoCapture(str(path))
    if cap.isOpened():
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    if not cap.isOpened():
        cap.release()
        raise SignAvatarError(f"{path}: OpenCV cannot open this video (corrupt file or unsupported format); "
                              "re-encode it as H.264 .mp4, e.g. 'ffmpeg -i IN -c:v libx264 OUT.mp4'")
    return cap


def _frames(cap, rotation: int, step: int = 1):
    """Yield every ``step``-th frame as RGB, turned ``rotation`` degrees clockwise."""
    cv2 = _import_cv2()
    turn = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}.get(rotation)
    i = -1
    while True:
        i += 1
        if i % step:
            if not cap.grab():
                return
            continue
        ok, frame = cap.read()
        if not ok or frame is None:
            return
        if turn is not None:
            frame = cv2.rotate(frame, turn)
        yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def _points(landmarks, n: int, pick=None) -> np.ndarray:
    if landmarks is None:
        return np.full((n if pick is None else len(pick), 3), np.nan, dtype=np.float32)
    lm = landmarks.landmark
    idx = range(n) if pick is None else pick
    return np.array([(lm[i].x, lm[i].y, lm[i].z) for i in idx], dtype=np.float32)


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


def _run_holistic(path: Path, rotation: int, progress: bool | Callable[[int, int], None], max_frames: int | None, frame_step: int | None):
    holistic = _import_mediapipe()
    cap = _open(path)
    cv2 = _import_cv2()
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    step = frame_step or auto_frame_step(fps)
    total = -(-int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0) // step)
    orientation = float(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0.0)
    pose, pose_world, vis, lh, rh, face = [], [], [], [], [], []
    size = None
    from tqdm import tqdm

    expected = (min(total, max_frames) if max_frames else total) or 0
    report = progress if callable(progress) else None
    bar = tqdm(total=expected or None, unit="frame", desc=path.name, disable=progress is not True, leave=False)
    t0 = time.perf_counter()
    try:
        with holistic.Holistic(static_image_mode=False, model_complexity=1, smooth_landmarks=True,
                               refine_face_landmarks=False) as model:
            for frame in _frames(cap, rotation, step):
                if size is None:
                    size = (frame.shape[1], frame.shape[0])
                frame.flags.writeable = False
                r = model.process(frame)
                pose.append(_points(r.pose_landmarks, N_POSE))
                pose_world.append(_points(r.pose_world_landmarks, N_POSE))
                vis.append(np.array([p.visibility for p in r.pose_landmarks.landmark], dtype=np.float32)
                           if r.pose_landmarks is not None else np.full(N_POSE, np.nan, dtype=np.float32))
                lh.append(_points(r.left_hand_landmarks, N_HAND))
                rh.append(_points(r.right_hand_landmarks, N_HAND))
                face.append(_points(r.face_landmarks, 468, FACE_ORDER))
                bar.update(1)
                if report is not None:
                    report(len(pose), expected)
                if max_frames and len(pose) >= max_frames:
                    break
    finally:
        cap.release()
        bar.close()
    seconds = time.perf_counter() - t0
    if not pose:
        raise SignAvatarError(f"{path}: no video frames could be decoded (empty or corrupt video); "
                              "check that it plays, or re-encode it as H.264 .mp4")
    arrays = {k: np.stack(v) for k, v in (("pose", pose), ("pose_world", pose_world), ("vis", vis),
                                          ("left_hand", lh), ("right_hand", rh), ("face", face))}
    info = {"fps": fps / step, "frames_expected": total, "size": size, "seconds": seconds,
            "orientation_meta": orientation, "frame_step": step, "source_fps": fps}
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


def load_video(path, *, mirrored: bool = False, rotation: int | None = None,
               progress: bool | Callable[[int, int], None] = True, max_frames: int | None = None,
               frame_step: int | None = None) -> LandmarkSequence:
    """Extract the landmarks of one video.

    ``mirrored``: the recording is a mirror image (selfie preview); the result is mirrored
    back. ``rotation``: force a clockwise turn (0/90/180/270) instead of detecting it.
    ``frame_step``: process every n-th frame (default :func:`auto_frame_step`: a 60 fps
    video is read at 30 fps, as the shared dictionary landmarks were); ``seq.fps`` is the
    rate of the frames returned. ``progress``: ``True`` shows a tqdm bar on stderr, ``False``
    nothing; a callable is called as ``progress(done, expected)`` after every processed frame
    (``expected`` 0 when the container does not say), from 0 again if the video is decoded a
    second time with a detected rotation; an exception it raises (e.g. a cancelled job) stops
    the extraction and propagates.
    Raises :class:`SignAvatarError` for a missing, empty or undecodable file and when no
    person is found in any frame.
    """
    path = Path(path)
    _check_file(path)
    if rotation not in (None, 0, 90, 180, 270):
        raise SignAvatarError(f"rotation must be 0, 90, 180 or 270 degrees, got {rotation!r}")
    if frame_step is not None and (int(frame_step) != frame_step or frame_step < 1):
        raise SignAvatarError(f"frame_step must be a positive whole number, got {frame_step!r}")
    arrays, info = _run_holistic(path, rotation or 0, progress, max_frames, frame_step)
    applied = rotation or 0
    if rotation is None:
        found = np.isfinite(arrays["pose"]).all(axis=(1, 2))
        turn = _up_rotation(arrays["pose"][found], info["size"]) if found.any() else _probe_rotation(path)
        if turn:
            arrays, info = _run_holistic(path, turn, progress, max_frames, frame_step)
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
            "frame_step": info["frame_step"], "source_fps": info["source_fps"],
            "extract_seconds": info["seconds"], "extract_fps": n / info["seconds"] if info["seconds"] > 0 else 0.0,
            "pose_detected": float(found.mean()), "left_hand_detected": float(hands[:, 0].mean()),
            "right_hand_detected": float(hands[:, 1].mean()), "fps_assumed": fps_assumed,
            "pose_visibility": arrays["vis"], "truncated": truncated}
    seq = LandmarkSequence(pose=arrays["pose"], left_hand=arrays["left_hand"], right_hand=arrays["right_hand"],
                           face=arrays["face"], fps=DEFAULT_FPS if fps_assumed else fps, image_size=info["size"],
                           pose_world=pose_world, source=str(path), meta=meta)
    if mirrored:
        seq = mirror(seq)
    return fix_hand_labels(seq)
