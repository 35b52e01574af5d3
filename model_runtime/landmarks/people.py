"""More than one person in view: find them on a few frames and pick the signer to follow.

MediaPipe Holistic follows one person, whichever its detector likes, and may hop between people.
:func:`probe_people` runs MediaPipe's face detector (the full-range model shipped inside the
mediapipe wheel: offline, several faces per frame) on :data:`PROBE_FRAMES` frames spread over the
video. With two or more people in most of them it picks the signer and returns a :class:`Crop`:
the part of the frame around that person that Holistic then reads (:mod:`.holistic_pass`), with
its landmarks mapped back to the whole frame (:func:`to_full_frame`). With one person or none it
returns ``None`` and the video is read exactly as before.

Choice: each face scores ``height / tallest face's height - CENTRE_WEIGHT * |x - 0.5|`` (x: face
centre in image widths), so the largest person wins unless another is clearly more central. The
crop spans :data:`BODY_WIDTHS` face widths around the chosen face and from one face height above
it to :data:`BODY_BELOW` face heights below (arms, chest and hands while signing), clipped to the
frame and never past the border with a neighbour (the point between the two faces that divides
their distance in proportion to the faces' widths: a person nearer the camera needs more room). The crop is fixed for
the whole video: a signer who walks out of it is lost there (and bridged or reported, :mod:`.signer_track`).

Coordinates: pixels of the upright frame (x right, y down); landmarks after mapping are normalised
to the whole frame like any other video's; MediaPipe's z (scaled like x) is rescaled with x;
``pose_world`` (metres, hip-centred) does not depend on the crop and is kept as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PROBE_FRAMES = 5
MIN_CONFIDENCE = 0.6
CENTRE_WEIGHT = 1.5
BODY_WIDTHS = 7.0  # crop width in face widths (arms out to the sides while signing)
BODY_ABOVE, BODY_BELOW = 1.0, 6.0  # face heights above the face's top and below its bottom


@dataclass(frozen=True)
class Crop:
    """The part of the frame read for the chosen person: pixels ``[x0, x1) x [y0, y1)`` of a ``width`` x
    ``height`` upright frame; ``people``: how many were in view; ``note``: the sentence that says so."""

    x0: int
    y0: int
    x1: int
    y1: int
    width: int
    height: int
    people: int
    note: str

    def cut(self, frame: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(frame[self.y0:self.y1, self.x0:self.x1])


def to_full_frame(arrays: dict, crop: Crop) -> dict:
    """Landmarks normalised to the crop -> normalised to the whole frame (pose, hands, face; in place)."""
    cw, ch = crop.x1 - crop.x0, crop.y1 - crop.y0
    scale = np.array([cw / crop.width, ch / crop.height, cw / crop.width], dtype=np.float32)
    shift = np.array([crop.x0 / crop.width, crop.y0 / crop.height, 0.0], dtype=np.float32)
    for k in ("pose", "left_hand", "right_hand", "face"):
        arrays[k] = (arrays[k] * scale + shift).astype(np.float32)
    return arrays


def _faces(detector, frame: np.ndarray) -> list[tuple[float, float, float, float]]:
    """(cx, cy, w, h) of each face, as fractions of the frame."""
    r = detector.process(frame)
    out = []
    for det in r.detections or []:
        b = det.location_data.relative_bounding_box
        if b.width > 0 and b.height > 0:
            out.append((b.xmin + b.width / 2, b.ymin + b.height / 2, b.width, b.height))
    return out


def _sample_frames(path, rotation: int) -> list[np.ndarray]:
    from .holistic_pass import import_cv2, open_video

    cv2 = import_cv2()
    cap = open_video(path)
    turn = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}.get(rotation)
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    frames = []
    try:
        for i in np.linspace(0, max(total - 1, 0), PROBE_FRAMES).astype(int) if total > 0 else [0]:
            cap.set(cv2.CAP_PROP_POS_FRAMES, int(i))  # a probe needs no exact frame: container seeks will do
            ok, f = cap.read()
            if ok and f is not None:
                f = cv2.rotate(f, turn) if turn is not None else f
                frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    finally:
        cap.release()
    return frames


def _choose(faces: list) -> int:
    tallest = max(f[3] for f in faces)
    return int(np.argmax([f[3] / tallest - CENTRE_WEIGHT * abs(f[0] - 0.5) for f in faces]))


def _where(face, faces) -> str:
    place = "at the centre" if abs(face[0] - 0.5) < 0.15 else "on the left" if face[0] < 0.5 else "on the right"
    return place + (" (largest)" if face[3] >= max(f[3] for f in faces) else "")


def _crop(chosen: list, others: list, size: tuple[int, int], people: int, note: str) -> Crop:
    W, H = size
    cx = float(np.median([f[0] for f in chosen])) * W
    fw = max(f[2] for f in chosen) * W
    top = min(f[1] - f[3] / 2 for f in chosen) * H
    bottom = max(f[1] + f[3] / 2 for f in chosen) * H
    fh = bottom - top
    x0, x1 = cx - BODY_WIDTHS / 2 * fw, cx + BODY_WIDTHS / 2 * fw
    for o in others:  # never past the border with a neighbour: between the faces, in proportion to their widths
        ox, ow = o[0] * W, o[2] * W
        border = ox + (cx - ox) * ow / (ow + fw)
        if ox < cx:
            x0 = max(x0, border)
        else:
            x1 = min(x1, border)
    y0, y1 = top - BODY_ABOVE * fh, bottom + BODY_BELOW * fh
    x0, y0 = int(max(0, np.floor(x0))), int(max(0, np.floor(y0)))
    x1, y1 = int(min(W, np.ceil(x1))), int(min(H, np.ceil(y1)))
    return Crop(x0=x0, y0=y0, x1=x1, y1=y1, width=W, height=H, people=people, note=note)


def probe_people(path, rotation: int = 0) -> Crop | None:
    """The crop around the signer when two or more people are in view on most sampled frames, else None."""
    import mediapipe as mp

    frames = _sample_frames(path, rotation)
    if not frames:
        return None
    with mp.solutions.face_detection.FaceDetection(model_selection=1,
                                                   min_detection_confidence=MIN_CONFIDENCE) as det:
        per_frame = [_faces(det, f) for f in frames]
    counts = sorted(len(f) for f in per_frame)
    people = counts[len(counts) // 2]  # the median frame: a face seen once is not a second person
    if people < 2:
        return None
    crowded = [f for f in per_frame if len(f) >= 2]
    chosen, others = [], []
    for faces in crowded:
        k = _choose(faces)
        chosen.append(faces[k])
        others += [f for i, f in enumerate(faces) if i != k]
    # the note describes the choice on the first crowded frame
    first = crowded[0]
    note = f"{people} people in view; following the one {_where(first[_choose(first)], first)}"
    h, w = frames[0].shape[:2]
    return _crop(chosen, others, (w, h), people, note)
