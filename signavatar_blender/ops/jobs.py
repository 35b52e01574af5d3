"""The one way to run long work: a worker thread, a queue, and a modal-operator base.

The worker runs a plain function ``work(job)`` that must not touch Blender data; it calls
``job.report(fraction, message)`` for progress, ``job.log(line)`` for a line of output worth
showing, ``job.check()`` to stop when cancelled, and ``job.on_cancel(fn)`` for what must
happen the moment the user cancels (e.g. terminating a child process). Everything it
produces comes back through a :class:`queue.Queue`; the operator drains it on ``TIMER``
events and applies the result on the main thread (``finish``). Signs, images, videos and
the dependency installer all run this way.

:class:`ModalJobOperator` gives an operator three faces with one code path:

* ``invoke`` (a button): modal, a timer, Blender's progress indicator plus a bar in the
  panel, ``Esc`` cancels;
* ``execute`` (scripts, tests, redo): the same work, run to completion in place;
* ``prepare(context)`` validates inputs up front and returns the work function, so a bad
  input is refused before anything starts and the scene stays as it was.

The project's ``SignAvatarError`` is reported once with ``self.report({'ERROR'}, ...)``;
a missing Python package is reported with the fix; anything else is a bug and is reported
with its traceback printed to the console.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback

from .. import runtime_bridge as bridge


class Cancelled(Exception):
    """Raised inside work when the user pressed Esc."""


class Job:
    def __init__(self, work):
        self._work = work
        self._events: queue.Queue = queue.Queue()
        self._cancel = threading.Event()
        self._on_cancel: list = []
        self._thread: threading.Thread | None = None

    def report(self, fraction: float, message: str) -> None:
        self._events.put(("progress", float(fraction), str(message)))

    def log(self, line: str) -> None:
        self._events.put(("log", str(line)))

    def on_cancel(self, fn) -> None:
        """Call ``fn()`` when the job is cancelled (at once if it already is)."""
        self._on_cancel.append(fn)
        if self._cancel.is_set():
            fn()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def cancel(self) -> None:
        self._cancel.set()
        for fn in list(self._on_cancel):
            fn()

    def _run(self) -> None:
        try:
            result = self._work(self)
        except BaseException as e:  # handed to the main thread, which decides how to report it
            self._events.put(("error", e, traceback.format_exc()))
        else:
            self._events.put(("done", result))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="signavatar-job", daemon=True)
        self._thread.start()

    def run_here(self):
        """Run to completion on the calling thread (``execute``); exceptions propagate."""
        return self._work(self)

    def drain(self) -> list:
        out = []
        while True:
            try:
                out.append(self._events.get_nowait())
            except queue.Empty:
                return out


def describe_failure(exc: BaseException, tb: str = "") -> tuple[str, str]:
    """(report type, message) for an exception raised by work or finish."""
    if isinstance(exc, bridge.error()):
        return "ERROR", str(exc)
    if isinstance(exc, Cancelled):
        return "WARNING", "Cancelled"
    if isinstance(exc, OSError):  # a file that cannot be read or written: the user's to fix, not a bug
        where = f" {exc.filename}" if exc.filename else ""
        return "ERROR", f"Could not access{where}: {exc.strerror or exc}"
    if isinstance(exc, ModuleNotFoundError):
        return "ERROR", (f"Python package '{exc.name}' is missing: open Preferences > Add-ons > SignAvatar and "
                         "press 'Install Dependencies'")
    print(tb or "".join(traceback.format_exception(exc)))
    return "ERROR", f"Unexpected error ({type(exc).__name__}: {exc}); details are in the system console"


def reported(op, action) -> set:
    """``action()`` (an operator's result set) with any failure reported once on ``op``, by kind
    (:func:`describe_failure`): the one catch rule of operators that do not run as jobs."""
    try:
        return action()
    except Exception as e:  # noqa: BLE001 - reported once, by kind
        kind, message = describe_failure(e)
        op.report({kind}, message)
        return {"CANCELLED"}


class ModalJobOperator:
    """Mixin for operators whose work may take long (see the module docstring).

    Subclasses implement ``prepare(context) -> work`` (raise ``SignAvatarError`` for bad
    input) and ``finish(context, result) -> set`` (main thread, may touch Blender data).
    """

    _job: Job | None = None
    _timer = None
    task_label = "Working"

    @classmethod
    def unavailable(cls, context) -> str:
        """Why the operator cannot run now ("" when it can): shown as the greyed-out button's tooltip."""
        return ""

    @classmethod
    def poll(cls, context):
        why = cls.unavailable(context)
        if why:
            cls.poll_message_set(why)
            return False
        return True

    def _state(self, context):
        return context.window_manager.signavatar

    # hooks (main thread): what an operator shows besides the shared progress bar
    def on_progress(self, context, fraction: float, message: str) -> None:
        """A progress report of the work."""

    def on_log(self, context, line: str) -> None:
        """A line of output of the work."""

    def failed(self, context, exc) -> None:
        """The work or ``finish`` failed with ``exc``; called before it is reported."""

    def cancelled(self, context) -> None:
        """The user pressed Esc (the job's ``on_cancel`` callbacks have run)."""

    def _fail(self, context, exc, tb="") -> set:
        self.failed(context, exc)
        kind, message = describe_failure(exc, tb)
        self.report({kind}, message)
        return {"CANCELLED"}

    def _deliver(self, context, events) -> None:
        for ev in events:
            if ev[0] == "progress":
                self.on_progress(context, ev[1], ev[2])
            elif ev[0] == "log":
                self.on_log(context, ev[1])

    def execute(self, context):
        try:
            job = Job(self.prepare(context))
            try:
                result = job.run_here()
            finally:  # progress and log lines, also of work that failed
                self._deliver(context, job.drain())
            return self.finish(context, result)
        except Exception as e:  # noqa: BLE001 - reported once, by kind
            return self._fail(context, e)

    def invoke(self, context, event):
        if context.window is None:  # no UI (background Blender): run in place
            return self.execute(context)
        state = self._state(context)
        if state.busy:
            self.report({"WARNING"}, f"SignAvatar is busy ({state.task}); wait or press Esc")
            return {"CANCELLED"}
        try:
            work = self.prepare(context)
        except Exception as e:  # noqa: BLE001
            return self._fail(context, e)
        self._job = Job(work)
        self._job.start()
        state.busy, state.task, state.progress, state.started = True, self.task_label, 0.0, time.time()
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.1, window=context.window)
        wm.progress_begin(0, 1000)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def _stop(self, context) -> None:
        wm = context.window_manager
        if self._timer is not None:
            wm.event_timer_remove(self._timer)
            self._timer = None
        wm.progress_end()
        state = self._state(context)
        state.busy, state.progress, state.task = False, 0.0, ""
        for area in context.screen.areas if context.screen else ():
            area.tag_redraw()

    def modal(self, context, event):
        if event.type == "ESC" and event.value == "PRESS":
            self._job.cancel()
            self._stop(context)
            self.cancelled(context)
            self.report({"WARNING"}, f"{self.task_label}: cancelled")
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        state = self._state(context)
        for ev in self._job.drain():
            if ev[0] == "progress":
                state.progress, state.task = ev[1], ev[2] or self.task_label
                context.window_manager.progress_update(int(1000 * max(0.0, min(1.0, ev[1]))))
            self._deliver(context, [ev])
            if ev[0] == "error":
                self._stop(context)
                return self._fail(context, ev[1], ev[2])
            if ev[0] == "done":
                self._stop(context)
                try:
                    return self.finish(context, ev[1])
                except Exception as e:  # noqa: BLE001
                    return self._fail(context, e)
        for area in context.screen.areas if context.screen else ():
            if area.type in ("VIEW_3D", "PREFERENCES"):
                area.tag_redraw()
        return {"RUNNING_MODAL"}


