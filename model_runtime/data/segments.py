"""A long recording -> one landmark file per sign, in a folder every ``data`` command reads as a source.

:func:`segment_recording` reads the recording (a video, or any single-clip landmark source),
drops implausible detections (:func:`..landmarks.signer_track.clean_signer`, nothing trimmed: the
frames stay those of the recording) and cuts it at motion pauses
(:func:`..landmarks.segment.segment_signs`). :func:`write_segments` writes the folder at once
(:func:`..atomic.atomic_dir`: an interrupted run leaves the old folder or none, never half):

* ``index.csv``: one row per sign, in order: ``sample_id``, ``gloss`` (from the gloss list, else
  empty), ``start_s`` / ``end_s`` (the frames written, seconds of the recording), ``moving_start_s``
  / ``moving_end_s`` (first and last moving frame), ``cut_after_s`` (the cut to the next sign),
  ``lost_frames`` (frames without the signer inside it), ``shard`` and the source's facts
  (``segment_of``, ``fps``, ``width``, ``height``, ``signer``, ``sign_language``, ``license``);
* ``NNN_GLOSS.npz.xz``: the sign's landmarks in the shared shard layout (``data`` float32
  ``(frames, 115, 3)``, ``pose_world``, ``pose_visibility`` x100 as uint8, 255 = unknown);
* ``segments.json``: the settings, the cut times and what was done about a lost signer.

Being a shard dataset (:mod:`..landmarks.shards`, dataset ``segments``), the folder goes straight
into ``data build``, ``data check`` and ``data preview``.
"""

from __future__ import annotations

import hashlib
import io
import lzma
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import SignAvatarError
from ..landmarks.segment import SegmentConfig, Segmentation, match_glosses, segment_signs
from ..landmarks.signer_track import TrackConfig, clean_signer

INDEX_COLUMNS = ("sample_id", "gloss", "start_s", "end_s", "moving_start_s", "moving_end_s", "cut_after_s",
                 "lost_frames", "frames", "shard", "start", "end", "segment_of", "fps", "width", "height", "signer",
                 "sign_language", "license")


@dataclass
class Recording:
    """A recording read and cut: the landmarks (every frame, rejected detections blanked), the cuts,
    the lost-signer figures and the gloss of every sign (empty strings without a gloss list)."""

    path: Path
    seq: object  # LandmarkSequence
    found: Segmentation
    track: dict
    glosses: list[str]


