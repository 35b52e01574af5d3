"""Bake what a rig does back into a ``SignMotion``: the inverse of keying (:mod:`.keying`).

Each frame's pose-bone rotations over the range (NLA strips, edits and all) are turned back
into SMPL-X axis-angle with the inverse of the keying conversion (:mod:`.rig_math`; a
retargeted rig goes back through its mapping, :mod:`.binding`), so a motion keyed from a file
bakes to the same motion. Quaternions are WXYZ (Blender) throughout; the result is Y-up
SMPL-X axis-angle as ``model_runtime`` stores it.
"""

from __future__ import annotations

import bpy
import numpy as np

from .. import runtime_bridge as bridge
from ..avatar import body_of
from . import quaternion, rig_math
from .keying import RigBinding


def bake_motion(context, binding: RigBinding, frame_start: int, frame_end: int):
    """The rig's evaluated animation over [frame_start, frame_end] as a ``SignMotion`` at the scene's fps."""
    err = bridge.error()
    if frame_end < frame_start:
        raise err(f"empty frame range {frame_start}\u2013{frame_end}")
    scene = context.scene
    obj = binding.obj
    sk = bridge.runtime("skeleton")
    frames = range(frame_start, frame_end + 1)
    if hasattr(binding, "plan"):  # a retargeted humanoid: back through its mapping (rig.retarget_math)
        from . import binding as retarget

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
    sk = bridge.runtime("skeleton")
    adt = obj.animation_data
    names = []
    if adt is not None:
        for track in adt.nla_tracks:
            for s in track.strips:
                if s.frame_end > frame_start and s.frame_start < frame_end and not track.mute and not s.mute:
                    names.append((s.frame_start, s.action["signavatar_gloss"] if s.action and
                                  s.action.get("signavatar_gloss") else s.name))
    gloss = "+".join(n for _, n in sorted(names))
    gender = body_of(obj)
    fps = scene.render.fps / scene.render.fps_base
    return bridge.runtime("motion").SignMotion(poses=poses, trans=trans.astype(np.float32), fps=fps, gloss=gloss,
                                           gender=gender, source=f"blender:{bpy.path.basename(bpy.data.filepath) or 'unsaved'}:{obj.name}")
