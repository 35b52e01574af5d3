"""What happened to each job: per-clip records (the resume markers), the batch summary, progress.

Stdlib only; files are written through the one atomic-write helper (:func:`..runtime_bridge.atomic`).
Each finished clip gets ``<name>.json`` beside its outputs, written last and atomically, holding
the settings that shaped it; a later run with the same settings skips the clip when that record
says ``rendered`` and its files are still as recorded: same sizes, complete MP4s with the
recorded frame count (resume). The record is removed before a clip is rendered again, so an
interrupted render never leaves a record that vouches for it. The batch summary
(``summary.csv`` and ``summary.json``, or ``summary-k-of-n.*`` for a shard) lists every job of
the run: rendered, skipped or failed, and why.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..runtime_bridge import atomic
from .outputs import still_matches

RENDERED, SKIPPED, FAILED = "rendered", "skipped", "failed"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2  # a batch's exit status (130, interrupted: .interrupt)
SUMMARY_COLUMNS = ("name", "text", "kind", "seed", "status", "reason", "gloss", "frames", "seconds", "files")


@dataclass
class JobResult:
    name: str
    text: str
    kind: str  # "gloss" or "sentence"
    seed: int
    status: str  # rendered / skipped / failed
    reason: str = ""  # why skipped or failed; notices (matches, fingerspelling) when rendered
    gloss: str = ""  # what was signed (matched gloss, or the sentence's glosses)
    frames: int = 0
    seconds: float = 0.0
    files: list[str] = field(default_factory=list)  # relative to the output folder
    settings: dict = field(default_factory=dict)
    checks: dict = field(default_factory=dict)  # per file: bytes / frames / files, as written (see outputs.py)


def record_path(out_dir: Path, name: str) -> Path:
    return Path(out_dir) / f"{name}.json"


def invalidate(out_dir: Path, name: str) -> None:
    """Remove ``<name>.json`` before a clip's outputs are touched: an interrupted render leaves no record."""
    record_path(out_dir, name).unlink(missing_ok=True)


def write_record(out_dir: Path, result: JobResult) -> Path:
    """Write ``<name>.json`` atomically."""
    return atomic().write_json(record_path(out_dir, result.name), asdict(result), indent=1)


def finished(out_dir: Path, name: str, settings: dict) -> JobResult | None:
    """The earlier result of ``name`` if it was rendered with ``settings`` and its files exist."""
    path = record_path(out_dir, name)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if data.get("status") != RENDERED or data.get("settings") != settings:
        return None
    files = data.get("files") or []
    checks = data.get("checks") or {}
    if not files or set(checks) != set(files) or not still_matches(Path(out_dir), checks):
        return None  # a file gone, truncated or replaced since: render again
    known = {k: data[k] for k in JobResult.__dataclass_fields__ if k in data}
    if not isinstance(known.get("seed"), int) or not all(isinstance(known.get(k), str) for k in ("name", "text")):
        return None
    return JobResult(**known)


def summary_stem(shard: tuple[int, int]) -> str:
    k, n = shard
    return "summary" if n == 1 else f"summary-{k}-of-{n}"


def write_summary(out_dir: Path, results: list[JobResult], shard: tuple[int, int], meta: dict) -> tuple[Path, Path]:
    """``summary.csv`` (one row per job) and ``summary.json`` (the same plus counts and settings)."""
    out_dir = Path(out_dir)
    stem = summary_stem(shard)
    csv_path, json_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.json"
    rows = [dict(zip(SUMMARY_COLUMNS, (r.name, r.text, r.kind, r.seed, r.status, r.reason, r.gloss, r.frames,
                                        f"{r.seconds:.2f}", ";".join(r.files)))) for r in results]
    atomic().write_csv(csv_path, SUMMARY_COLUMNS, rows)
    counts = {s: sum(r.status == s for r in results) for s in (RENDERED, SKIPPED, FAILED)}
    doc = {"counts": counts, "shard": f"{shard[0]}/{shard[1]}", **meta,
           "jobs": [{k: v for k, v in asdict(r).items() if k != "settings"} for r in results]}
    atomic().write_json(json_path, doc, indent=1)
    return csv_path, json_path


class Progress:
    """One line per finished job with throughput and ETA (log-friendly for render farms)."""

    def __init__(self, total: int, stream=None):
        self.total = total
        self.done = 0
        self.work_seconds = 0.0  # time spent on jobs that did work (rendered or failed)
        self.worked = 0
        self.first_seconds = 0.0
        self.start = time.monotonic()
        self.stream = stream or sys.stderr

    def eta_seconds(self) -> float | None:
        """Remaining jobs times the mean job time (leaving out the first job, which also set up Blender)."""
        if self.worked == 0:
            return None
        if self.worked == 1:
            per_job = self.first_seconds
        else:
            per_job = (self.work_seconds - self.first_seconds) / (self.worked - 1)
        return (self.total - self.done) * per_job

    def update(self, result: JobResult) -> str:
        self.done += 1
        if result.status != SKIPPED:
            if self.worked == 0:
                self.first_seconds = result.seconds
            self.worked += 1
            self.work_seconds += result.seconds
        elapsed = time.monotonic() - self.start
        rate = self.worked / elapsed * 60 if elapsed > 0 and self.worked else 0.0
        eta = self.eta_seconds()
        width = len(str(self.total))
        what = {RENDERED: f"rendered in {result.seconds:.1f} s", SKIPPED: f"skipped ({result.reason})",
                FAILED: f"FAILED: {result.reason}"}[result.status]
        line = (f"[{self.done:{width}d}/{self.total}] {result.name}: {what} | {rate:.1f} clips/min | "
                f"ETA {format_duration(eta) if eta is not None else '?'}")
        print(line, file=self.stream, flush=True)
        return line


def format_duration(seconds: float) -> str:
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
