"""One entry for every landmark source: :func:`iter_clips` lists clips, :func:`load_source` loads them.

A source ``spec`` is one of

* a shared dataset name: ``gislr``, ``mpdata``, ``dictvideo``, ``aslapp``, ``videos`` (the
  shared test videos) or ``gislr-parquet`` (GISLR's raw parquet samples), looked up under
  the shared data folder (:func:`shared_root`);
* a folder: a shard dataset (``index.csv`` + ``*.npz.xz``), an ASL-App folder
  (``signs/*.json``), a folder of parquet files or a folder of videos (with an optional
  ``manifest.csv``: ``file``, ``gloss``, ``license``, ``content_source``);
* one file: a video, a GISLR ``.parquet`` or an ASL-App ``.json``.

Every clip comes out as a :class:`ClipRef` (cheap, picklable: what and where, gloss,
signer, licence, sign language) whose :meth:`ClipRef.load` returns the
:class:`LandmarkSequence` with hand labels repaired (:func:`.handedness.fix_hand_labels`)
and the clip's metadata in ``seq.meta``.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import SignAvatarError
from . import shards
from .handedness import fix_hand_labels, mirror, normalise_dominant_hand
from .sequence import LandmarkSequence
from .video import VIDEO_EXTENSIONS

SHARED_NAMES = {"gislr": "data/gislr", "mpdata": "data/mpdata", "dictvideo": "data/dictvideo",
                "aslapp": "data/aslapp", "videos": "videos", "gislr-parquet": "data/gislr/raw_parquet_samples"}
DOMINANT_HAND_CHOICES = ("keep", "right")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def shared_root() -> Path:
    """The shared data folder: ``$SIGNAVATAR_SHARED``, else ``shared`` beside the repository or the cwd."""
    env = os.environ.get("SIGNAVATAR_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [Path(__file__).resolve().parents[3] / "shared", Path.cwd().parent / "shared", Path.cwd() / "shared"]
    for c in candidates:
        if (c / "data").is_dir() or (c / "videos").is_dir():
            return c
    raise SignAvatarError("shared data folder not found (looked in " + ", ".join(str(c) for c in candidates)
                          + "); set SIGNAVATAR_SHARED to the folder that holds data/ and videos/")


def safe_id(text: str) -> str:
    return _UNSAFE.sub("_", str(text)).strip("_") or "clip"


@dataclass
class ClipRef:
    """One clip of a source, not loaded yet."""

    source: str  # dataset name (gislr, mpdata, dictvideo, aslapp) or video / parquet
    clip_id: str  # unique, file-name safe: "<dataset>-<sample id>" (GISLR parquet files: "gislr-<sequence_id>")
    kind: str  # shard | parquet | aslapp | video
    path: str  # the dataset folder (shard) or the file
    gloss: str  # as the source spells it
    signer: str
    sign_language: str
    licence: str
    row: dict | None = None  # shard index row
    meta: dict = field(default_factory=dict)

    def data_file(self) -> Path:
        """The file the clip's numbers come from (a shard for shard datasets)."""
        return Path(self.path) / self.row["shard"] if self.kind == "shard" else Path(self.path)

    def fingerprint(self) -> str:
        """Changes when the clip's data file changes (path, size, modification time)."""
        p = self.data_file()
        try:
            st = p.stat()
        except OSError:
            raise SignAvatarError(f"{self.clip_id}: data file missing: {p}") from None
        return hashlib.sha1(f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]

    def load(self, *, dominant_hand: str = "keep", mirrored: bool = False, progress: bool = False
             ) -> LandmarkSequence:
        """Load the landmarks; ``dominant_hand="right"`` mirrors clips signed with the left hand.

        ``mirrored`` says the recording itself is a mirror image (mirrored back first).
        """
        if dominant_hand not in DOMINANT_HAND_CHOICES:
            raise SignAvatarError(f"dominant_hand must be one of {DOMINANT_HAND_CHOICES}, got {dominant_hand!r}")
        if self.kind == "video":
            from .video import load_video

            # one process: a data set's landmarks are the single pass, whatever the machine's core count
            seq = load_video(self.path, mirrored=mirrored, progress=progress, workers=1)
        else:
            if self.kind == "shard":
                seq = shards.load_row(self.path, self.source, self.row, self.meta)
            elif self.kind == "parquet":
                from .parquet import load_parquet

                seq = load_parquet(self.path)
            elif self.kind == "aslapp":
                from .aslapp import load_aslapp_sign

                seq = load_aslapp_sign(self.path)
            else:
                raise SignAvatarError(f"unknown clip kind {self.kind!r}")
            seq = fix_hand_labels(mirror(seq) if mirrored else seq)
        require_landmarks(seq)
        if dominant_hand == "right":
            seq = normalise_dominant_hand(seq)
        seq.meta.update(clip_id=self.clip_id, dataset=self.source, gloss=self.gloss, signer=self.signer,
                        sign_language=self.sign_language, licence=self.licence)
        for k, v in self.meta.items():
            seq.meta.setdefault(k, v)
        return seq


def require_landmarks(seq: LandmarkSequence) -> None:
    """Refuse a sequence with no body or no hand in any frame (nothing to reconstruct)."""
    problems = []
    if not np.isfinite(seq.pose).any():
        problems.append("no body (pose) landmarks")
    if not seq.hand_present().any():
        problems.append("no hand landmarks")
    if problems:
        raise SignAvatarError(f"{seq.source or 'landmarks'}: " + " and ".join(problems)
                              + f" in any of its {seq.num_frames} frames (all NaN); nothing to reconstruct, "
                              "the signer's body and hands must be visible")


