"""'Install Dependencies': runs the extension's ``install_deps.py --target`` in a background process."""

from __future__ import annotations

import bpy

from ..runtime_bridge import deps, models

LOG_LINES = 40


class SIGNAVATAR_OT_install_dependencies(bpy.types.Operator):
    """Download and install PyTorch, MediaPipe and the other packages SignAvatar needs into the add-on's own
    folder (about 1 GB; Blender's Python is not touched)"""

    bl_idname = "signavatar.install_dependencies"
    bl_label = "Install Dependencies"

    _proc: deps.InstallProcess | None = None
    _timer = None

    @classmethod
    def poll(cls, context):
        if not bpy.app.online_access:
            cls.poll_message_set("Blender's online access is off: enable 'Allow Online Access' in Preferences > "
                                 "System > Network (or start Blender with --online-mode), then install")
            return False
        if deps.deps_dir() is None:
            cls.poll_message_set("Install SignAvatar as an extension (Preferences > Get Extensions > Install "
                                 "from Disk) to give it a folder for its packages")
            return False
        if context.window_manager.signavatar.install_running:
            cls.poll_message_set("An installation is already running")
            return False
        return True

    def _start(self, context) -> None:
        target = deps.deps_dir(create=True)
        log = target.parent / "install.log"
        self._proc = deps.InstallProcess(deps.installer_command(target), log_path=log)
        self._proc.start()
        st = context.window_manager.signavatar
        st.install_running, st.install_progress, st.install_message, st.install_log = True, 0.0, "Starting", ""

    def _consume(self, context, lines) -> deps.Done | None:
        st = context.window_manager.signavatar
        done = None
        log = st.install_log.splitlines()
        for line in lines:
            if line is None:
                continue
            ev = deps.parse_line(line)
            if isinstance(ev, deps.Progress):
                st.install_progress = min(1.0, max(0.0, (ev.step - 1) / max(ev.total, 1)))
                st.install_message = f"Step {ev.step}/{ev.total}: {ev.message}"
            elif isinstance(ev, deps.Done):
                done = ev
            elif line.strip():
                log.append(line.strip()[:200])
        st.install_log = "\n".join(log[-LOG_LINES:])
        return done

    def _end(self, context, done: deps.Done | None) -> set:
        st = context.window_manager.signavatar
        st.install_running = False
        deps.forget()
        models.forget()
        code = self._proc.returncode() if self._proc else None
        if done is not None and done.ok:
            st.install_progress, st.install_message = 1.0, "Dependencies installed"
            self.report({"INFO"}, "SignAvatar dependencies installed")
            return {"FINISHED"}
        reason = done.message if done is not None else f"installer exited with code {code}"
        st.install_message = f"Installation failed: {reason}"
        self.report({"ERROR"}, f"Installing dependencies failed: {reason} (log: {self._proc.log_path})")
        return {"CANCELLED"}

    def execute(self, context):
        """Blocking run (scripts)."""
        self._start(context)
        self._proc.proc.wait()
        if self._proc._reader is not None:
            self._proc._reader.join()
        return self._end(context, self._consume(context, self._proc.drain()))

    def invoke(self, context, event):
        if context.window is None:  # no UI (background Blender): run in place
            return self.execute(context)
        self._start(context)
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.25, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def _finish_modal(self, context) -> None:
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)
            self._timer = None
        for area in context.screen.areas if context.screen else ():
            area.tag_redraw()

    def modal(self, context, event):
        if event.type == "ESC" and event.value == "PRESS":
            self._proc.cancel()
            self._finish_modal(context)
            st = context.window_manager.signavatar
            st.install_running, st.install_message = False, "Installation cancelled"
            self.report({"WARNING"}, "Installing dependencies: cancelled")
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        lines = self._proc.drain()
        done = self._consume(context, lines)
        for area in context.screen.areas if context.screen else ():
            area.tag_redraw()
        if done is not None or (None in lines):
            self._proc.proc.wait()
            self._finish_modal(context)
            return self._end(context, done)
        return {"RUNNING_MODAL"}


classes = (SIGNAVATAR_OT_install_dependencies,)
