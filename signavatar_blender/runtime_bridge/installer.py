"""Running the extension's ``install_deps.py --target DIR`` as a child process, as a job's work.

The installer prints machine-readable lines among pip's own (:func:`parse_line`)::

    SIGNAVATAR-PROGRESS <step> <total> <message>
    SIGNAVATAR-DONE ok | SIGNAVATAR-DONE error <message>

:func:`run` is the work function's body: it reads the child's output on the worker thread,
turns progress lines into ``job.report`` and the rest into ``job.log`` (and the log file),
and registers the child's termination with ``job.on_cancel`` so ``Esc`` stops pip at once.
``job`` is an ``ops.jobs.Job`` (anything with ``report``, ``log``, ``check`` and ``on_cancel``).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from . import EXTENSION_ROOT, error

INSTALLER = EXTENSION_ROOT / "install_deps.py"

LOG_LINE_CHARS = 200  # a log line shown in the preferences is cut here


@dataclass(frozen=True)
class Progress:
    step: int
    total: int
    message: str


@dataclass(frozen=True)
class Done:
    ok: bool
    message: str = ""


def parse_line(line: str):
    """A :class:`Progress`, a :class:`Done`, or None for any other (log) line."""
    parts = line.strip().split(" ", 3)
    if parts[0] == "SIGNAVATAR-PROGRESS" and len(parts) >= 3:
        try:
            return Progress(int(parts[1]), int(parts[2]), parts[3] if len(parts) > 3 else "")
        except ValueError:
            return None
    if parts[0] == "SIGNAVATAR-DONE" and len(parts) >= 2:
        if parts[1] == "ok":
            return Done(True)
        return Done(False, line.strip().split(" ", 2)[2] if len(parts) > 2 else "unknown error")
    return None


def installer_command(target: Path) -> list[str]:
    """The installer run with Blender's own Python interpreter."""
    return [sys.executable, str(INSTALLER), "--target", str(target)]


def _terminate(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def run(command: list[str], job, log_path: Path | None = None) -> str:
    """Run ``command`` to its end; the success message, else ``SignAvatarError`` with the reason and the log.

    ``job.check()`` after the child ends raises ``Cancelled`` when the user pressed Esc."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                            stdin=subprocess.DEVNULL)
    job.on_cancel(lambda: _terminate(proc))
    done = None
    with open(log_path, "w", encoding="utf-8") if log_path else contextlib.nullcontext() as log:
        for raw in proc.stdout:
            if log:
                log.write(raw)
                log.flush()
            line = raw.rstrip("\n")
            event = parse_line(line)
            if isinstance(event, Progress):
                job.report(min(1.0, max(0.0, (event.step - 1) / max(event.total, 1))),
                           f"Step {event.step}/{event.total}: {event.message}")
            elif isinstance(event, Done):
                done = event
            elif line.strip():
                job.log(line.strip()[:LOG_LINE_CHARS])
    code = proc.wait()
    job.check()
    if done is not None and done.ok:
        return "Dependencies installed"
    reason = done.message if done is not None else f"installer exited with code {code}"
    where = f" (log: {log_path})" if log_path else ""
    raise error()(f"Installing dependencies failed: {reason}{where}")
