"""Per-clip cache of landmark -> SMPL-X results, so a build can stop and resume.

One ``.npz`` per clip under ``<cache>/<source>/<clip_id>-<key>.npz``, where ``key`` hashes
everything the result depends on: the clip's data file (path, size, mtime), whether it
is mirrored, the skeleton gender, the solver, and the source code of the landmark and IK
packages (any change there recomputes). A failed clip is cached too (its error message),
so a resumed build does not retry it unless asked. Files are written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import write_npz
from ..motion import SignMotion

DEFAULT_CACHE = Path("~/.cache/signavatar/build")


def default_cache_dir() -> Path:
    env = os.environ.get("SIGNAVATAR_CACHE")
    return (Path(env) / "build" if env else DEFAULT_CACHE).expanduser()


def code_hash(*packages: Path) -> str:
    """Hash of the ``.py`` sources of ``packages`` (folders)."""
    h = hashlib.sha1()
    for pkg in packages:
        for p in sorted(Path(pkg).rglob("*.py")):
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def clip_key(parts: dict) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class CachedClip:
    """A clip's IK result and QC signals (or its error)."""

    motion: SignMotion | None
    valid: np.ndarray | None
    signals: dict
    quality: dict
    meta: dict
    error: str = ""


def cache_path(root: Path, source: str, clip_id: str, key: str) -> Path:
    return Path(root) / source / f"{clip_id}-{key}.npz"


def _jsonable(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, np.ndarray):
            continue
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and not np.isfinite(v):
            v = None
        if isinstance(v, (str, int, float, bool, type(None), list, tuple)):
            out[k] = v
    return out


def save_ok(path: Path, motion: SignMotion, valid: np.ndarray, signals: dict, quality: dict, meta: dict) -> None:
    write_npz(path, poses=motion.poses, trans=motion.trans, fps=np.array(motion.fps),
                  valid=np.asarray(valid, dtype=bool), wrist_drop=signals["wrist_drop"],
                  wrist_speed=signals["wrist_speed"], hand_present=signals["hand_present"],
                  quality=np.array(json.dumps(_jsonable(quality))), meta=np.array(json.dumps(_jsonable(meta))))


def save_error(path: Path, message: str, meta: dict) -> None:
    write_npz(path, error=np.array(message), meta=np.array(json.dumps(_jsonable(meta))))


def load(path: Path, gloss: str = "", source: str = "") -> CachedClip:
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        if "error" in z.files:
            return CachedClip(None, None, {}, {}, meta, error=str(z["error"]))
        motion = SignMotion(poses=z["poses"], trans=z["trans"], fps=float(z["fps"]), gloss=gloss, source=source)
        signals = {k: z[k] for k in ("wrist_drop", "wrist_speed", "hand_present")}
        return CachedClip(motion, z["valid"], signals, json.loads(str(z["quality"])), meta)
