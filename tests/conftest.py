"""Shared fixtures: where the shared data lives, and the CI rule for it.

Tests that read ``../shared`` use the ``shared`` fixture (or :func:`require_shared`).
When the data is missing they skip on a developer machine but **fail** when ``CI`` is
set, so a CI run can never pass by silently skipping the real-data tests.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

os.environ.setdefault("OMP_NUM_THREADS", "2")


def require_shared(*parts: str) -> Path:
    """Path under ../shared; fail under CI, skip elsewhere, when it is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        msg = f"shared data missing: {path}"
        if os.environ.get("CI"):
            pytest.fail(msg + " (CI must run with ../shared beside the clone)")
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def shared() -> Path:
    return require_shared()


# bpy 4.5 can block the interpreter's exit: its global state destructor waits on a condition variable
# (~GlobalState -> pthread_cond_destroy, seen after the whole suite had passed), so a finished run never
# returns. Once pytest has printed its summary, a process that imported bpy ends at once with pytest's status.
_EXIT_STATUS: dict = {}


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    _EXIT_STATUS["status"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    import os
    import sys

    if "bpy" in sys.modules and "status" in _EXIT_STATUS:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS["status"])
