"""Reading a test video back as frames (OpenCV BGR), for tests that build videos from the shared ones."""

from __future__ import annotations

import cv2


def read_frames(path, size: tuple[int, int] | None = None) -> list:
    """Every frame of ``path`` in order, BGR uint8; resized to ``size`` (width, height) with area filtering."""
    cap = cv2.VideoCapture(str(path))
    out = []
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                return out
            out.append(frame if size is None else cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
    finally:
        cap.release()
