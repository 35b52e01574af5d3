"""One kept clip's row of a dataset's ``index.csv``, typed: :class:`ClipRecord`.

The builder makes one record per clip that passed quality control (:func:`clip_record`);
:meth:`ClipRecord.to_dict` gives the row written to ``index.csv`` (the on-disk columns and
their text are those of :mod:`.dataset`; ``offset``, ``frames`` and ``fps`` are added there).
Flags are stored as 0/1, missing or non-finite numbers as "".
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from .qc import Verdict


def fmt(v):
    """A value as the index stores it: "" for None or non-finite floats, floats to 5 decimals."""
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if not np.isfinite(v) else round(v, 5)
    return v


@dataclass
class ClipRecord:
    clip_id: str
    gloss: str  # the merged spelling the dataset uses
    signer: str
    source: str
    licence: str
    sign_language: str
    gloss_raw: str  # as the source spelled it
    licence_note: str
    sample_id: str
    source_repo: str
    source_path: str
    source_commit: str
    frames_raw: int  # frames the IK solved, before trimming
    trim_start: int
    trim_stop: int
    valid_share: float | str  # share of the kept frames the IK solved ("" when unknown)
    hand_labels_swapped: int
    hand_frames_swapped: int
    mirrored: int
    hands_swapped: int
    dominance: float | str
    hand_wrist_gap: float | str
    fps_assumed: int
    image_size: str
    quality: dict = field(default_factory=dict)  # the IK's quality figures, one column each
    split: str = ""  # "train" / "test" (per-gloss split)
    signer_split: str = ""  # "train" / "test" (signer-disjoint split), "" when not made

    def to_dict(self) -> dict:
        """The ``index.csv`` row: the fields in order, the quality figures, then the splits."""
        row = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("quality", "split",
                                                                                    "signer_split")}
        row.update({k: fmt(v) for k, v in self.quality.items()})
        row.update(split=self.split, signer_split=self.signer_split)
        return row


def clip_record(item, clip, verdict: Verdict) -> ClipRecord:
    """The record of a kept clip: ``item`` (the builder's selected clip: ref, gloss, dominance),
    ``clip`` (its cached IK result: motion, valid, quality, meta) and the QC ``verdict``."""
    ref, meta = item.ref, clip.meta
    v = verdict
    valid = round(float(np.mean(clip.valid[v.start:v.stop])), 4) if clip.valid is not None else ""
    return ClipRecord(
        clip_id=ref.clip_id, gloss=item.gloss, signer=ref.signer, source=ref.source, licence=ref.licence,
        sign_language=ref.sign_language or "unspecified", gloss_raw=ref.gloss,
        licence_note=meta.get("licence_note", ref.meta.get("licence_note", "")),
        sample_id=meta.get("sample_id", ""), source_repo=meta.get("source_repo", ""),
        source_path=meta.get("source_path", "") or meta.get("video_path", ""),
        source_commit=meta.get("source_commit", ""),
        frames_raw=len(clip.motion.poses), trim_start=v.start, trim_stop=v.stop, valid_share=valid,
        hand_labels_swapped=int(bool(meta.get("hand_labels_swapped"))),
        hand_frames_swapped=int(meta.get("hand_frames_swapped") or 0),
        mirrored=int(bool(meta.get("mirrored"))), hands_swapped=int(bool(meta.get("hands_swapped"))),
        dominance=fmt(meta.get("dominance", item.dominance)), hand_wrist_gap=fmt(meta.get("hand_wrist_gap")),
        fps_assumed=int(bool(meta.get("fps_assumed"))), image_size=meta.get("image_size", ""),
        quality=dict(clip.quality),
    )
