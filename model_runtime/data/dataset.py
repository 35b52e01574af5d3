"""The built dataset on disk, and its fast reader.

A dataset is a folder::

    index.csv     one row per clip (columns below), clips in storage order
    poses.npy     (N_frames, 55, 3) float32 axis-angle, every clip's frames concatenated
    trans.npy     (N_frames, 3) float32
    card.json     counts per gloss / signer / source / licence, build settings, quality summary
    card.md       the same for people
    clips/        optional: one motion ``.npz`` per clip (the AMASS-style format)

``poses.npy`` and ``trans.npy`` are memory-mapped on open, so loading a dataset for
training costs one CSV parse. Required index columns: ``clip_id, gloss, signer, source,
licence, sign_language, split, signer_split, offset, frames, fps``; ``split`` is the
per-gloss 8:2 split (``train``/``test``), ``signer_split`` the signer-disjoint one
(``train``/``test``/empty when not computed). Any further columns (quality figures) are
kept as strings and parsed by whoever needs them.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import atomic_dir, write_csv, write_json
from ..errors import SignAvatarError
from ..motion import SignMotion
from ..skeleton import NUM_JOINTS

REQUIRED_COLUMNS = ("clip_id", "gloss", "signer", "source", "licence", "sign_language", "split", "signer_split",
                    "offset", "frames", "fps")


@dataclass
class SignDataset:
    """A built dataset opened for reading (arrays memory-mapped)."""

    root: Path
    records: list[dict]
    poses: np.ndarray
    trans: np.ndarray
    card: dict

    @classmethod
    def open(cls, root) -> "SignDataset":
        root = Path(root)
        if not (root / "index.csv").is_file():
            raise SignAvatarError(f"{root}: not a SignAvatar dataset (no index.csv); build one with "
                                  "'python -m model_runtime data build SOURCES --out DIR'")
        with open(root / "index.csv", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise SignAvatarError(f"{root}/index.csv: missing columns {missing}")
            records = list(reader)
        for r in records:
            r["offset"] = int(r["offset"])
            r["frames"] = int(r["frames"])
            r["fps"] = float(r["fps"])
        try:
            poses = np.load(root / "poses.npy", mmap_mode="r", allow_pickle=False)
            trans = np.load(root / "trans.npy", mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as e:
            raise SignAvatarError(f"{root}: cannot read poses.npy/trans.npy ({e})") from None
        total = sum(r["frames"] for r in records)
        if poses.shape != (total, NUM_JOINTS, 3) or trans.shape != (total, 3):
            raise SignAvatarError(f"{root}: arrays {poses.shape}/{trans.shape} do not match the index "
                                  f"({total} frames)")
        card = json.loads((root / "card.json").read_text()) if (root / "card.json").is_file() else {}
        return cls(root=root, records=records, poses=poses, trans=trans, card=card)

    def __len__(self) -> int:
        return len(self.records)

    def clip_poses(self, i: int) -> np.ndarray:
        """(T, 55, 3) axis-angle of clip ``i`` (a view into the memory map)."""
        r = self.records[i]
        return self.poses[r["offset"]:r["offset"] + r["frames"]]

    def motion(self, i: int) -> SignMotion:
        r = self.records[i]
        sl = slice(r["offset"], r["offset"] + r["frames"])
        return SignMotion(poses=np.array(self.poses[sl]), trans=np.array(self.trans[sl]), fps=r["fps"],
                          gloss=r["gloss"], source=f"{r['source']}:{r['clip_id']}")

    def indices(self, split: str | None = None, kind: str = "gloss") -> np.ndarray:
        """Clip indices of ``split`` (``train``/``test``; None = all); ``kind`` ``gloss`` or ``signer``."""
        if split is None:
            return np.arange(len(self.records))
        col = {"gloss": "split", "signer": "signer_split"}.get(kind)
        if col is None:
            raise SignAvatarError(f"split kind must be 'gloss' or 'signer', got {kind!r}")
        idx = np.array([i for i, r in enumerate(self.records) if r[col] == split], dtype=np.int64)
        if kind == "signer" and len(idx) == 0 and not any(r[col] for r in self.records):
            raise SignAvatarError(f"{self.root}: no signer-disjoint split in this dataset; "
                                  "rebuild with 'data build ... --signer-split'")
        return idx

    def glosses(self) -> list[str]:
        return sorted({r["gloss"] for r in self.records})


def write_dataset(root, motions: list[SignMotion], records: list[dict], card: dict,
                  write_clips: bool = True) -> Path:
    """Write a dataset folder atomically (built beside ``root``, then renamed into place).

    ``records`` carry every required column except ``offset``, ``frames`` and ``fps``,
    which are filled from ``motions``. An existing ``root`` is replaced only once the new
    one is complete.
    """
    root = Path(root)
    if len(motions) != len(records):
        raise SignAvatarError(f"{len(motions)} motions but {len(records)} index records")
    if not motions:
        raise SignAvatarError("no clips to write: every clip was filtered out")
    offset = 0
    rows = []
    for m, r in zip(motions, records):
        row = dict(r)
        row.update(offset=offset, frames=m.num_frames, fps=m.fps)
        missing = [c for c in REQUIRED_COLUMNS if c not in row]
        if missing:
            raise SignAvatarError(f"record for clip {row.get('clip_id', '?')} lacks columns {missing}")
        rows.append(row)
        offset += m.num_frames
    columns = list(REQUIRED_COLUMNS) + sorted({k for r in rows for k in r} - set(REQUIRED_COLUMNS))
    with atomic_dir(root) as tmp:
        np.save(tmp / "poses.npy", np.concatenate([m.poses for m in motions]).astype(np.float32))
        np.save(tmp / "trans.npy", np.concatenate([m.trans for m in motions]).astype(np.float32))
        write_csv(tmp / "index.csv", columns, rows)
        write_json(tmp / "card.json", card, indent=2, sort_keys=True)
        if write_clips:
            (tmp / "clips").mkdir()
            for m, r in zip(motions, rows):
                m.save(tmp / "clips" / f"{r['clip_id']}.npz")
    return root
