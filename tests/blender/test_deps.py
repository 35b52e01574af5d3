"""Dependency installer plumbing and background jobs (no network: the installer is stood in for)."""

from __future__ import annotations

import sys
import time

import pytest

from conftest import sub


def test_installer_lines_are_parsed(addon):
    deps = sub("signavatar_blender.runtime_bridge.deps")
    assert deps.parse_line("SIGNAVATAR-PROGRESS 2 9 vision + CLIP") == deps.Progress(2, 9, "vision + CLIP")
    assert deps.parse_line("SIGNAVATAR-DONE ok") == deps.Done(True)
    assert deps.parse_line("SIGNAVATAR-DONE error pip failed (1): torch") == deps.Done(False, "pip failed (1): torch")
    assert deps.parse_line("Collecting torch==2.13.0") is None
    assert deps.parse_line("SIGNAVATAR-PROGRESS x y") is None


def test_install_process_streams_progress_and_log(addon, tmp_path):
    deps = sub("signavatar_blender.runtime_bridge.deps")
    script = ("import time\n"
              "for i in (1, 2, 3):\n"
              "    print(f'SIGNAVATAR-PROGRESS {i} 3 step {i}', flush=True); print('pip says hi', flush=True)\n"
              "    time.sleep(0.05)\n"
              "print('SIGNAVATAR-DONE ok', flush=True)\n")
    proc = deps.InstallProcess([sys.executable, "-c", script], log_path=tmp_path / "install.log")
    proc.start()
    lines, t0 = [], time.time()
    while None not in lines and time.time() - t0 < 30:
        lines += proc.drain()
        time.sleep(0.02)
    events = [deps.parse_line(x) for x in lines if x is not None]
    assert [e.step for e in events if isinstance(e, deps.Progress)] == [1, 2, 3]
    assert events[-1] == deps.Done(True)
    assert "pip says hi" in (tmp_path / "install.log").read_text()


def test_install_process_can_be_cancelled(addon):
    deps = sub("signavatar_blender.runtime_bridge.deps")
    proc = deps.InstallProcess([sys.executable, "-c", "import time; print('started', flush=True); time.sleep(60)"])
    proc.start()
    t0 = time.time()
    while "started" not in proc.drain() and time.time() - t0 < 30:
        time.sleep(0.02)
    proc.cancel()
    assert proc.returncode() is not None and time.time() - t0 < 30


def test_install_is_refused_while_offline_with_the_reason(addon):
    import bpy

    assert not bpy.app.online_access  # the bpy module starts offline
    assert not bpy.ops.signavatar.install_dependencies.poll()
    with pytest.raises(RuntimeError, match="Allow Online Access"):
        bpy.ops.signavatar.install_dependencies()


def test_dependency_folder_is_the_add_ons_own_and_joins_sys_path_only_on_demand(addon):
    deps = sub("signavatar_blender.runtime_bridge.deps")
    folder = deps.deps_dir(create=True)
    assert folder.is_dir() and "extensions" in str(folder) and "signavatar" in str(folder)
    assert str(folder) not in sys.path  # registering did not touch sys.path
    deps.activate()
    assert sys.path[-1] == str(folder)
    sys.path.remove(str(folder))


def test_jobs_report_progress_and_cancel(addon):
    jobs = sub("signavatar_blender.ops.jobs")

    def work(job):
        for i in range(3):
            job.report(i / 3, f"step {i}")
            time.sleep(0.01)
        return "result"

    job = jobs.Job(work)
    job.start()
    events, t0 = [], time.time()
    while not any(e[0] == "done" for e in events) and time.time() - t0 < 10:
        events += job.drain()
        time.sleep(0.01)
    assert [e[2] for e in events if e[0] == "progress"] == ["step 0", "step 1", "step 2"]
    assert events[-1] == ("done", "result")

    def slow(job):
        while True:
            job.check()
            time.sleep(0.01)

    job = jobs.Job(slow)
    job.start()
    job.cancel()
    t0 = time.time()
    while not (events := job.drain()) and time.time() - t0 < 10:
        time.sleep(0.01)
    assert events[0][0] == "error" and isinstance(events[0][1], jobs.Cancelled)
    assert jobs.describe_failure(events[0][1]) == ("WARNING", "Cancelled")


def test_buttons_pressed_without_a_window_run_in_place(addon, tmp_path):
    """INVOKE_DEFAULT from a background script does the work at once instead of waiting for timer events."""
    import bpy

    with pytest.raises(RuntimeError, match="type a sign.*; no target armature"):  # every problem, one message
        bpy.ops.signavatar.generate("INVOKE_DEFAULT")
    bpy.ops.signavatar.create_avatar(body="neutral")
    out = tmp_path / "rest.npz"
    bpy.context.scene.frame_start, bpy.context.scene.frame_end = 1, 3
    assert bpy.ops.signavatar.export_npz("EXEC_DEFAULT", filepath=str(out)) == {"FINISHED"}
    assert out.is_file()
