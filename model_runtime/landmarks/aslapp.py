"""The ASL-App sign files (``../shared/data/aslapp/signs/<sign>.json``, MIT).

``{"sign", "fps", "frame_count", "frames": [{"pose": 33, "left_hand": 21, "right_hand": 21,
"face": 33}, ...]}``; each point ``[x, y, z]`` in normalised image coordinates, a missing
point or part is ``null``. The 33 face points are the FaceMesh indices listed in the
folder's ``metadata.json`` ``face_indices``; those in :data:`.sequence.FACE_ORDER` are
kept, the others of our 40 stay NaN (the outer/inner lip corners and mid points, the eyes,
eyebrows and nose tip are present; 12 lip points and the nose bridge are not).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import SignAvatarError
from .sequence import FACE_ORDER, N_HAND, N_POSE, LandmarkSequence

LICENCE = "MIT"
# FaceMesh indices of the 33 face points in metadata.json["face_indices"] of the shared copy;
# used when a sign file is read without its folder's metadata.json.
DEFAULT_FACE_INDICES = (0, 1, 4, 13, 14, 17, 33, 61, 63, 66, 70, 78, 105, 107, 133, 145, 148, 152, 159, 176, 263,
                        291, 293, 296, 300, 308, 334, 336, 362, 374, 377, 386, 400)


def _face_indices(folder: Path) -> tuple[int, ...]:
    meta = folder / "metadata.json"
    if meta.is_file():
        try:
            idx = json.loads(meta.read_text()).get("face_indices")
        except (OSError, ValueError) as e:
            raise SignAvatarError(f"{meta}: unreadable ({e})") from None
        if idx:
            return tuple(int(i) for i in idx)
    return DEFAULT_FACE_INDICES


def _points(frames: list, key: str, n: int, path: Path) -> np.ndarray:
    out = np.full((len(frames), n, 3), np.nan, dtype=np.float32)
    for t, fr in enumerate(frames):
        pts = fr.get(key)
        if pts is None:
            continue
        if len(pts) != n:
            raise SignAvatarError(f"{path}: frame {t} has {len(pts)} '{key}' points, expected {n}")
        for i, p in enumerate(pts):
            if p is not None:
                out[t, i, :min(len(p), 3)] = [np.nan if v is None else v for v in p[:3]]
    return out


def load_aslapp_sign(path) -> LandmarkSequence:
    """Read one ``signs/<sign>.json``; labels as stored (see :mod:`.handedness`)."""
    path = Path(path)
    if not path.is_file():
        raise SignAvatarError(f"sign file not found: {path}")
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise SignAvatarError(f"{path}: not a readable JSON sign file ({e})") from None
    frames = doc.get("frames") if isinstance(doc, dict) else None
    if not frames:
        raise SignAvatarError(f"{path}: no 'frames' in the sign file")
    face_idx = _face_indices(path.parent.parent if path.parent.name == "signs" else path.parent)
    face_src = _points(frames, "face", len(face_idx), path)
    face = np.full((len(frames), len(FACE_ORDER), 3), np.nan, dtype=np.float32)
    where = {m: i for i, m in enumerate(face_idx)}
    for k, m in enumerate(FACE_ORDER):
        if m in where:
            face[:, k] = face_src[:, where[m]]
    fps = float(doc.get("fps") or 0) or 30.0
    sign = str(doc.get("sign") or path.stem)
    meta = {"gloss": sign, "signer": "aslapp:unknown", "sample_id": sign, "sign_language": "ASL",
            "licence": LICENCE, "licence_note": "MIT (shravnchandr/ASL-App)", "fps_assumed": not doc.get("fps"),
            "source_repo": "shravnchandr/ASL-App"}
    return LandmarkSequence(pose=_points(frames, "pose", N_POSE, path),
                            left_hand=_points(frames, "left_hand", N_HAND, path),
                            right_hand=_points(frames, "right_hand", N_HAND, path),
                            face=face, fps=fps, source=f"aslapp:{sign}", meta=meta)
