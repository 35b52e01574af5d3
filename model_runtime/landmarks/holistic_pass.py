"""One pass of MediaPipe Holistic over a stretch of a video, frames decoded one at a time (never all held).

A :class:`Span` says which processed frames a pass returns: ``first`` to ``stop`` (``None``: to the
end), after ``warm`` frames that are run through the tracker and discarded (a pass that starts inside
a video needs them: Holistic's tracking and landmark smoothing carry state from frame to frame).
Frame indices count processed frames, i.e. every ``step``-th frame of the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import SignAvatarError
from .sequence import FACE_ORDER, N_HAND, N_POSE

FIELDS = ("pose", "pose_world", "vis", "left_hand", "right_hand", "face")


@dataclass(frozen=True)
class Span:
    first: int = 0
    stop: int | None = None
    warm: int = 0

    def __post_init__(self):
        if self.first < 0 or self.warm < 0 or self.warm > self.first or (self.stop is not None and self.stop < self.first):
            raise ValueError(f"bad span {self}: need 0 <= warm <= first <= stop")


def import_mediapipe():
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ start-up chatter
    try:
        import mediapipe as mp
        holistic = mp.solutions.holistic
    except (ImportError, AttributeError) as e:
        raise SignAvatarError(f"importing a video needs mediapipe 0.10.21 with mp.solutions ({e}); "
                              "install it with 'python install_deps.py'") from None
    return holistic


def import_cv2():
    try:
        import cv2
    except ImportError as e:
        raise SignAvatarError(f"reading a video needs OpenCV ({e}); install it with 'python install_deps.py'") from None
    return cv2


def open_video(path):
    cv2 = import_cv2()
    cap = cv2.VideoCapture(str(path))
    if cap.isOpened():
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    if not cap.isOpened():
        cap.release()
        raise SignAvatarError(f"{path}: OpenCV cannot open this video (corrupt file or unsupported format); "
                              "re-encode it as H.264 .mp4, e.g. 'ffmpeg -i IN -c:v libx264 OUT.mp4'")
    return cap


def frames(cap, rotation: int, step: int = 1, skip: int = 0):
    """Yield every ``step``-th frame as RGB, turned ``rotation`` degrees clockwise, after ``skip`` such
    frames (decoded, not converted: skipping by decoding is exact where container seeks are not)."""
    cv2 = import_cv2()
    turn = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}.get(rotation)
    i = -1
    while True:
        i += 1
        if i % step or i < skip * step:
            if not cap.grab():
                return
            continue
        ok, frame = cap.read()
        if not ok or frame is None:
            return
        if turn is not None:
            frame = cv2.rotate(frame, turn)
        yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def new_holistic():
    """A fresh Holistic graph with the shared ``dictvideo`` extractor settings (see :mod:`.video`)."""
    return import_mediapipe().Holistic(static_image_mode=False, model_complexity=1, smooth_landmarks=True,
                                       refine_face_landmarks=False)


def _points(landmarks, n: int, pick=None) -> np.ndarray:
    if landmarks is None:
        return np.full((n if pick is None else len(pick), 3), np.nan, dtype=np.float32)
    lm = landmarks.landmark
    idx = range(n) if pick is None else pick
    return np.array([(lm[i].x, lm[i].y, lm[i].z) for i in idx], dtype=np.float32)


def _row(r) -> tuple:
    vis = (np.array([p.visibility for p in r.pose_landmarks.landmark], dtype=np.float32)
           if r.pose_landmarks is not None else np.full(N_POSE, np.nan, dtype=np.float32))
    return (_points(r.pose_landmarks, N_POSE), _points(r.pose_world_landmarks, N_POSE), vis,
            _points(r.left_hand_landmarks, N_HAND), _points(r.right_hand_landmarks, N_HAND),
            _points(r.face_landmarks, 468, FACE_ORDER))


def empty_arrays() -> dict:
    shapes = {"pose": (N_POSE, 3), "pose_world": (N_POSE, 3), "vis": (N_POSE,), "left_hand": (N_HAND, 3),
              "right_hand": (N_HAND, 3), "face": (len(FACE_ORDER), 3)}
    return {k: np.zeros((0,) + shapes[k], dtype=np.float32) for k in FIELDS}


def run_span(path, rotation: int, step: int, span: Span, model=None,
             on_frame: Callable[[int], None] | None = None, crop=None) -> tuple[dict, tuple[int, int] | None]:
    """Landmarks of the processed frames ``span.first:span.stop`` of ``path``: ``(arrays, size)``.

    ``arrays``: the :data:`FIELDS` stacked per frame (none if the video ends before ``first``);
    ``size``: (width, height) of the upright frames, ``None`` if no frame was decoded. ``model``: a
    fresh Holistic graph to use (closed afterwards), else one is made. ``on_frame(n)`` is called
    after every kept frame with the number kept so far; an exception it raises stops the pass.
    ``crop``: a :class:`.people.Crop`; Holistic then reads only that part of each frame and the
    landmarks are mapped back to the whole frame (``None``: the whole frame, the path of one person).
    """
    cap = open_video(path)
    own = model is None
    model = new_holistic() if own else model
    rows, size = [], None
    want = None if span.stop is None else span.stop - span.first
    start = span.first - span.warm
    try:
        if want == 0:
            return empty_arrays(), None
        for k, frame in enumerate(frames(cap, rotation, step, skip=start)):
            if size is None:
                size = (frame.shape[1], frame.shape[0])
            if crop is not None:
                frame = crop.cut(frame)
            frame.flags.writeable = False
            r = model.process(frame)
            if k < span.warm:
                continue
            rows.append(_row(r))
            if on_frame is not None:
                on_frame(len(rows))
            if want is not None and len(rows) >= want:
                break
    finally:
        cap.release()
        model.close()
    if not rows:
        return empty_arrays(), size
    arrays = {k: np.stack(col) for k, col in zip(FIELDS, zip(*rows))}
    if crop is not None:
        from .people import to_full_frame

        arrays = to_full_frame(arrays, crop)
    return arrays, size
