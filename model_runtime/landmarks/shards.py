"""The compact landmark shards of ``../shared/data/{gislr,mpdata,dictvideo}``.

A shard dataset is a folder with ``index.csv`` (one row per sequence: ``shard``, ``start``,
``end`` and per-dataset metadata) and ``*.npz.xz`` shards (an uncompressed ``.npz``
compressed with xz) holding ``data`` float16 (frames, 115, 3) in the shared row layout of
:mod:`.sequence`, plus ``pose_world`` / ``pose_visibility`` (dictvideo) or ``vis``
(mpdata). Each shard is decompressed once per process and kept (:func:`shard_arrays`).

Per-dataset facts (from each dataset's README and ``meta.json``):

* ``gislr``: PopSign ASL phone recordings; gloss ``sign``, signer ``participant_id``; no
  frame rate stored (captured at about 30 fps, so 30 is assumed); image size unknown;
  licence believed CC BY 4.0, not confirmed.
* ``mpdata``: webcam ``MP_Data`` recordings from many repositories; signer ``signer_id``;
  ``sign_language`` is the source's guess (ASL, ISL, BSL, ... or ``unspecified``); no
  frame rate (webcam loops, 15-30 fps; 30 assumed); licence per repository.
* ``dictvideo``: dictionary videos; ``fps``, ``width``/``height`` per row; metric
  ``pose_world``; no signer column, so the signer is the ``source_group`` (one mocap
  signer for the CC0 StudioGalt avatar renders, one site or recorder for the others).
* ``segments``: signs cut from one long recording by ``data segment`` (:mod:`..data.segments`),
  one shard per sign; ``fps``, ``width``/``height``, ``signer``, ``sign_language`` and
  ``license`` per row, and ``segment_of`` / ``start_s`` / ``end_s``: the recording and the
  sign's place in it.
"""

from __future__ import annotations

import csv
import io
import lzma
import math
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import SignAvatarError
from .sequence import N_ROWS, LandmarkSequence

ASSUMED_FPS = 30.0  # for sources that did not store a frame rate


