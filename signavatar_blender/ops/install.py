"""'Install Dependencies': the extension's ``install_deps.py --target`` as a job (:mod:`.jobs`).

The child process is run and read by :mod:`..runtime_bridge.installer` on the job's worker
thread; this operator only says when it can run and shows progress and the last lines of
output in the preferences (``window_manager.signavatar.install_*``).
"""

from __future__ import annotations

import bpy

from .. import runtime_bridge as bridge
from ..runtime_bridge import deps, installer, models
from . import jobs

LOG_LINES = 40


class SIGNAVATAR_OT_install_dependencies(jobs.ModalJobOperator, bpy.types.Operator):
    """Download and install PyTorch, MediaPipe and the other packages SignAvatar needs into the add-on's own
    folder (about 1 GB; Blender's Python is not touched)"""

    bl_idname = "signavatar.install_dependencies"
    bl_label = "Install Dependencies"
    task_label = "Installing dependencies"

    @classmethod
    def unavailable(cls, context) -> str:
        if not bpy.app.online_access:
            return ("Blender's online access is off: enable 'Allow Online Access' in Preferences > System > "
                    "Network (or start Blender with --online-mode), then install")
        if deps.deps_dir() is None:
            return ("Install SignAvatar as an extension (Preferences > Get Extensions > Install from Disk) to give "
                    "it a folder for its packages")
        if context.window_manager.signavatar.install_running:
            return "An installation is already running"
        return ""

    def prepare(self, context):
        target = deps.deps_dir(create=True)
        log = target.parent / "install.log"
        command = installer.installer_command(target)
        st = context.window_manager.signavatar
        st.install_running, st.install_progress, st.install_message, st.install_log = True, 0.0, "Starting", ""
        return lambda job: installer.run(command, job, log_path=log)

    def on_progress(self, context, fraction: float, message: str) -> None:
        st = context.window_manager.signavatar
        st.install_progress, st.install_message = fraction, message

    def on_log(self, context, line: str) -> None:
        st = context.window_manager.signavatar
        st.install_log = "\n".join([*st.install_log.splitlines(), line][-LOG_LINES:])

    def _ended(self, context, message: str) -> None:
        st = context.window_manager.signavatar
        st.install_running, st.install_message = False, message
        deps.forget()
        models.forget()

    def finish(self, context, result: str) -> set:
        self._ended(context, result)
        context.window_manager.signavatar.install_progress = 1.0
        self.report({"INFO"}, "SignAvatar dependencies installed")
        return {"FINISHED"}

    def failed(self, context, exc) -> None:
        self._ended(context, str(exc) if isinstance(exc, bridge.error()) else f"Installation failed: {exc}")

    def cancelled(self, context) -> None:
        self._ended(context, "Installation cancelled")


classes = (SIGNAVATAR_OT_install_dependencies,)
