"""Landmark extraction split by time over worker processes (one MediaPipe Holistic graph each).

MediaPipe runs each model on one thread, so one process keeps about one core busy; ``n`` workers
each take a stretch of the video (:func:`plan_spans`) and decode it themselves, so nothing but
landmarks crosses between processes and no process holds more than one decoded frame.

Every stretch but the first starts ``warm`` frames early and drops them: Holistic's tracker and its
landmark smoothing carry state from frame to frame, and a pass started inside the video needs a few
frames to reach the state the single pass has there (the landmarks then agree to a small tolerance,
see the tests; the single pass stays exactly what it was).

The workers are child Python processes started once and kept (their start-up, importing MediaPipe,
is then paid once per session); each holds a fresh graph ready for its next stretch. They are started
as ``python -c`` on this package's own folder rather than through :mod:`multiprocessing`, so they also
work inside Blender, where this package is a submodule of the extension that a child cannot import
by that name. Messages are pickles between this process and its own children.
"""

from __future__ import annotations

import atexit
import dataclasses
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from pathlib import Path

from ..errors import SignAvatarError
from .holistic_pass import Span

WARM_FRAMES = 15  # frames each later stretch starts early (see the tests for the agreement it buys)
_ROOT = Path(__file__).resolve().parents[2]  # the folder holding ``model_runtime``
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from model_runtime.landmarks.extract_workers import serve; serve()"