# ---------------------------------------------------------------- listing clips

def _shard_refs(root: Path) -> Iterator[ClipRef]:
    name = shards.dataset_name(root)
    for row in shards.read_index(root):
        info = shards.row_info(name, row)
        yield ClipRef(source=name, clip_id=f"{name}-{safe_id(row['sample_id'])}", kind="shard", path=str(root),
                      gloss=info["gloss"], signer=info["signer"], sign_language=info["sign_language"],
                      licence=info["licence"], row=row, meta=info)


def _aslapp_refs(files: list[Path]) -> Iterator[ClipRef]:
    for f in files:
        yield ClipRef(source="aslapp", clip_id=f"aslapp-{safe_id(f.stem)}", kind="aslapp", path=str(f),
                      gloss=f.stem, signer="aslapp:unknown", sign_language="ASL", licence="MIT",
                      meta={"licence_note": "MIT (shravnchandr/ASL-App)", "source_repo": "shravnchandr/ASL-App"})


def _parquet_refs(files: list[Path]) -> Iterator[ClipRef]:
    from .parquet import find_label

    for f in files:
        label = find_label(f) or {}
        # the file stem is GISLR's sequence_id, the shard's sample_id: one clip id for both copies
        yield ClipRef(source="parquet", clip_id=f"gislr-{safe_id(f.stem)}", kind="parquet", path=str(f),
                      gloss=label.get("gloss", ""), signer=f"gislr:{label['signer']}" if label.get("signer") else
                      "parquet:unknown", sign_language="ASL", licence=shards.licence_class("CC BY"),
                      meta={"licence_note": "GISLR / PopSign ASL: CC BY 4.0 believed, not confirmed"})


def _manifest(folder: Path) -> dict[str, dict]:
    path = folder / "manifest.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        return {r["file"]: r for r in csv.DictReader(f) if r.get("file")}


def _video_refs(files: list[Path], manifest: dict[str, dict]) -> Iterator[ClipRef]:
    for f in files:
        m = manifest.get(f.name, {})
        note = m.get("license", "")
        gloss = m.get("gloss", "")
        if not gloss or gloss.lower() == "unknown":
            gloss = "" if m else f.stem
        yield ClipRef(source="video", clip_id=f"video-{safe_id(f.stem)}", kind="video", path=str(f),
                      gloss=gloss, signer=f"video:{m.get('content_source') or f.stem}",
                      sign_language=m.get("sign_language", "ASL" if m else "unspecified"),
                      licence=shards.licence_class(note) if note else "unknown", meta={
                          "licence_note": note, "source_repo": m.get("repo", ""),
                          "source_path": m.get("path", ""), "source_commit": m.get("commit", "")})


def _is_video(p: Path) -> bool:
    return p.suffix.lower() in VIDEO_EXTENSIONS


def resolve_spec(spec: str) -> Path:
    """The path a source spec names (a shared dataset name or a path)."""
    p = Path(spec).expanduser()
    if p.exists():
        return p
    if spec in SHARED_NAMES:
        p = shared_root() / SHARED_NAMES[spec]
        if p.exists():
            return p
    raise SignAvatarError(f"source not found: {spec!r}; give a video, .parquet or .json file, a dataset folder, "
                          f"or one of the shared dataset names {', '.join(SHARED_NAMES)}")


def iter_clips(spec: str) -> list[ClipRef]:
    """Every clip of one source spec (see the module docstring), in a stable order."""
    p = resolve_spec(spec)
    if p.is_file():
        if _is_video(p):
            return list(_video_refs([p], _manifest(p.parent)))
        if p.suffix == ".parquet":
            return list(_parquet_refs([p]))
        if p.suffix == ".json":
            return list(_aslapp_refs([p]))
        raise SignAvatarError(f"{p}: unknown source file type '{p.suffix}'; expected a video "
                              f"({', '.join(VIDEO_EXTENSIONS)}), a .parquet or an ASL-App .json file")
    if (p / "index.csv").is_file() and any(p.glob("*.npz.xz")):
        return list(_shard_refs(p))
    signs = p / "signs" if (p / "signs").is_dir() else p
    if (signs / "metadata.json").is_file() or (p / "metadata.json").is_file():
        files = sorted(signs.glob("*.json"))
        if files:
            return list(_aslapp_refs(files))
    parquets = sorted(p.rglob("*.parquet"))
    if parquets:
        return list(_parquet_refs(parquets))
    videos = sorted(f for f in p.iterdir() if f.is_file() and _is_video(f))
    if videos:
        return list(_video_refs(videos, _manifest(p)))
    raise SignAvatarError(f"{p}: no landmark source found in this folder (no index.csv with *.npz.xz shards, "
                          "no signs/*.json, no .parquet files, no videos)")


def load_source(spec: str, *, dominant_hand: str = "keep", progress: bool = False) -> Iterator[LandmarkSequence]:
    """Load every clip of ``spec`` in order (see :meth:`ClipRef.load`)."""
    for ref in iter_clips(spec):
        yield ref.load(dominant_hand=dominant_hand, progress=progress)
