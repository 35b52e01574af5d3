"""Video operator: a video of a signer -> landmarks -> inverse kinematics (-> the model) -> keys."""

from __future__ import annotations

import threading

import bpy
from bpy.props import StringProperty

from .. import runtime_bridge as bridge
from ..avatar import body_of
from ..rig import placing
from ..runtime_bridge import deps, models
from ..ui.preferences import settings
from . import jobs

_solved: dict = {}  # (path, size, mtime, mirrored, gender) -> (IK motion, notes): Raw/Reconstructed switch at once
_solved_lock = threading.Lock()
KEEP_SOLVED = 4


def _landmarks_progress(job, lo: float, hi: float):
    """``load_video``'s progress callback: the share of frames processed, mapped onto [lo, hi] of the job;
    cancelling the job stops the extraction at the next frame."""
    def progress(done: int, expected: int) -> None:
        job.check()
        share = min(1.0, done / expected) if expected else 0.0
        job.report(lo + (hi - lo) * share, f"Finding the signer: frame {done} of {expected or '?'}")

    return progress


class SIGNAVATAR_OT_sign_from_video(jobs.FileInputJobOperator, bpy.types.Operator):
    """Reconstruct the sign in a video onto the avatar (landmarks, inverse kinematics, optionally the model)"""

    bl_idname = "signavatar.sign_from_video"
    bl_label = "Reconstruct from Video"
    bl_options = {"REGISTER", "UNDO"}
    task_label = "Reading the video"
    path_prop, kind = "video_path", "video"

    filepath: StringProperty(subtype="FILE_PATH", options={"SKIP_SAVE"})
    filter_movie: bpy.props.BoolProperty(default=True, options={"HIDDEN", "SKIP_SAVE"})
    filter_folder: bpy.props.BoolProperty(default=True, options={"HIDDEN", "SKIP_SAVE"})

    @classmethod
    def unavailable(cls, context) -> str:
        why = deps.why_unavailable("video")
        if not why and context.scene.signavatar.video_mode == "MODEL":
            why = deps.why_unavailable("generate")
        return why

    def prepare(self, context):
        props = context.scene.signavatar
        video = bridge.runtime("landmarks.video")
        path, problems = self.input_path(context, video.VIDEO_EXTENSIONS)
        mode = props.video_mode
        gloss = props.video_gloss.strip()
        if mode == "MODEL" and not gloss:
            problems.append("the model reconstructs a clip conditioned on its sign: type which sign the video shows "
                            "in 'Sign Shown', or choose 'Raw (IK only)'")
        binding = placing.validate(context, *problems)
        gender = body_of(binding.obj)
        mirrored = bool(props.video_mirrored)
        s = settings(context)
        self._where = placing.placement(context)
        self._path = str(path)

        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns, mirrored, gender)

        def solve(job):
            deps.activate()
            job.report(0.01, f"Opening {path.name}")
            seq = video.load_video(path, mirrored=mirrored, progress=_landmarks_progress(job, 0.02, 0.6))
            # frames without the signer: trimmed at the ends, bridged inside, implausible bodies dropped
            seq, track = bridge.runtime("landmarks.signer_track").clean_signer(seq)
            notes = [n for n in (seq.meta.get("people_note", ""),) if n] + track.notes()
            job.check()
            job.report(0.62, f"Solving the skeleton for {seq.num_frames} frames")
            return bridge.runtime("ik.solve").solve(seq, gender=gender).motion, notes

        def work(job):
            with _solved_lock:
                cached = _solved.get(key)
            if cached is None:
                cached = solve(job)
                with _solved_lock:
                    _solved[key] = cached
                    while len(_solved) > KEEP_SOLVED:
                        _solved.pop(next(iter(_solved)))
            motion, notes = cached
            label = f"{path.stem} (IK)"
            if mode == "MODEL":
                job.check()
                job.report(0.85, "Loading the model" if models.cached(s) is None else "Reconstructing")
                gen = models.generator(s)
                m = gen.match(gloss)
                job.report(0.9, f"Reconstructing as {m.gloss}")
                motion = gen.reconstruct(motion, gloss=m.gloss)
                label = f"{m.gloss} (video)"
            return label, motion, notes

        return work

    def finish(self, context, result):
        label, motion, notes = result
        binding = placing.target_binding(context)
        keyed = placing.key_all(context, binding, [motion], self._where)
        keyed[0].action.name = label
        keyed[0].strip.name = label
        context.scene.signavatar.video_path = self._path
        st = context.window_manager.signavatar
        st.video_result = (f"{label}: {motion.num_frames / motion.fps:.1f} s ({motion.num_frames} frames) keyed on "
                           f"'{binding.obj.name}', frames {keyed[0].frame_start:g}\u2013{keyed[0].frame_end:g}")
        st.video_notes = "\n".join(notes)
        self.report({"INFO"}, "; ".join([st.video_result] + notes))
        return {"FINISHED"}


classes = (SIGNAVATAR_OT_sign_from_video,)