def plan_spans(total: int, n: int, warm: int = WARM_FRAMES) -> list[Span]:
    """Split ``total`` processed frames into at most ``n`` spans that cost each worker the same.

    The first span starts at frame 0 without warm-up; each later one runs ``warm`` extra frames, so
    it keeps ``warm`` fewer; a later span keeps at least ``warm`` frames (shorter videos get fewer
    workers). The last span reads to the end (containers' frame counts can be off).
    """
    if total <= 0 or n <= 1:
        return [Span()]
    while n > 1:
        per = -(-(total + (n - 1) * warm) // n)  # frames each worker runs
        if per - warm >= warm:
            break
        n -= 1
    if n == 1:
        return [Span()]
    spans, first = [Span(0, per, 0)], per
    for k in range(1, n):
        stop = None if k == n - 1 else first + per - warm
        spans.append(Span(first, stop, warm))
        first = stop or 0
    return spans


def _send(stream, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<Q", len(data)) + data)
    stream.flush()


def _recv(stream):
    head = stream.read(8)
    if len(head) < 8:
        raise EOFError
    (n,) = struct.unpack("<Q", head)
    data = stream.read(n)
    if len(data) < n:
        raise EOFError
    return pickle.loads(data)  # noqa: S301 - our own child process


def serve() -> None:
    """The worker's loop: a job ``(path, rotation, step, span, crop)`` in, ``("frame", n)`` per kept frame and
    ``("done", arrays, size)`` or ``("error", message)`` out; ``None`` ends it."""
    from .holistic_pass import new_holistic, run_span

    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not enter the message stream
    inp = sys.stdin.buffer
    model = new_holistic()
    _send(out, ("ready",))
    while True:
        try:
            job = _recv(inp)
        except EOFError:
            return
        if job is None:
            return
        path, rotation, step, span, crop = job
        if crop is not None:  # sent as plain fields: the parent's module path may not exist here (Blender)
            from .people import Crop

            crop = Crop(*crop)
        try:
            arrays, size = run_span(path, rotation, step, span, model=model,
                                    on_frame=lambda k: _send(out, ("frame", k)), crop=crop)
            _send(out, ("done", arrays, size))
        except Exception as e:  # sent back and raised there, with its text
            _send(out, ("error", str(e) if isinstance(e, SignAvatarError) else f"{type(e).__name__}: {e}"))
        model = new_holistic()  # ready for the next job, built while this worker would idle


class _Worker:
    def __init__(self, index: int, inbox: queue.Queue):
        env = dict(os.environ, GLOG_minloglevel="2", OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(
            [str(_ROOT)] + [p for p in sys.path if p]))
        self.proc = subprocess.Popen([sys.executable, "-c", _BOOT, str(_ROOT)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env)
        self.index = index
        self.reader = threading.Thread(target=self._read, args=(inbox,), daemon=True)
        self.reader.start()

    def _read(self, inbox: queue.Queue) -> None:
        while True:
            try:
                msg = _recv(self.proc.stdout)
            except (EOFError, OSError, pickle.UnpicklingError):
                inbox.put((self.index, ("exit",)))
                return
            inbox.put((self.index, msg))

    def send(self, obj) -> None:
        _send(self.proc.stdin, obj)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class WorkerStartError(SignAvatarError):
    """The worker processes could not be started (the caller may read the video in its own process)."""


class Pool:
    """``n`` started workers and the queue their messages arrive on."""

    def __init__(self, n: int):
        self.inbox: queue.Queue = queue.Queue()
        self.workers = []
        try:
            for i in range(n):
                self.workers.append(_Worker(i, self.inbox))
        except OSError as e:
            self.close()
            raise WorkerStartError(f"cannot start a landmark worker process with {sys.executable} ({e})") from None
        waiting = set(range(n))
        while waiting:
            i, msg = self.inbox.get()
            if msg[0] != "ready":
                self.close()
                raise WorkerStartError("a landmark worker process could not start (see the console for its error)")
            waiting.discard(i)

    def close(self) -> None:
        for w in self.workers:
            w.stop()


_pool: Pool | None = None
_lock = threading.Lock()


def _get_pool(n: int) -> Pool:
    global _pool
    if _pool is not None and (len(_pool.workers) < n or any(w.proc.poll() is not None for w in _pool.workers)):
        shutdown()
    if _pool is None:
        _pool = Pool(n)
    return _pool


def shutdown() -> None:
    """Stop the kept workers (they start again when next needed)."""
    global _pool
    if _pool is not None:
        _pool.close()
        _pool = None


atexit.register(shutdown)


def running(n: int = 2) -> bool:
    """Whether ``n`` kept workers are alive (a split then costs no start-up)."""
    return _pool is not None and len(_pool.workers) >= n and all(w.proc.poll() is None for w in _pool.workers)


def start(n: int) -> None:
    """Start ``n`` kept workers now (benchmarks; ``run_spans`` starts them when first needed)."""
    with _lock:
        _get_pool(n)


def worker_pids() -> list[int]:
    """Process ids of the kept workers (benchmarks read their CPU time and memory)."""
    return [w.proc.pid for w in _pool.workers] if _pool is not None else []


def run_spans(path, rotation: int, step: int, spans: list[Span], on_frame=None,
              crop=None) -> list[tuple[dict, tuple | None]]:
    """:func:`.holistic_pass.run_span` of every span, one worker each: ``[(arrays, size), ...]`` in order.
    ``crop``: the part of each frame read (:class:`.people.Crop`, or None for the whole frame).

    ``on_frame(n)``: called in this process with the frames kept so far over all spans, once per
    frame; an exception it raises stops every worker (they are restarted next time) and propagates.
    """
    with _lock:
        pool = _get_pool(len(spans))
        for w, span in zip(pool.workers, spans):
            w.send((str(path), rotation, step, span, None if crop is None else dataclasses.astuple(crop)))
        results: dict[int, tuple] = {}
        counts = [0] * len(spans)
        reported = 0
        try:
            while len(results) < len(spans):
                i, msg = pool.inbox.get()
                if msg[0] == "frame":
                    counts[i] = msg[1]
                    while on_frame is not None and reported < sum(counts):
                        reported += 1
                        on_frame(reported)
                elif msg[0] == "done":
                    results[i] = (msg[1], msg[2])
                elif msg[0] == "error":
                    raise SignAvatarError(msg[1])
                else:
                    raise SignAvatarError(f"a landmark worker process stopped unexpectedly (exit code "
                                          f"{pool.workers[i].proc.poll()}); the video can be read with workers=1")
        except BaseException:
            shutdown()  # workers mid-job cannot be reused
            raise
        return [results[i] for i in range(len(spans))]
