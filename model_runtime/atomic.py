"""The one home for atomic writes: build beside the target, then rename into place.

A reader (another process, a resumed run, Blender loading a file) sees either the old
file or folder or the complete new one, never half of it, and a failed write leaves no
temporary behind. The temporary lives in the target's own folder (a rename across file
systems is not atomic), is hidden (leading dot) and keeps the target's suffix, so writers
that pick a format from the name (``np.save``, ``np.savez``, Pillow, cv2) behave as they would
on the final name and add no second suffix.

* :func:`atomic_path`: a context manager yielding the temporary path for any writer
  (``safetensors.save_file``, ``np.savez``, ``Image.save``, ``csv`` ...);
* :func:`write_with`: the same as a one-liner, ``write_with(path, lambda tmp: writer(tmp))``;
* :func:`write_text`, :func:`write_bytes`, :func:`write_json`, :func:`write_csv`, :func:`write_npz`: the
  common cases;
* :func:`atomic_dir`: the same for a whole folder (a dataset, a training state); an existing
  folder is replaced only once the new one is complete;
* :func:`move_into_place`: the last step of all of them, for a temporary file or folder another
  writer made (Blender renders a clip's video and frame folder under names of its own).

An ``OSError`` while writing (read-only or full disk, a folder in the way) becomes a
:class:`~model_runtime.errors.SignAvatarError` that names the file the user asked for.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from .errors import SignAvatarError


def _temp_beside(path: Path, tag: str) -> Path:
    return path.with_name(f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.{tag}{path.suffix}")


def _cannot_write(path: Path, e: OSError) -> SignAvatarError:
    return SignAvatarError(f"cannot write {path}: {e.strerror or e}")


@contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Yield a temporary file path beside ``path``; renamed onto ``path`` when the block succeeds.

    The parent folder is created. On any exception the temporary is removed and ``path`` is
    left as it was.
    """
    path = Path(path)
    tmp = _temp_beside(path, "tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except OSError as e:
        raise _cannot_write(path, e) from None
    finally:
        if tmp.exists():
            tmp.unlink()


def write_with(path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then rename it into place."""
    with atomic_path(path) as tmp:
        write(tmp)
    return Path(path)


def write_bytes(path, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path, text: str, encoding: str = "utf-8") -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


def write_json(path, obj, **dumps) -> Path:
    """``json.dumps(obj, **dumps)`` plus a final newline, written atomically."""
    return write_text(path, json.dumps(obj, **dumps) + "\n")


def write_csv(path, fieldnames, rows, extrasaction: str = "raise") -> Path:
    """A header and one line per dict in ``rows`` (``csv.DictWriter``), written atomically."""
    import csv

    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(fieldnames), extrasaction=extrasaction)
        w.writeheader()
        w.writerows(rows)
    return Path(path)


def write_npz(path, **arrays) -> Path:
    """``np.savez`` (uncompressed) of ``arrays``, written atomically."""
    import numpy as np

    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
    return Path(path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def move_into_place(tmp, path) -> Path:
    """Rename the finished temporary file or folder ``tmp`` onto ``path`` (same folder).

    A file replaces ``path`` in one rename. A folder cannot be renamed over an existing one, so
    what is at ``path`` is moved aside, ``tmp`` renamed in and only then the old one deleted; if
    the rename fails the old one is put back.
    """
    tmp, path = Path(tmp), Path(path)
    old = _temp_beside(path, "old")
    try:
        if tmp.is_dir() and (path.exists() or path.is_symlink()):
            os.replace(path, old)
        os.replace(tmp, path)
    except OSError as e:
        if (old.exists() or old.is_symlink()) and not path.exists():
            os.replace(old, path)
        raise _cannot_write(path, e) from None
    finally:
        _remove(old)
    return path


@contextmanager
def atomic_dir(path) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; it replaces ``path`` when the block succeeds
    (:func:`move_into_place`); on any exception the temporary folder is deleted and ``path`` is untouched.
    """
    path = Path(path)
    tmp = _temp_beside(path, "building")
    try:
        tmp.mkdir(parents=True)
        yield tmp
        move_into_place(tmp, path)
    except OSError as e:
        raise _cannot_write(path, e) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
