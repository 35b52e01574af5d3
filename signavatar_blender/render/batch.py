"""The batch loop: shard, resume, generate, render, record, summarise.

One failing job never stops the batch: a ``SignAvatarError`` (unknown gloss, bad motion
file) is recorded with its message, anything else with its type and message (traceback
on stderr). The exit code says whether anything failed.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

from .. import mr
from . import interrupt
from .exit_codes import EXIT_FAILED, EXIT_OK
from .jobs import IMAGE, MOTION, SENTENCE, RenderJob, shard
from .outputs import describe
from .records import (FAILED, RENDERED, SKIPPED, JobResult, Progress, finished, invalidate, write_record,
                      write_summary)
from .settings import RenderSettings


class MotionSource:
    """Motions for jobs: the generator or motion library (loaded once, on first need), or a motion file."""

    def __init__(self, settings: RenderSettings):
        self.settings = settings
        self._generator = None
        self._load_error: Exception | None = None

    def generator(self):
        if self._load_error is not None:
            raise self._load_error
        if self._generator is None:
            try:
                if self.settings.library:
                    self._generator = mr.runtime("sentence").MotionLibrary.open(self.settings.library)
                else:
                    self._generator = mr.runtime("generation").Generator.load(self.settings.model)
            except mr.error() as e:
                what = "motion library" if self.settings.library else "model"
                self._load_error = mr.error()(f"cannot load the {what}: {e}")
                raise self._load_error from None
        return self._generator

    def motion(self, job: RenderJob):
        """``(motion, what was signed, notices, word spans)`` for ``job``.

        ``spans``: ``(label, first, last)`` 0-based motion frames of each word of a sentence.
        """
        s = self.settings
        notices: list[str] = []
        spans: list[tuple[str, int, int]] = []
        if job.kind == MOTION:
            motion = mr.runtime("motion").SignMotion.load(job.text)
            what = motion.gloss or Path(job.text).stem
        elif job.kind == SENTENCE:
            res = mr.runtime("sentence").generate_sentence(job.text, generator=self.generator(), seed=job.seed,
                                                           hold=s.hold, speed=s.speed, temperature=s.temperature)
            motion, what, notices = res.motion, " ".join(res.glosses), list(res.notices)
            spans = [(r.gloss, r.start, r.end - 1) for r in res.ranges]
        elif job.kind == IMAGE:
            if s.library:
                raise mr.error()("images need the model (they are read by it): drop --library for image jobs")
            gen = self.generator()
            match = gen.match_image(job.text)
            summary = getattr(match, "summary", f"CLIP similarity {match.score:.2f} \u2192 {match.gloss}")
            notices.append(f"{Path(job.text).name}: {summary}")
            notices.extend(getattr(match, "notes", ()))
            motion = gen.generate(match.gloss, seed=job.seed, n=1, temperature=s.temperature)[0]
            what = match.gloss
        else:
            gen = self.generator()
            match = gen.match(job.text)
            if not match.exact:
                notices.append(f"'{job.text}' shown as {match.gloss} (similarity {match.score:.2f})")
            motion = gen.generate(match.gloss, seed=job.seed, n=1, temperature=s.temperature)[0]
            what = match.gloss
        if s.fps is not None and abs(motion.fps - s.fps) > 1e-6:
            k = s.fps / motion.fps
            spans = [(g, round(a * k), round(b * k)) for g, a, b in spans]
            motion = motion.resample(s.fps)
        return motion, what, notices, spans


def _shaping(settings: RenderSettings, job: RenderJob) -> dict:
    d = {**settings.shaping(), "text": job.text, "seed": job.seed, "kind": job.kind}
    if job.kind in (MOTION, IMAGE):  # a changed motion or image file is rendered again
        try:
            st = os.stat(job.text)
            d[f"{job.kind}_file"] = [st.st_size, st.st_mtime_ns]
        except OSError:  # gone since the batch started: the job fails when it loads the file
            d[f"{job.kind}_file"] = None
    return d


def render_batch(jobs: list[RenderJob], settings: RenderSettings, stream=None) -> int:
    """Render this shard's jobs into ``settings.out_dir``; returns the exit code (0 ok, 1 some failed)."""
    stream = stream or sys.stderr
    out = Path(settings.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    k, n = settings.shard
    mine = shard(jobs, k, n)
    where = f" (shard {k}/{n} of {len(jobs)})" if n > 1 else ""
    print(f"signavatar render: {len(mine)} clips{where} -> {out}", file=stream, flush=True)
    source = MotionSource(settings)
    renderer = None
    setup_error: Exception | None = None
    results: list[JobResult] = []
    progress = Progress(len(mine), stream)
    started = time.time()

    def meta(interrupted: bool) -> dict:
        return {"settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in settings.shaping().items()},
                "out_dir": str(out), "seconds": round(time.time() - started, 2), "jobs_total": len(jobs),
                "jobs_in_shard": len(mine), "interrupted": interrupted}
    try:
        for job in mine:
            shaping = _shaping(settings, job)
            base = dict(name=job.name, text=job.text, kind=job.kind, seed=job.seed)
            prev = None if settings.force else finished(out, job.name, shaping)
            if prev is not None:
                result = JobResult(**base, status=SKIPPED, reason="already rendered with these settings",
                                   gloss=prev.gloss, frames=prev.frames, files=prev.files)
            else:
                t0 = time.monotonic()
                invalidate(out, job.name)  # before any output is touched: no record vouches for a half render
                try:
                    motion, what, notices, spans = source.motion(job)
                    if renderer is None:
                        if setup_error is not None:  # Blender could not be set up: same reason, no retry
                            raise setup_error
                        from .pipeline import ClipRenderer

                        try:
                            renderer = ClipRenderer(settings)
                        except Exception as e:
                            setup_error = e
                            raise
                    with interrupt.cleanup(lambda: write_summary(out, results, settings.shard,
                                                                 meta(interrupted=True))):
                        files = renderer.render(job.name, motion, what, spans)
                    result = JobResult(**base, status=RENDERED, reason="; ".join(notices), gloss=what,
                                       frames=motion.num_frames, files=files, settings=shaping,
                                       checks=describe(out, files))
                except mr.error() as e:
                    result = JobResult(**base, status=FAILED, reason=str(e), settings=shaping)
                except Exception as e:  # a bug, not the user's input: keep going, say so loudly
                    traceback.print_exc(file=stream)
                    result = JobResult(**base, status=FAILED, reason=f"{type(e).__name__}: {e}", settings=shaping)
                result.seconds = time.monotonic() - t0
                write_record(out, result)
            results.append(result)
            progress.update(result)
    finally:
        csv_path, _ = write_summary(out, results, settings.shard, meta(len(results) < len(mine)))
    counts = {s: sum(r.status == s for r in results) for s in (RENDERED, SKIPPED, FAILED)}
    print(f"done: {counts[RENDERED]} rendered, {counts[SKIPPED]} skipped, {counts[FAILED]} failed "
          f"in {time.time() - started:.1f} s; summary: {csv_path}", file=stream, flush=True)
    return EXIT_FAILED if counts[FAILED] else EXIT_OK
