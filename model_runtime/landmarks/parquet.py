"""GISLR-style parquet files (Kaggle "Isolated Sign Language Recognition" layout).

One file per sequence, one row per (frame, landmark): columns ``frame``, ``type``
(``face`` / ``left_hand`` / ``pose`` / ``right_hand``), ``landmark_index``, ``x``, ``y``, ``z``;
a part that was not detected has NaN coordinates. Frames are taken in ``frame`` order.

The gloss is not in the file: it is looked up by sequence id (the file stem) in a Kaggle
``train.csv`` (``sequence_id``, ``sign``, ``participant_id``) or a shared-data GISLR
``index.csv`` (``sample_id``, ``sign``) found in the file's folder or up to four folders
above it. No frame rate is stored (GISLR was captured at about 30 fps: assumed).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import SignAvatarError
from .sequence import FACE_ORDER, N_HAND, N_POSE, LandmarkSequence
from .shards import ASSUMED_FPS

REQUIRED_COLUMNS = ("frame", "type", "landmark_index", "x", "y", "z")
PARTS = {"pose": N_POSE, "left_hand": N_HAND, "right_hand": N_HAND, "face": 468}


@lru_cache(maxsize=16)
def _label_table(path: str) -> dict[str, dict]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    table = {}
    for r in rows:
        sid = r.get("sequence_id") or r.get("sample_id")
        if sid and r.get("sign"):
            table[sid] = {"gloss": r["sign"], "signer": r.get("participant_id", "")}
    return table


def find_label(path: Path) -> dict | None:
    """Gloss and signer of a GISLR parquet file from a ``train.csv``/``index.csv`` nearby, else None."""
    for folder in list(path.parents)[:5]:
        for name in ("train.csv", "index.csv"):
            table_path = folder / name
            if table_path.is_file():
                hit = _label_table(str(table_path)).get(path.stem)
                if hit:
                    return hit
    return None


def load_parquet(path, fps: float = ASSUMED_FPS) -> LandmarkSequence:
    """Read one GISLR-style parquet file; labels as stored (see :mod:`.handedness`)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise SignAvatarError(f"parquet file not found: {path}")
    if path.stat().st_size == 0:
        raise SignAvatarError(f"{path}: the file is empty")
    try:
        df = pd.read_parquet(path, columns=list(REQUIRED_COLUMNS))
    except Exception as e:  # pyarrow raises several unrelated types for bad files
        raise SignAvatarError(f"{path}: not a readable GISLR parquet file with columns "
                              f"{', '.join(REQUIRED_COLUMNS)} ({type(e).__name__}: {e})") from None
    if df.empty:
        raise SignAvatarError(f"{path}: the parquet file has no rows")
    unknown = sorted(set(df["type"].unique()) - set(PARTS))
    if unknown:
        raise SignAvatarError(f"{path}: unknown landmark types {unknown}; expected {', '.join(PARTS)}")
    frames, frame_idx = np.unique(df["frame"].to_numpy(), return_inverse=True)
    xyz = df[["x", "y", "z"]].to_numpy(dtype=np.float32)
    lm = df["landmark_index"].to_numpy()
    types = df["type"].to_numpy()
    parts = {}
    for name, n in PARTS.items():
        arr = np.full((len(frames), n, 3), np.nan, dtype=np.float32)
        m = types == name
        if (lm[m] >= n).any() or (lm[m] < 0).any():
            raise SignAvatarError(f"{path}: {name} landmark_index outside 0..{n - 1}")
        arr[frame_idx[m], lm[m]] = xyz[m]
        parts[name] = arr
    label = find_label(path) or {}
    meta = {"gloss": label.get("gloss", ""), "signer": f"gislr:{label['signer']}" if label.get("signer") else "",
            "sample_id": path.stem, "frame_numbers": frames.astype(np.int64), "fps_assumed": True,
            "sign_language": "ASL", "licence": "CC BY 4.0 (believed, not confirmed)"}
    return LandmarkSequence(pose=parts["pose"], left_hand=parts["left_hand"], right_hand=parts["right_hand"],
                            face=parts["face"][:, list(FACE_ORDER)], fps=fps, source=str(path), meta=meta)
