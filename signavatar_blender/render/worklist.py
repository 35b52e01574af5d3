"""The render worklist: what a batch renders, from the command line or a file; names, shards (stdlib only).

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
from dataclasses import dataclass
from pathlib import Path

from .. import runtime_bridge as bridge
from ..runtime_bridge.formats import IMAGE_EXTENSIONS

GLOSS, SENTENCE, MOTION, IMAGE = "gloss", "sentence", "motion", "image"


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
    """A file-name stem from a gloss or sentence: ASCII letters, digits, ``_`` and ``-`` only
    (``model_runtime.safe_paths.safe_stem``, the one home of this rule)."""
    return bridge.runtime("safe_paths").safe_stem(text)


MAX_JOB_FILE_BYTES = 64 * 1024 * 1024
MAX_TEXT_CHARS = 200  # as model_runtime.limits.MAX_TEXT_CHARS


def _int(value: str, where: str, problems: list[str]) -> int | None:
    try:
        seed = int(value)
    except ValueError:
        problems.append(f"{where}: seed must be a whole number, got {value[:40]!r}")
        return None
    if not -(2**63) <= seed <= 2**64 - 1:
        problems.append(f"{where}: seed must fit in 64 bits, got {value[:40]}")
        return None
    return seed


def _read_text(path: Path) -> str:
    """The job file as text (UTF-8, with or without BOM); other encodings are refused with the line."""
    if path.stat().st_size > MAX_JOB_FILE_BYTES:
        raise bridge.error()(f"{path}: {path.stat().st_size / 2**20:.0f} MB is too large for a job file "
                         f"(at most {MAX_JOB_FILE_BYTES // 2**20} MB)")
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise bridge.error()(f"{path.name} line {line}: not UTF-8 text (byte 0x{data[e.start]:02x}); "
                         "save the file as UTF-8") from None


def _csv_records(path: Path, lines: list[str]) -> list[tuple[int, list[str]]]:
    """``(line number, fields)`` of each CSV record; a quoted field running over lines is refused.

    Job files hold one job per line, so a record that spans lines is an unterminated quote
    (which would otherwise swallow the rows after it into one job).
    """
    reader = csv.reader(lines, strict=True)
    out = []
    start = 1
    try:
        for values in reader:
            if reader.line_num != start:
                raise bridge.error()(f"{path.name} line {start}: unterminated quote (the quoted field runs on to line "
                                 f"{reader.line_num}); close the quote or remove it")
            out.append((start, values))
            start = reader.line_num + 1
    except csv.Error as e:
        raise bridge.error()(f"{path.name} line {start}: not valid CSV ({e}); check the quotes on that line") from None
    return out


def image_problem(path) -> str | None:
    """Why ``path`` cannot be an image job (missing, not an image, too many pixels), read from its header only."""
    try:
        bridge.runtime("imageio").check_image(path)
    except bridge.error() as e:
        return str(e)
    return None


def image_folder(path) -> list[tuple[str, int, str, str]]:
    """Image rows ``(path, None, stem, image)`` for every image file directly in folder ``path``, in name order."""
    files = sorted(p for p in Path(path).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise bridge.error()(f"{path}: no image files in this folder ({', '.join(IMAGE_EXTENSIONS)})")
    problems = [x for x in map(image_problem, files) if x]
    if problems:  # every unusable image named at once, before anything renders
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise bridge.error()(f"{path}: " + "; ".join(problems[:5]) + more)
    return [(str(p), None, p.stem, IMAGE) for p in files]


def read_job_file(path, default_seed: int) -> list[tuple[str, int, str, str]]:
    """Rows ``(text, seed, name, kind)`` of a job file or an image folder (``name`` may be empty)."""
    path = Path(path)
    if path.is_dir():
        return [(p, default_seed, n, k) for p, _, n, k in image_folder(path)]
    if not path.is_file():
        raise bridge.error()(f"job file not found: {path}")
    text = _read_text(path)
    problems: list[str] = []
    rows: list[tuple[str, int, str, str]] = []
    if path.suffix.lower() == ".csv":
        lines = text.splitlines()
        records = _csv_records(path, lines)
        header = records[0][1] if records else []
        cols = [c.strip().lower() for c in header]
        if not {GLOSS, SENTENCE, IMAGE} & set(cols):
            raise bridge.error()(f"{path}: a CSV job file needs a header with a 'gloss', 'sentence' or 'image' column "
                             f"(optional 'seed' and 'name'); found {cols or 'no header'}")
        for n, values in records[1:]:
            if not any(v.strip() for v in values):
                continue  # blank row
            if len(values) > len(cols):
                problems.append(f"{path.name} line {n}: {len(values)} fields but the header has {len(cols)} "
                                "(a comma inside a gloss needs quotes)")
                continue
            row = {k: v.strip() for k, v in zip(cols, values) if k}
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
                problem = image_problem(image)
                if problem:
                    problems.append(f"{where}: {problem}")
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
        raise bridge.error()("; ".join(problems))
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
        else:
            problem = image_problem(im)
            if problem:
                raise bridge.error()(f"--image: {problem}")
            rows.append((str(im), seed, Path(im).stem, IMAGE))
    missing = [str(m) for m in motions if not Path(m).is_file()]
    if missing:
        raise bridge.error()(f"motion files not found: {', '.join(missing)}")
    rows.extend((str(m), seed, Path(m).stem, MOTION) for m in motions)
    jobs: list[RenderJob] = []
    too_long = [f"a job of {len(text)} characters (starts {text[:30]!r}...)" for text, _, _, kind in rows
                if kind not in (MOTION, IMAGE) and len(text) > MAX_TEXT_CHARS]
    if too_long:
        raise bridge.error()(f"at most {MAX_TEXT_CHARS} characters per gloss or sentence: " + "; ".join(too_long[:3]))
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
        raise bridge.error()("duplicate output names: " + "; ".join(clashes) +
                               ". Give different seeds or a 'name' column in a CSV job file")
    if not jobs:
        raise bridge.error()("nothing to render: give glosses, --sentence TEXT, --input FILE, --image FILE|DIR or "
                         "--motion NPZ")
    return jobs


def parse_shard(text: str | None) -> tuple[int, int]:
    """``"k/n"`` -> ``(k, n)`` with 1 <= k <= n; ``None`` -> ``(1, 1)``."""
    if not text:
        return 1, 1
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not (1 <= int(m.group(1)) <= int(m.group(2))):
        raise bridge.error()(f"--shard must be k/n with 1 <= k <= n (e.g. 2/4), got {text!r}")
    return int(m.group(1)), int(m.group(2))


def shard(jobs: list[RenderJob], k: int, n: int) -> list[RenderJob]:
    """Every n-th job starting with the k-th (1-based): shards are disjoint and cover all jobs."""
    return jobs[k - 1::n]