def read_glosses(path) -> list[str]:
    """Glosses in order, one per line; blank lines and ``#`` comments skipped."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SignAvatarError(f"cannot read the gloss list {p}: {getattr(e, 'strerror', None) or e}") from None
    glosses = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
    glosses = [g for g in glosses if g]
    if not glosses:
        raise SignAvatarError(f"{p}: the gloss list is empty; write one gloss per line, in the order they are signed")
    return glosses


def _load(spec: str, mirrored: bool, progress: bool, workers: int | None = None):
    from ..landmarks.sources import iter_clips
    from ..landmarks.video import load_video

    refs = iter_clips(spec)
    if len(refs) != 1:
        raise SignAvatarError(f"{spec}: holds {len(refs)} clips; give one recording (a video or one landmark file)")
    ref = refs[0]
    if ref.kind == "video":  # a long recording: the default worker split, not the data builds' single process
        return load_video(ref.path, mirrored=mirrored, progress=progress, workers=workers)
    return ref.load(mirrored=mirrored)


def segment_recording(spec: str, glosses: list[str] | None = None, config: SegmentConfig = SegmentConfig(),
                      *, mirrored: bool = False, progress: bool = False,
                      track_config: TrackConfig = TrackConfig(), workers: int | None = None) -> Recording:
    """Read ``spec`` and cut it into signs; with ``glosses`` the number of signs found must match
    (:func:`..landmarks.segment.match_glosses` refuses otherwise, naming the signs it found). ``workers``:
    landmark processes for a video (:func:`..landmarks.video.load_video`; default one per core)."""
    seq = _load(spec, mirrored, progress, workers)
    seq, track = clean_signer(seq, track_config, trim=False)
    found = segment_signs(seq, config, lost=track.lost)
    if glosses is not None:
        match_glosses(found, list(glosses), str(spec))
    names = list(glosses) if glosses is not None else [""] * len(found.segments)
    if not found.segments:
        raise SignAvatarError(f"{spec}: no sign found (the hands never move for {config.min_sign_s:g} s between "
                              "pauses); is the signer in view?")
    return Recording(path=Path(spec), seq=seq, found=found, track=track.to_meta(), glosses=names)


def _shard_bytes(seq, start: int, stop: int) -> bytes:
    part = seq.slice(start, stop)
    arrays = {"data": part.rows().astype(np.float32)}
    if part.pose_world is not None:
        arrays["pose_world"] = part.pose_world.astype(np.float32)
    vis = part.meta.get("pose_visibility")
    if isinstance(vis, np.ndarray) and vis.shape == (part.num_frames, 33):
        v = np.where(np.isfinite(vis), np.clip(np.round(vis * 100), 0, 100), 255)
        arrays["pose_visibility"] = v.astype(np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return lzma.compress(buf.getvalue(), preset=6)


def index_rows(rec: Recording, signer: str = "", sign_language: str = "ASL", licence: str = "") -> list[dict]:
    """The ``index.csv`` rows of :func:`write_segments` (shard names included)."""
    from ..landmarks.sources import safe_id

    seq, found = rec.seq, rec.found
    fps = seq.fps
    w, h = seq.image_size or ("", "")
    lost = seq.meta.get("signer_lost")
    rows = []
    for k, (s, gloss) in enumerate(zip(found.segments, rec.glosses)):
        rows.append({
            "sample_id": f"{safe_id(rec.path.stem)}-{k + 1:03d}", "gloss": gloss,
            "start_s": round(s.start / fps, 3), "end_s": round(s.stop / fps, 3),
            "moving_start_s": round(s.moving[0] / fps, 3), "moving_end_s": round(s.moving[1] / fps, 3),
            "cut_after_s": round(found.cuts[k], 3) if k < len(found.cuts) else "",
            "lost_frames": int(lost[s.start:s.stop].sum()) if isinstance(lost, np.ndarray) else 0,
            "frames": s.stop - s.start, "shard": f"{k + 1:03d}_{safe_id(gloss or 'sign')}.npz.xz",
            "start": 0, "end": s.stop - s.start, "segment_of": str(rec.path), "fps": round(fps, 4), "width": w,
            "height": h, "signer": signer or safe_id(rec.path.stem), "sign_language": sign_language,
            "license": licence})
    return rows


def write_segments(rec: Recording, out, *, signer: str = "", sign_language: str = "ASL", licence: str = "",
                   config: SegmentConfig = SegmentConfig()) -> list[dict]:
    """Write the folder of the module docstring to ``out`` (replacing it once complete); returns the rows."""
    from ..atomic import atomic_dir, write_bytes, write_csv, write_json

    rows = index_rows(rec, signer, sign_language, licence)
    with atomic_dir(out) as tmp:
        for row, s in zip(rows, rec.found.segments):
            write_bytes(tmp / row["shard"], _shard_bytes(rec.seq, s.start, s.stop))
        write_csv(tmp / "index.csv", INDEX_COLUMNS, rows)
        write_json(tmp / "segments.json", {
            "recording": str(rec.path), "frames": rec.seq.num_frames, "fps": rec.seq.fps,
            "cuts_s": [round(c, 3) for c in rec.found.cuts], "ignored_s": rec.found.ignored,
            "signer_track": {k: v for k, v in rec.track.items()}, "people": rec.seq.meta.get("people_note", ""),
            "config": asdict(config)}, indent=1)
    return rows


def cache_folder(root: Path, spec: str, glosses: list[str], config: SegmentConfig, mirrored: bool) -> Path:
    """Where ``data build --segment-glosses`` keeps the cut signs of a recording: changes with the recording
    (path, size, modification time), the gloss list, the settings and ``mirrored``."""
    p = Path(spec).resolve()
    st = p.stat()
    key = hashlib.sha1(repr((str(p), st.st_size, st.st_mtime_ns, glosses, asdict(config), mirrored)).encode())
    from ..landmarks.sources import safe_id

    return Path(root) / "recordings" / f"{safe_id(p.stem)}-{key.hexdigest()[:12]}"