class FileInputJobOperator(ModalJobOperator):
    """A :class:`ModalJobOperator` that reads one file: the operator's ``filepath`` (a drop or
    the file browser), else the path typed in the panel (``scene.signavatar.<path_prop>``).

    With neither set, ``invoke`` opens the file browser first.
    """

    path_prop = ""  # the scene property holding the panel's path
    extensions: tuple[str, ...] = ()
    kind = "file"  # what the file is, for messages ("image", "video")

    def invoke(self, context, event):
        if not self.filepath and not getattr(context.scene.signavatar, self.path_prop).strip():
            context.window_manager.fileselect_add(self)
            return {"RUNNING_MODAL"}
        return super().invoke(context, event)

    def input_path(self, context, extensions=None):
        """The chosen file as an absolute path, and what is wrong with it (empty when it is usable).

        ``extensions``: the accepted suffixes, when only known at run time (default ``self.extensions``)."""
        import bpy
        from pathlib import Path

        extensions = tuple(extensions or self.extensions)
        raw = self.filepath or getattr(context.scene.signavatar, self.path_prop)
        path = Path(bpy.path.abspath(raw.strip()))
        if not path.is_file():
            return path, [f"{self.kind} not found: {path}"]
        if path.suffix.lower() not in extensions:
            return path, [f"{path.name} is not {'an' if self.kind[0] in 'aeiou' else 'a'} {self.kind} file "
                          f"({', '.join(extensions)})"]
        return path, []
