"""Names from untrusted places (a model folder, a CSV, a video's metadata) turned into safe paths.

A string that came from a file is never joined under a directory as it is: :func:`safe_stem`
reduces it to ASCII letters, digits, ``_`` and ``-``, and :func:`inside` refuses any join whose
result leaves the directory (``..``, absolute paths, links pointing elsewhere).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from .errors import SignAvatarError

STEM_MAX = 80


def safe_stem(text: str, default: str = "clip", lower: bool = True) -> str:
    """A file-name stem from any text: ASCII letters, digits, ``_`` and ``-`` only, at most 80 characters."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    ascii_text = ascii_text.strip().lower() if lower else ascii_text.strip()
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_text).strip("_-")
    return stem[:STEM_MAX] or default


def inside(base, name) -> Path:
    """``base / name``, refused with :class:`SignAvatarError` unless it stays inside ``base``."""
    base_path = Path(base).resolve()
    target = (base_path / name).resolve()
    if target != base_path and base_path not in target.parents:
        raise SignAvatarError(f"refusing the path {str(name)[:80]!r}: it would leave the folder {base}")
    return target
