"""Export the avatar's animation: AMASS-style SMPL-X ``.npz``, BVH and FBX (Blender's own exporters).

The ``.npz`` is baked from what the rig actually does over the scene's frame range
(:func:`..rig.bake.bake_motion`). Failures are reported like every other operator's
(:func:`.jobs.reported`): a bad target or a place that cannot be written is one error line,
checked before anything is written, and nothing is left half-written: every format is written
under a temporary name (same suffix) and renamed into place once the exporter has finished
(``atomic_path`` of :func:`..runtime_bridge.atomic`).
"""

from __future__ import annotations

import os
from pathlib import Path

import bpy
from bpy.props import IntProperty, StringProperty
from bpy_extras.io_utils import ExportHelper

from .. import runtime_bridge as bridge
from ..rig import placing
from ..rig.bake import bake_motion
from .jobs import reported


def _run_exporter(name: str, exporter, **kwargs) -> set:
    """Blender's exporter operator; its own error (a ``RuntimeError`` from ``bpy.ops``) as ``SignAvatarError``."""
    try:
        return exporter(**kwargs)
    except RuntimeError as e:  # its message ends with the exporter's own error after a traceback
        last = [ln.strip() for ln in str(e).splitlines() if ln.strip()][-1:] or ["unknown error"]
        raise bridge.error()(f"Blender's {name} exporter failed: {last[0]}") from None


def _check_folder(path: Path) -> None:
    """The folder ``path`` goes in exists and can be written (else one ``SignAvatarError`` saying so)."""
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise bridge.error()(f"cannot write {path.name}: {folder} {what}")
    if not os.access(folder, os.W_OK):
        raise bridge.error()(f"cannot write {path.name}: the folder {folder} is not writable")


def _check_exporter(name: str, result: set) -> None:
    if "FINISHED" not in result:
        raise bridge.error()(f"Blender's {name} exporter did not finish (see the Info editor for its message)")


class _Export(ExportHelper):
    frame_start: IntProperty(name="Start", default=-1, description="First frame (-1: the scene's start)")
    frame_end: IntProperty(name="End", default=-1, description="Last frame (-1: the scene's end)")

    def _range(self, context) -> tuple[int, int]:
        s = context.scene
        return (s.frame_start if self.frame_start < 0 else self.frame_start,
                s.frame_end if self.frame_end < 0 else self.frame_end)

    def execute(self, context):
        return reported(self, lambda: self._export(context))

    def _export(self, context) -> set:
        binding = placing.target_binding(context)
        path = Path(bpy.path.abspath(self.filepath))
        _check_folder(path)
        start, end = self._range(context)
        with bridge.atomic().atomic_path(path) as tmp:
            self.write(context, binding, tmp, start, end)
        self.report({"INFO"}, f"Wrote {path.name} (frames {start}\u2013{end})")
        return {"FINISHED"}


class SIGNAVATAR_OT_export_npz(_Export, bpy.types.Operator):
    """Save the avatar's animation as an AMASS-style SMPL-X motion file (.npz)"""

    bl_idname = "signavatar.export_npz"
    bl_label = "Export SMPL-X Motion (.npz)"
    filename_ext = ".npz"
    filter_glob: StringProperty(default="*.npz", options={"HIDDEN"})

    def write(self, context, binding, path, start, end):
        bake_motion(context, binding, start, end).save(path)


class SIGNAVATAR_OT_export_bvh(_Export, bpy.types.Operator):
    """Save the avatar's animation as BVH (Blender's BVH exporter)"""

    bl_idname = "signavatar.export_bvh"
    bl_label = "Export BVH"
    filename_ext = ".bvh"
    filter_glob: StringProperty(default="*.bvh", options={"HIDDEN"})

    def write(self, context, binding, path, start, end):
        rig = binding.obj
        with context.temp_override(object=rig, active_object=rig, selected_objects=[rig]):
            result = _run_exporter("BVH", bpy.ops.export_anim.bvh, filepath=str(path), frame_start=start,
                                   frame_end=end, rotate_mode="NATIVE", root_transform_only=False)
        _check_exporter("BVH", result)


class SIGNAVATAR_OT_export_fbx(_Export, bpy.types.Operator):
    """Save the avatar (armature, body, animation) as FBX (Blender's FBX exporter)"""

    bl_idname = "signavatar.export_fbx"
    bl_label = "Export FBX"
    filename_ext = ".fbx"
    filter_glob: StringProperty(default="*.fbx", options={"HIDDEN"})

    def write(self, context, binding, path, start, end):
        rig = binding.obj
        objs = [rig] + [o for o in rig.children if o.type == "MESH"]
        scene = context.scene
        old = (scene.frame_start, scene.frame_end)
        scene.frame_start, scene.frame_end = start, end  # the exporter bakes the scene range
        try:
            with context.temp_override(object=rig, active_object=rig, selected_objects=objs):
                result = _run_exporter("FBX", bpy.ops.export_scene.fbx, filepath=str(path), use_selection=True,
                                       object_types={"ARMATURE", "MESH"}, add_leaf_bones=False, bake_anim=True,
                                       bake_anim_use_all_actions=False, bake_anim_use_nla_strips=False,
                                       bake_anim_force_startend_keying=True)
        finally:
            scene.frame_start, scene.frame_end = old
        _check_exporter("FBX", result)


classes = (SIGNAVATAR_OT_export_npz, SIGNAVATAR_OT_export_bvh, SIGNAVATAR_OT_export_fbx)
