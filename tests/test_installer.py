"""The dependency installer runs as a job like any other (no Blender, no network: the installer is stood in for)."""

from __future__ import annotations

import sys
import time

import pytest

from model_runtime.errors import SignAvatarError
from signavatar_blender.ops.jobs import Cancelled, Job, describe_failure
from signavatar_blender.runtime_bridge import installer

FAKE = ("import time\n"
        "for i in (1, 2, 3):\n"
        "    print(f'SIGNAVATAR-PROGRESS {i} 3 step {i}', flush=True); print('pip says hi', flush=True)\n"
        "    time.sleep(0.05)\n"
        "print(LAST, flush=True)\n")


def _events_until_end(job, timeout=30.0):
    events, t0 = [], time.time()
    while not any(e[0] in ("done", "error") for e in events) and time.time() - t0 < timeout:
        events += job.drain()
        time.sleep(0.02)
    return events


def test_installer_lines_are_parsed():
    assert installer.parse_line("SIGNAVATAR-PROGRESS 2 9 vision + CLIP") == installer.Progress(2, 9, "vision + CLIP")
    assert installer.parse_line("SIGNAVATAR-DONE ok") == installer.Done(True)
    assert installer.parse_line("SIGNAVATAR-DONE error pip failed (1): torch") == installer.Done(
        False, "pip failed (1): torch")
    assert installer.parse_line("Collecting torch==2.13.0") is None
    assert installer.parse_line("SIGNAVATAR-PROGRESS x y") is None


def test_installer_job_streams_progress_log_lines_and_the_log_file(tmp_path):
    command = [sys.executable, "-c", FAKE.replace("LAST", repr("SIGNAVATAR-DONE ok"))]
    job = Job(lambda job: installer.run(command, job, log_path=tmp_path / "install.log"))
    job.start()
    events = _events_until_end(job)
    assert [e[2] for e in events if e[0] == "progress"] == ["Step 1/3: step 1", "Step 2/3: step 2", "Step 3/3: step 3"]
    assert [e[1] for e in events if e[0] == "progress"] == pytest.approx([0.0, 1 / 3, 2 / 3])
    assert [e[1] for e in events if e[0] == "log"] == ["pip says hi"] * 3
    assert events[-1] == ("done", "Dependencies installed")
    assert (tmp_path / "install.log").read_text().count("pip says hi") == 3


def test_a_failed_install_is_one_project_error_naming_the_reason_and_the_log(tmp_path):
    command = [sys.executable, "-c", FAKE.replace("LAST", repr("SIGNAVATAR-DONE error pip failed (1): torch"))]
    with pytest.raises(SignAvatarError, match=r"failed: pip failed \(1\): torch \(log: .*install.log\)"):
        Job(lambda job: installer.run(command, job, log_path=tmp_path / "install.log")).run_here()
    with pytest.raises(SignAvatarError, match="installer exited with code 3"):
        Job(lambda job: installer.run([sys.executable, "-c", "raise SystemExit(3)"], job)).run_here()


def test_cancelling_the_installer_job_stops_the_child_at_once():
    command = [sys.executable, "-c", "import time; print('started', flush=True); time.sleep(60)"]
    job = Job(lambda job: installer.run(command, job))
    job.start()
    t0 = time.time()
    while not any(e[0] == "log" for e in job.drain()) and time.time() - t0 < 30:
        time.sleep(0.02)
    job.cancel()
    events = _events_until_end(job, timeout=10)
    assert events and events[-1][0] == "error" and isinstance(events[-1][1], Cancelled)
    assert describe_failure(events[-1][1]) == ("WARNING", "Cancelled")
    assert time.time() - t0 < 20  # not the child's 60 s
