"""Export the avatar's animation: AMASS-style SMPL-X ``.npz``, BVH and FBX (Blender's own exporters).

The ``.npz`` is baked from what the rig actually does over the scene's frame range (NLA
strips, edits and all): each frame's pose-bone rotations are turned back into SMPL-X
axis-angle with the inverse of the keying conversion (:mod:`.rig_math`), so a motion
keyed from a file exports as the same motion.
"""

from __future__ import annotations

from pathlib import Path

import bpy
import numpy as np
from bpy.props import IntProperty, StringProperty
from bpy_extras.io_utils import ExportHelper

from . import keying, mr, placing, quaternion, rig_math
from .avatar import BODY_PROP


def bake_motion(context, binding: keying.RigBinding, frame_start: int, frame_end: int):
    """The rig's evaluated animation over [frame_start, frame_end] as a ``SignMotion`` at the scene's fps."""
    err = mr.error()
    if frame_end < frame_start:
        raise err(f"empty frame range {frame_start}\u2013{frame_end}")
    scene = context.scene
    obj = binding.obj
    sk = mr.runtime("skeleton")
    frames = range(frame_start, frame_end + 1)
    if hasattr(binding, "plan"):  # a retargeted humanoid: back through its mapping (rig.retarget_math)
        from .rig import binding as retarget

        poses, trans = retarget.bake(context, binding, frames)
        return _motion(context, obj, poses.astype(np.float32), trans, frame_start, frame_end)
    quats = np.zeros((len(frames), len(binding.bones), 4))
    loc = np.zeros((len(frames), 3))
    pelvis = obj.pose.bones[binding.bones[binding.joints.index(0)]]
    pbs = [obj.pose.bones[b] for b in binding.bones]
    current = scene.frame_current
    try:
        for t, f in enumerate(frames):
            scene.frame_set(f)
            for j, pb in enumerate(pbs):
                quats[t, j] = tuple(pb.matrix_basis.to_quaternion())
            loc[t] = tuple(pelvis.matrix_basis.translation)
    finally:
        scene.frame_set(current)
    poses = np.zeros((len(frames), sk.NUM_JOINTS, 3), dtype=np.float32)
    poses[:, list(binding.joints)] = rig_math.pose_from_bone_quaternions(quaternion.make_continuous(quats),
                                                                         binding.rest_quats)
    trans = rig_math.trans_from_pelvis_locations(loc, binding.pelvis_rest, binding.smplx_to_arm, binding.scale)
    return _motion(context, obj, poses, trans, frame_start, frame_end)


def _motion(context, obj, poses, trans, frame_start, frame_end):
    scene = context.scene
    sk = mr.runtime("skeleton")
    adt = obj.animation_data
    names = []
    if adt is not None:
        for track in adt.nla_tracks:
            for s in track.strips:
                if s.frame_end > frame_start and s.frame_start < frame_end and not track.mute and not s.mute:
                    names.append((s.frame_start, s.action["signavatar_gloss"] if s.action and
                                  s.action.get("signavatar_gloss") else s.name))
    gloss = "+".join(n for _, n in sorted(names))
    gender = obj.get(BODY_PROP, "neutral")
    if gender not in sk.GENDERS:
        gender = "neutral"
    fps = scene.render.fps / scene.render.fps_base
    return mr.runtime("motion").SignMotion(poses=poses, trans=trans.astype(np.float32), fps=fps, gloss=gloss,
                                           gender=gender, source=f"blender:{bpy.path.basename(bpy.data.filepath) or 'unsaved'}:{obj.name}")


class _Export(ExportHelper):
    frame_start: IntProperty(name="Start", default=-1, description="First frame (-1: the scene's start)")
    frame_end: IntProperty(name="End", default=-1, description="Last frame (-1: the scene's end)")

    def _range(self, context) -> tuple[int, int]:
        s = context.scene
        return (s.frame_start if self.frame_start < 0 else self.frame_start,
                s.frame_end if self.frame_end < 0 else self.frame_end)

    def execute(self, context):
        try:
            binding = placing.target_binding(context)
            path = Path(bpy.path.abspath(self.filepath))
            start, end = self._range(context)
            self.write(context, binding, path, start, end)
        except mr.error() as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        except (OSError, RuntimeError) as e:
            self.report({"ERROR"}, f"Could not write {self.filepath}: {e}")
            return {"CANCELLED"}
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
            result = bpy.ops.export_anim.bvh(filepath=str(path), frame_start=start, frame_end=end,
                                             rotate_mode="NATIVE", root_transform_only=False)
        if "FINISHED" not in result:
            raise RuntimeError("the BVH exporter did not finish")


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
                result = bpy.ops.export_scene.fbx(filepath=str(path), use_selection=True,
                                                  object_types={"ARMATURE", "MESH"}, add_leaf_bones=False,
                                                  bake_anim=True, bake_anim_use_all_actions=False,
                                                  bake_anim_use_nla_strips=False, bake_anim_force_startend_keying=True)
        finally:
            scene.frame_start, scene.frame_end = old
        if "FINISHED" not in result:
            raise RuntimeError("the FBX exporter did not finish")


classes = (SIGNAVATAR_OT_export_npz, SIGNAVATAR_OT_export_bvh, SIGNAVATAR_OT_export_fbx)
