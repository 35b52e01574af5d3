"""Ctrl+C during a long Blender render stops the batch within a frame, not after the clip.

``bpy.ops.render.render(animation=True)`` runs the whole clip in C; Python's SIGINT
handler only runs when Python code runs, and an exception raised inside a Blender handler is
printed and swallowed. So while Blender renders, :func:`during_blender_call` installs a SIGINT
handler plus a no-op frame handler (the point at which Python gets control, once a frame).
On Ctrl+C the handler runs the registered clean-ups (temporary files of the clip, the batch
summary), prints ``interrupted`` and ends the process with exit code 130. Nothing half-written
survives: outputs are renamed into place only when complete (:mod:`.outputs`) and the clip's
record was removed before it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

from .exit_codes import EXIT_INTERRUPTED

_cleanups: list = []


@contextlib.contextmanager
def cleanup(fn):
    """Run ``fn()`` if the process is interrupted inside this block."""
    _cleanups.append(fn)
    try:
        yield
    finally:
        _cleanups.remove(fn)


def abort(signum=None, frame=None) -> None:
    """Run the clean-ups (newest first), say so and exit with 130 without returning to Blender."""
    for fn in reversed(list(_cleanups)):
        try:
            fn()
        except Exception as e:  # a clean-up that fails must not keep the process alive
            print(f"warning: clean-up after interrupt failed: {e}", file=sys.stderr)
    print("interrupted", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(EXIT_INTERRUPTED)


def _tick(*_args) -> None:
    """Frame handler: running any Python lets a pending SIGINT handler run."""


@contextlib.contextmanager
def during_blender_call():
    """Make Ctrl+C effective within a frame while Blender renders (main thread only)."""
    import bpy

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, abort)
    lists = (bpy.app.handlers.frame_change_pre, bpy.app.handlers.render_post)
    for handlers in lists:
        handlers.append(_tick)
    try:
        yield
    finally:
        for handlers in lists:
            if _tick in handlers:
                handlers.remove(_tick)
        signal.signal(signal.SIGINT, previous)
