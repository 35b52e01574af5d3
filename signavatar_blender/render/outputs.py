"""Crash-safe outputs of one clip: temporary names, checks, then rename (stdlib only, and the one atomic-write
helper, :func:`..runtime_bridge.atomic`).

A clip's files are first written under hidden temporary names (``.<name>.partial.mp4``,
``.<name>_frames.partial/`` ...), checked (the MP4 is complete and holds one frame per
motion frame, the frame folder holds every frame), and only then renamed over the previous
outputs, so a clip killed half-way never replaces or deletes a good earlier one. The
per-clip record stores what was checked (:func:`describe`), and resume trusts a record only
while the files still match it (:func:`still_matches`).

The temporary names are fixed (:func:`partial_path`), not the atomic helper's unique ones: Blender writes
them itself, and a batch killed on Ctrl+C (``os._exit``, no ``finally`` runs) or by the system leaves them
where the next run of the clip finds and removes them (:func:`remove_partials`).
"""

from __future__ import annotations

import glob
import shutil
import struct
from pathlib import Path

from ..runtime_bridge import atomic

PARTIAL = ".partial"
FRAMES = "_frames"  # <name>_frames/: the PNG frames
SHEET = "_sheet"  # <name>_sheet.png: the contact sheet
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def partial_path(final: Path) -> Path:
    """The temporary name of ``final`` (same folder, hidden, same suffix: Blender picks the writer by it)."""
    return final.with_name(f".{final.stem}{PARTIAL}{final.suffix}")


def remove_partials(out_dir: Path, name: str) -> None:
    """Delete what a killed earlier run of ``name`` left under temporary names (a partial output, a contact
    sheet's cell, or an old output moved aside by :func:`commit`). Only ``name``'s own outputs are matched,
    never those of another clip whose name starts the same (``hello`` vs ``hello_world``)."""
    out_dir = Path(out_dir)
    leftovers = []
    for stem in (name, f"{name}{FRAMES}", f"{name}{SHEET}"):
        s = glob.escape(stem)
        leftovers += [*out_dir.glob(f".{s}{PARTIAL}*"), *out_dir.glob(f"..{s}{PARTIAL}.*.cell.png"),
                      *out_dir.glob(f".{s}.*.old*")]
    for p in leftovers:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def _boxes(f, start: int, end: int):
    """``(type, payload start, box end)`` of the MP4 boxes between ``start`` and ``end``."""
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        size, kind = struct.unpack(">I4s", f.read(8))
        head = 8
        if size == 1:
            size = struct.unpack(">Q", f.read(8))[0]
            head = 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            raise ValueError(f"box {kind!r} at byte {pos} runs past the end (truncated file)")
        yield kind, pos + head, pos + size
        pos += size
    if pos != end:
        raise ValueError(f"{end - pos} stray bytes at the end")


def mp4_frames(path) -> int:
    """Video frames in a complete MP4 (sample count of its first ``stsz``); ``ValueError`` when the file is
    truncated or has no ``moov`` (what an interrupted writer leaves)."""
    path = Path(path)
    end = path.stat().st_size
    with open(path, "rb") as f:
        top = {kind for kind, _, _ in _boxes(f, 0, end)}
        if b"moov" not in top or b"ftyp" not in top:
            raise ValueError("no moov atom (the writer did not finish)")

        def find(start, stop):
            for kind, a, b in _boxes(f, start, stop):
                if kind == b"stsz":
                    f.seek(a + 8)  # version/flags, sample_size
                    return struct.unpack(">I", f.read(4))[0]
                if kind in CONTAINERS:
                    n = find(a, b)
                    if n is not None:
                        return n
            return None

        n = find(0, end)
    if n is None:
        raise ValueError("no video track")
    return n


def describe(out_dir: Path, files: list[str]) -> dict:
    """What resume checks of each output: bytes of a file, file count of a folder, frames of an MP4."""
    out = {}
    for name in files:
        p = Path(out_dir) / name
        if p.is_dir():
            out[name] = {"files": sum(1 for c in p.iterdir() if c.is_file())}
        else:
            d = {"bytes": p.stat().st_size}
            if p.suffix == ".mp4":
                d["frames"] = mp4_frames(p)
            out[name] = d
    return out


def still_matches(out_dir: Path, checks: dict) -> bool:
    """Whether the files are still what the record says (sizes, frame counts, complete MP4s)."""
    if not checks:
        return False
    try:
        return describe(out_dir, list(checks)) == checks
    except (OSError, ValueError, struct.error):
        return False


def commit(pairs: list[tuple[Path, Path]]) -> None:
    """Rename each checked temporary output over its final name (a folder replaces the old one, which is
    deleted only once the new one is in place)."""
    for tmp, final in pairs:
        atomic().move_into_place(tmp, final)