@lru_cache(maxsize=None)
def _shard_arrays_cached(path: str, size: int, mtime_ns: int) -> dict:
    try:
        raw = lzma.decompress(Path(path).read_bytes())
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (lzma.LZMAError, OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise SignAvatarError(f"{path}: not a readable .npz.xz landmark shard ({e})") from None
    data = arrays.get("data")
    if data is None or data.ndim != 3 or data.shape[1:] != (N_ROWS, 3):
        raise SignAvatarError(f"{path}: shard 'data' must be (frames, {N_ROWS}, 3), got "
                              f"{None if data is None else data.shape}")
    return arrays


def shard_arrays(path) -> dict:
    """The arrays of one ``.npz.xz`` shard, decompressed once per process (keyed by path, size, mtime)."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        raise SignAvatarError(f"landmark shard not found: {p}") from None
    return _shard_arrays_cached(str(p.resolve()), st.st_size, st.st_mtime_ns)


def licence_class(text: str) -> str:
    """A short licence label for the dataset card; the full text stays in ``licence_note``.

    ``CC0``, ``MIT``, ``Apache-2.0``, ``CC BY 4.0 (unconfirmed)`` or ``none stated`` (no
    licence, or a repository licence that does not cover third-party footage).
    """
    low = (text or "").strip().lower()
    if low.startswith("cc0"):
        return "CC0"
    if "third-party" in low or "third party" in low:
        return "none stated"
    if low.startswith("mit"):
        return "MIT"
    if low.startswith("apache"):
        return "Apache-2.0"
    if low.startswith("cc by"):
        return "CC BY 4.0 (unconfirmed)"
    return "none stated"


def _num(value, default=float("nan")) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return default
    return v if math.isfinite(v) else default


@dataclass(frozen=True)
class _Schema:
    """How one dataset's index columns map onto clip metadata."""

    gloss: str
    signer: str | None
    language: str | None  # column, or None = always ASL
    licence: str | None  # column, or None = the fixed ``licence_text``
    licence_text: str = ""


SCHEMAS = {
    "gislr": _Schema(gloss="sign", signer="participant_id", language=None, licence=None,
                     licence_text="CC BY 4.0 (believed, not confirmed)"),
    "mpdata": _Schema(gloss="gloss", signer="signer_id", language="sign_language", licence="license"),
    "dictvideo": _Schema(gloss="gloss", signer="source_group", language=None, licence="license"),
    # signs cut from a long recording by ``data segment`` (:mod:`..data.segments`)
    "segments": _Schema(gloss="gloss", signer="signer", language="sign_language", licence="license"),
}
# index columns copied into ``meta`` as they are (when present)
_META_COLUMNS = ("source_repo", "source_commit", "source_path", "gloss_raw", "source_kind", "layout",
                 "code_mentions_flip", "source_group", "phrase", "take", "sense", "variant", "rendered_avatar",
                 "frame_step", "src_fps", "notes", "first_frame", "segment_of", "start_s", "end_s")


def read_index(root) -> list[dict]:
    root = Path(root)
    path = root / "index.csv"
    if not path.is_file():
        raise SignAvatarError(f"{root}: no index.csv; a landmark shard dataset needs index.csv beside its "
                              "*.npz.xz shards")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    need = {"sample_id", "shard", "start", "end"}
    missing = sorted(need - set(rows[0] if rows else need))
    if missing:
        raise SignAvatarError(f"{path}: missing columns {missing}")
    return rows


def dataset_name(root) -> str:
    """``gislr`` / ``mpdata`` / ``dictvideo`` from the index columns (folder names may differ)."""
    root = Path(root)
    with open(root / "index.csv", newline="") as f:
        header = next(csv.reader(f), [])
    if "participant_id" in header and "sign" in header:
        return "gislr"
    if "signer_id" in header and "sign_language" in header:
        return "mpdata"
    if "source_group" in header and "width" in header:
        return "dictvideo"
    if "segment_of" in header:
        return "segments"
    raise SignAvatarError(f"{root}/index.csv: columns {header[:8]}... match none of the known shard datasets "
                          f"({', '.join(SCHEMAS)})")


def row_info(name: str, row: dict) -> dict:
    """Clip metadata of one index row: gloss, signer, licence, sign_language, fps, image_size, extras."""
    s = SCHEMAS[name]
    fps = _num(row.get("fps"))
    size = None
    w, h = _num(row.get("width")), _num(row.get("height"))
    if w > 0 and h > 0:
        size = (int(w), int(h))
    licence_text = row.get(s.licence, "") if s.licence else s.licence_text
    info = {
        "gloss": row[s.gloss],
        "signer": f"{name}:{row[s.signer]}" if s.signer and row.get(s.signer) not in (None, "") else f"{name}:unknown",
        "sign_language": (row.get(s.language) or "unspecified") if s.language else "ASL",
        "licence": licence_class(licence_text),
        "licence_note": licence_text,
        "fps": fps if fps > 0 else ASSUMED_FPS,
        "fps_assumed": not fps > 0,
        "image_size": size,
        "sample_id": row["sample_id"],
    }
    info.update({k: row[k] for k in _META_COLUMNS if row.get(k) not in (None, "")})
    return info


def load_row(root, name: str, row: dict, info: dict | None = None) -> LandmarkSequence:
    """The :class:`LandmarkSequence` of one index row, labels as stored (see :mod:`.handedness`)."""
    root = Path(root)
    info = info or row_info(name, row)
    arrays = shard_arrays(root / row["shard"])
    start, end = int(row["start"]), int(row["end"])
    data = arrays["data"]
    if not 0 <= start < end <= len(data):
        raise SignAvatarError(f"{root}/index.csv sample {row['sample_id']}: rows {start}:{end} outside "
                              f"{row['shard']} ({len(data)} frames)")
    pose_world = arrays["pose_world"][start:end] if "pose_world" in arrays else None
    meta = {k: v for k, v in info.items() if k not in ("fps", "image_size")}
    vis = arrays.get("pose_visibility", arrays.get("vis"))
    if vis is not None:
        v = vis[start:end].astype(np.float32)
        v[v == 255] = np.nan  # mpdata: 255 = unknown
        meta["pose_visibility"] = v / 100.0
    return LandmarkSequence.from_rows(data[start:end], fps=info["fps"], image_size=info["image_size"],
                                      pose_world=pose_world, source=f"{name}:{row['sample_id']}", meta=meta)
