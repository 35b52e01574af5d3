"""One clip through Blender: key the motion on the avatar, frame it, render video/frames/sheet.

Thin bpy adapter. The avatar comes from :mod:`..avatar` and the keying from :mod:`..keying`
(the add-on's own code paths, so a batch render shows exactly what an animator gets).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import bpy
import numpy as np

from .. import runtime_bridge as bridge
from . import images, interrupt, outputs, scene as scn, sheet
from .framing import fit_front_camera, widen
from .settings import RenderSettings

SHEET_CELL_WIDTH = 256  # px: contact-sheet cells are rendered at about this width
HAND_RADIUS = 0.03  # m kept around every hand point (finger and palm surface)
HEAD_RADIUS = 0.06  # m kept around the top of the head and the chin (hair, jaw)
SHOULDER_RADIUS = 0.08  # m kept around the shoulder joints (deltoids)
FRAMING_CHUNK = 2000  # frames posed at once when framing a long motion


@contextlib.contextmanager
def quiet(enabled: bool = True):
    """Silence Blender's C-level per-frame log on stdout (file descriptor 1) while rendering."""
    if not enabled:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


class ClipRenderer:
    """The render scene and avatar of one batch; :meth:`render` turns a motion into files."""

    def __init__(self, settings: RenderSettings):
        from ..avatar import build as avatar

        self.settings = settings
        self.scene = scn.make_scene(settings)
        ctx = SimpleNamespace(scene=self.scene, collection=self.scene.collection,
                              view_layer=self.scene.view_layers[0])
        with self.active():
            self.rig = avatar.create_avatar(ctx, settings.avatar)
        if settings.mesh_detail < 1:
            self._simplify(settings.mesh_detail)
        self.rest = bridge.runtime("skeleton").rest_skeleton(settings.avatar)
        self._action = None
        self.software_gl = False
        if settings.engine == "workbench":
            self._warm_up()

    def active(self):
        """Context in which our scene is *the* scene: frame changes and renders evaluate it.

        Without this, ``frame_set`` and ``render`` on a scene that is not the window's (there
        is no window in background mode) leave its animation unevaluated.
        """
        return bpy.context.temp_override(scene=self.scene, view_layer=self.scene.view_layers[0])

    def _warm_up(self) -> None:
        """One tiny render: starts the GPU context (and its shaders), then settles ``aa == "auto"``.

        Blender only reports which OpenGL it drew with after a first render. On a software
        renderer (Mesa llvmpipe on a headless server) FXAA costs two to three times the rest of
        a 640x480 frame, so "auto" leaves it off there and turns it on with a GPU.
        """
        import gpu

        r = self.scene.render
        tmp = Path(self.settings.out_dir) / f".warm-up.{os.getpid()}.png"
        r.resolution_percentage = 5
        scn.output_png(self.scene, str(tmp))
        r.use_file_extension = False
        try:
            self._render(animation=False)
        finally:
            r.resolution_percentage = 100
            if tmp.exists():
                tmp.unlink()
        try:
            self.software_gl = gpu.platform.device_type_get() == "SOFTWARE"
        except (SystemError, RuntimeError):
            self.software_gl = False
        if self.settings.aa == "auto":
            self.scene.display.render_aa = "OFF" if self.software_gl else "FXAA"

    def _simplify(self, ratio: float) -> None:
        """Collapse-decimate the render copy of the body mesh once (skin weights are interpolated).

        The built-in body has ~116k vertices; a software renderer spends most of a frame on
        them, and at dictionary resolutions a quarter of them looks the same (hands included).
        """
        for obj in list(self.scene.objects):
            if obj.type != "MESH" or obj.parent != self.rig:
                continue
            mod = obj.modifiers.new("SignAvatar render detail", "DECIMATE")
            mod.decimate_type, mod.ratio = "COLLAPSE", ratio
            with bpy.context.temp_override(object=obj, active_object=obj, scene=self.scene,
                                           view_layer=self.scene.view_layers[0]):
                bpy.ops.object.modifier_move_to_index(modifier=mod.name, index=0)
                bpy.ops.object.modifier_apply(modifier=mod.name)

    # -- motion on the rig ---------------------------------------------------------------------
    def apply(self, motion) -> int:
        """Key ``motion`` from frame 1 (dropping the previous clip's animation); returns the last frame."""
        from ..rig import keying

        self.rig.animation_data_clear()
        if self._action is not None and self._action.users == 0:
            bpy.data.actions.remove(self._action)
        self._action = None
        for pb in self.rig.pose.bones:  # nothing from the previous clip may leak into this one
            pb.rotation_quaternion = (1.0, 0.0, 0.0, 0.0)
            pb.location = (0.0, 0.0, 0.0)
        with self.active():
            keyed = keying.key_motion(self.rig, motion, start=1)
        self._action = keyed.action
        last = motion.num_frames
        scn.set_frames(self.scene, 1, last, motion.fps)
        return last

    def framing_points(self, motion) -> np.ndarray:
        """World points the camera must show: the rest upper body and every hand point of every frame.

        Long motions are streamed in chunks of :data:`FRAMING_CHUNK` frames, each reduced to the vertices
        of its convex hull (every extreme the camera fit uses is a hull vertex), so memory stays bounded
        whatever the clip's length.
        """
        if motion.num_frames <= FRAMING_CHUNK:
            return self._framing_points(motion.poses, motion.trans)
        from scipy.spatial import ConvexHull, QhullError

        kept = []
        for a in range(0, motion.num_frames, FRAMING_CHUNK):
            pts = self._framing_points(motion.poses[a:a + FRAMING_CHUNK], motion.trans[a:a + FRAMING_CHUNK])
            try:
                kept.append(pts[ConvexHull(pts).vertices])
            except (QhullError, ValueError):  # flat or degenerate chunk: keep it whole
                kept.append(pts)
        return np.concatenate(kept)

    def _framing_points(self, poses: np.ndarray, trans: np.ndarray) -> np.ndarray:
        import torch

        sk = bridge.runtime("skeleton")
        rot = bridge.runtime("rotations")
        J = sk.JOINT_INDEX
        rest = self.rest
        fk = sk.forward_kinematics(rot.axis_angle_to_matrix(torch.from_numpy(poses.astype(np.float32))),
                                   torch.from_numpy(rest.joints).float(), torch.from_numpy(trans).float())
        hand_joints = [J[n] for n in sk.JOINT_NAMES if any(k in n for k in ("wrist", "index", "middle", "ring",
                                                                             "pinky", "thumb", "elbow"))]
        tips = [f"{s}_{f}3" for s in ("left", "right") for f in sk.FINGERS]
        pos = fk.positions.numpy()
        hands = np.concatenate([pos[:, hand_joints].reshape(-1, 3),
                                sk.end_site_positions(fk, rest, tips).numpy().reshape(-1, 3)])
        head = sk.end_site_positions(fk, rest, ["head", "jaw"]).numpy().reshape(-1, 3)
        shoulders = pos[:, [J["left_shoulder"], J["right_shoulder"]]].reshape(-1, 3)
        waist = rest.joints[[J["pelvis"], J["spine1"]]]
        yup = np.concatenate([widen(hands, HAND_RADIUS), widen(head, HEAD_RADIUS),
                              widen(shoulders, SHOULDER_RADIUS), waist])
        return self.to_world(yup)

    def to_world(self, points_yup: np.ndarray) -> np.ndarray:
        """SMPL-X body-frame points (Y-up, pelvis at the origin) -> Blender world, via the pelvis bone."""
        from ..rig.rig_math import yup_to_zup

        pelvis = self.rig.data.bones[bridge.runtime("skeleton").JOINT_NAMES[0]]
        offset = np.array(pelvis.head_local) - yup_to_zup(self.rest.joints[0])
        arm = yup_to_zup(points_yup) + offset
        m = np.array(self.rig.matrix_world)
        return arm @ m[:3, :3].T + m[:3, 3]

    def frame(self, motion) -> None:
        s = self.settings
        framing = fit_front_camera(self.framing_points(motion), s.width / s.height)
        scn.set_camera(self.scene, framing)
        chest = self.to_world(self.rest.joints[[bridge.runtime("skeleton").JOINT_INDEX["spine3"]]])[0]
        scn.aim_lights(self.scene, chest)

    # -- outputs -------------------------------------------------------------------------------
    def _render(self, animation: bool) -> None:
        with quiet(not self.settings.verbose), self.active(), interrupt.during_blender_call():
            bpy.ops.render.render(animation=animation, write_still=not animation, scene=self.scene.name)

    def render(self, name: str, motion, label: str, spans=()) -> list[str]:
        """Write ``<name>.npz``, ``<name>.mp4`` and, as set, frames and a contact sheet; returns their names.

        Everything is rendered under temporary names, checked (the MP4 is complete with one frame per
        motion frame, every PNG frame is there) and only then renamed over earlier outputs, the motion
        last: a clip interrupted at any point leaves the previous good files as they were.
        ``spans``: ``(word, first, last)`` motion frames of a sentence's words; contact-sheet
        cells are labelled with the word they show.
        """
        s, out = self.settings, Path(self.settings.out_dir)
        outputs.remove_partials(out, name)
        pairs: list[tuple[Path, Path]] = []
        with interrupt.cleanup(lambda: outputs.remove_partials(out, name)):
            return self._render_clip(name, motion, label, spans, pairs)

    def _render_clip(self, name: str, motion, label: str, spans, pairs: list) -> list[str]:
        s, out = self.settings, Path(self.settings.out_dir)
        try:
            last = self.apply(motion)
            self.frame(motion)
            scn.set_label(self.scene, label if s.label else None)
            video = out / f"{name}.mp4"
            tmp_video = outputs.partial_path(video)
            scn.output_video(self.scene, tmp_video)
            self._render(animation=True)
            try:
                frames = outputs.mp4_frames(tmp_video)
            except (OSError, ValueError) as e:
                raise RuntimeError(f"Blender wrote no complete video for {name} ({e})") from None
            if frames != last:
                raise RuntimeError(f"Blender wrote {frames} video frames for {name}, expected {last}")
            pairs.append((tmp_video, video))
            if s.png_frames:
                folder = out / f"{name}{outputs.FRAMES}"
                tmp_folder = outputs.partial_path(folder)
                tmp_folder.mkdir()
                scn.output_png(self.scene, str(tmp_folder / "frame_####"))
                self._render(animation=True)
                got = len(list(tmp_folder.glob("frame_*.png")))
                if got != last:
                    raise RuntimeError(f"Blender wrote {got} PNG frames for {name}, expected {last}")
                pairs.append((tmp_folder, folder))
            if s.contact_sheet:
                sheet_path = out / f"{name}{outputs.SHEET}.png"
                tmp_sheet = outputs.partial_path(sheet_path)
                self.contact_sheet(tmp_sheet, last, label, spans)
                pairs.append((tmp_sheet, sheet_path))
            outputs.commit(pairs)
            motion.save(out / f"{name}.npz")  # atomic; last, so a record-less clip is re-rendered whole
        finally:
            outputs.remove_partials(out, name)
        return [f"{name}.npz"] + [final.name for _, final in pairs]

    def contact_sheet(self, path: Path, last: int, label: str, spans=()) -> None:
        """Render the sheet's frames as small stills (with the gloss and frame number) and tile them."""
        s, r = self.settings, self.scene.render
        frames = sheet.sheet_frames(1, last, s.sheet_frames)
        percent = max(1, min(100, round(100 * SHEET_CELL_WIDTH / s.width)))
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.cell.png")
        cells = []
        video_aa = self.scene.display.render_aa
        if video_aa == "OFF":  # small stills: FXAA costs little there and keeps fingers clean
            self.scene.display.render_aa = "FXAA"
        r.resolution_percentage = percent
        try:
            scn.output_png(self.scene, str(tmp))
            r.use_file_extension = False
            for f in frames:
                scn.set_label(self.scene, sheet.word_at(spans, f - 1) or label)  # scene frame 1 = motion frame 0
                with self.active():
                    self.scene.frame_set(f)
                self._render(animation=False)
                cells.append(images.load_png(tmp))
        finally:
            r.resolution_percentage = 100
            self.scene.display.render_aa = video_aa
            scn.set_label(self.scene, label if s.label else None)
            if tmp.exists():
                tmp.unlink()
        rows, cols = sheet.grid_shape(len(cells))
        bg = [c for c in s.background]
        sheet.write_png(path, sheet.compose(cells, cols, gap=max(2, cells[0].shape[1] // 80), background=bg))
