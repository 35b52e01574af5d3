"""The dependency installer operator, the add-on's dependency folder and background jobs in Blender
(the installer job itself: tests/test_installer.py)."""

from __future__ import annotations

import sys
import time

import pytest

from conftest import sub


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
