"""What a batch renders: jobs from the command line or a file, names, shards (stdlib only).

A job is one clip: a gloss (or free text the model matches), a sentence, an image (a printed
word or a photo of an object, read by the model's ``match_image``) or an existing motion
file, with a seed and an output name. Files: a text file has one gloss per line (``#`` starts a comment); a CSV
file has a header with ``gloss``, ``sentence`` or ``image`` (a path, relative to the CSV's folder) and optionally
``seed`` and ``name`` columns; a folder (``--input DIR`` or ``--image DIR``) gives one image job per image file in it,
in name order. Shards are 1-based: ``--shard 2/4`` renders jobs 2, 6, 10, ... (every 4th job,
in input order, starting with the 2nd), so a job array of n machines splits a
dictionary evenly whatever order the glosses are in.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .. import mr

NAME_MAX = 80


GLOSS, SENTENCE, MOTION, IMAGE = "gloss", "sentence", "motion", "image"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")


@dataclass(frozen=True)
class RenderJob:
    """One clip: ``text`` is a gloss, words to sign in order (``sentence``), an image path (``image``) or a ``.npz``
    path (``motion``)."""

    text: str
    seed: int
    name: str
    kind: str = GLOSS

    @property
    def label(self) -> str:
        return f"\"{self.text}\"" if self.kind == SENTENCE else self.text


def safe_name(text: str) -> str:
    """A file-name stem from a gloss or sentence: ASCII letters, digits, ``_`` and ``-`` only."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", ascii_text.strip().lower()).strip("_")
    return stem[:NAME_MAX] or "clip"


def _int(value: str, where: str, problems: list[str]) -> int | None:
    try:
        return int(value)
    except ValueError:
        problems.append(f"{where}: seed must be a whole number, got {value!r}")
        return None


def image_folder(path) -> list[tuple[str, int, str, str]]:
    """Image rows ``(path, None, stem, image)`` for every image file directly in folder ``path``, in name order."""
    files = sorted(p for p in Path(path).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise mr.error()(f"{path}: no image files in this folder ({', '.join(IMAGE_EXTENSIONS)})")
    return [(str(p), None, p.stem, IMAGE) for p in files]


def read_job_file(path, default_seed: int) -> list[tuple[str, int, str, str]]:
    """Rows ``(text, seed, name, kind)`` of a job file or an image folder (``name`` may be empty)."""
    path = Path(path)
    if path.is_dir():
        return [(p, default_seed, n, k) for p, _, n, k in image_folder(path)]
    if not path.is_file():
        raise mr.error()(f"job file not found: {path}")
    text = path.read_text(encoding="utf-8-sig")
    problems: list[str] = []
    rows: list[tuple[str, int, str, str]] = []
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        cols = [c.strip().lower() for c in (reader.fieldnames or [])]
        if not {"gloss", "sentence", "image"} & set(cols):
            raise mr.error()(f"{path}: a CSV job file needs a header with a 'gloss', 'sentence' or 'image' column "
                                   f"(optional 'seed' and 'name'); found {cols or 'no header'}")
        for n, raw in enumerate(reader, start=2):
            row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            given = [(k, row[k]) for k in (GLOSS, SENTENCE, IMAGE) if row.get(k)]
            where = f"{path.name} line {n}"
            if len(given) > 1:
                problems.append(f"{where}: give one of gloss, sentence or image, not {' and '.join(k for k, _ in given)}")
                continue
            if not given:
                continue  # blank row
            kind, text = given[0]
            if kind == IMAGE:
                image = Path(text) if Path(text).is_absolute() else path.parent / text
                if not image.is_file():
                    problems.append(f"{where}: image not found: {image}")
                    continue
                text = str(image)
            seed = _int(row["seed"], where, problems) if row.get("seed") else default_seed
            if seed is not None:
                rows.append((text, seed, row.get("name", "") or (Path(text).stem if kind == IMAGE else ""), kind))
    else:
        for line in text.splitlines():
            gloss = line.split("#", 1)[0].strip()
            if gloss:
                rows.append((gloss, default_seed, "", GLOSS))
    if problems:
        raise mr.error()("; ".join(problems))
    return rows


def make_jobs(glosses, sentences, files, seed: int, motions=(), images=()) -> list[RenderJob]:
    """All jobs, in order: command-line glosses, sentences, each file's rows, images (files or folders), then motion
    files.

    Default names are the gloss (plus ``_seedN`` when the seed is not the batch's) or the
    motion file's stem;
    every duplicate output name is reported in one ``SignAvatarError``.
    """
    rows = [(g, seed, "", GLOSS) for g in glosses] + [(s, seed, "", SENTENCE) for s in sentences]
    for f in files:
        rows.extend(read_job_file(f, seed))
    for im in images:
        if Path(im).is_dir():
            rows.extend((p, seed, n, k) for p, _, n, k in image_folder(im))
        elif Path(im).is_file():
            rows.append((str(im), seed, Path(im).stem, IMAGE))
        else:
            raise mr.error()(f"image not found: {im}")
    missing = [str(m) for m in motions if not Path(m).is_file()]
    if missing:
        raise mr.error()(f"motion files not found: {', '.join(missing)}")
    rows.extend((str(m), seed, Path(m).stem, MOTION) for m in motions)
    jobs: list[RenderJob] = []
    for text, s, name, kind in rows:
        text = text if kind in (MOTION, IMAGE) else " ".join(text.split())
        stem = safe_name(name) if name else safe_name(text) + ("" if s == seed else f"_seed{s}")
        jobs.append(RenderJob(text=text, seed=s, name=stem, kind=kind))
    seen: dict[str, RenderJob] = {}
    clashes = []
    for job in jobs:
        if job.name in seen:
            clashes.append(f"{seen[job.name].label} and {job.label} both write '{job.name}'")
        seen.setdefault(job.name, job)
    if clashes:
        raise mr.error()("duplicate output names: " + "; ".join(clashes) +
                               ". Give different seeds or a 'name' column in a CSV job file")
    if not jobs:
        raise mr.error()("nothing to render: give glosses, --sentence TEXT, --input FILE, --image FILE|DIR or "
                         "--motion NPZ")
    return jobs


def parse_shard(text: str | None) -> tuple[int, int]:
    """``"k/n"`` -> ``(k, n)`` with 1 <= k <= n; ``None`` -> ``(1, 1)``."""
    if not text:
        return 1, 1
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not (1 <= int(m.group(1)) <= int(m.group(2))):
        raise mr.error()(f"--shard must be k/n with 1 <= k <= n (e.g. 2/4), got {text!r}")
    return int(m.group(1)), int(m.group(2))


def shard(jobs: list[RenderJob], k: int, n: int) -> list[RenderJob]:
    """Every n-th job starting with the k-th (1-based): shards are disjoint and cover all jobs."""
    return jobs[k - 1::n]
