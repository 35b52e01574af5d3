"""Is this a photo of people? Frontal faces by OpenCV's Haar cascade (ships with OpenCV), offline.

Only used to refuse: a photo whose largest face covers a noticeable part of the image is a
portrait, a group or a signer, not an object to name. Runs on a copy at most 480 pixels wide.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import SignAvatarError

DETECT_SIDE = 480


@lru_cache(maxsize=1)
def _cascade():
    import cv2

    path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
    c = cv2.CascadeClassifier(path)
    if c.empty():
        raise SignAvatarError(f"OpenCV's face cascade is missing ({path}): reinstall with 'python3 install_deps.py'")
    return c


def largest_face(rgb: np.ndarray, min_area: float = 0.0) -> float:
    """Area of the largest frontal face as a fraction of the image (0 when there is none).

    ``min_area``: faces smaller than this fraction of the image are not looked for (the search
    starts at that window size, so a caller that only asks "is there a face of at least X?" gets
    the same answer for a fraction of the work).
    """
    import cv2

    h, w = rgb.shape[:2]
    s = min(1.0, DETECT_SIDE / max(h, w))
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if s < 1.0:
        grey = cv2.resize(grey, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    gh, gw = grey.shape
    side = max(20, int(np.sqrt(min_area * gw * gh)))  # a square window of min_area
    if side > min(gw, gh):
        return 0.0
    faces = _cascade().detectMultiScale(grey, scaleFactor=1.15, minNeighbors=5, minSize=(side, side))
    if len(faces) == 0:
        return 0.0
    return float(max(fw * fh for _, _, fw, fh in faces) / (gw * gh))
