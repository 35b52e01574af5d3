"""Key a ``SignMotion`` onto an armature: one action per sign, on an NLA track.

The rig is inspected once (:func:`bind`): an SMPL-X-named rig gets the exact per-bone
rest-orientation conversion (:mod:`.rig_math`); any other humanoid (Rigify, Mixamo, VRM,
Unreal, ...) is retargeted through its bone mapping (:mod:`.rig.binding`). Keying then converts the whole clip
in numpy and writes every F-curve with ``keyframe_points.add`` + ``foreach_set``, never a
per-frame ``keyframe_insert``.

Timing: the action holds one key per motion frame (action frame ``k`` = motion frame
``k``); the NLA strip's scale maps it to the scene's frame rate and the chosen speed
(``scale = scene_fps / (motion_fps * speed)``), so retiming or moving a sign is an NLA
edit and the action stays a clean copy of the clip.
"""

from __future__ import annotations

from dataclasses import dataclass

import bpy
import numpy as np

from .. import runtime_bridge as bridge
from . import action_api, rig_math, smplx_match

TRACK = "SignAvatar"


@dataclass(frozen=True)
class RigBinding:
    """How the SMPL-X joints map onto one armature, computed once from its rest pose."""

    obj: bpy.types.Object
    joints: tuple  # SMPL-X joint indices present on the rig
    bones: tuple  # matching bone names
    rest_quats: np.ndarray  # (len(joints), 4) WXYZ rest conversions A_j
    smplx_to_arm: np.ndarray  # (3, 3)
    pelvis_rest: np.ndarray  # (3, 3)
    scale: float
    translate: bool  # False when the pelvis bone is connected to its parent (location is ignored)
    missing_optional: tuple


def _np3(m) -> np.ndarray:
    return np.array([[m[r][c] for c in range(3)] for r in range(3)], dtype=np.float64)


def bind(obj):
    """Inspect ``obj``: a :class:`RigBinding` for an SMPL-X armature, a retargeting binding for another
    humanoid; raise ``SignAvatarError`` naming every problem if it is neither."""
    err = bridge.error()
    if obj is None:
        raise err("no target armature: create an avatar in the SignAvatar panel (Avatar) or select an "
                  "SMPL-X armature and press 'Use Selected Armature'")
    if obj.type != "ARMATURE":
        raise err(f"'{obj.name}' is a {obj.type.lower()} object, not an armature: select an SMPL-X armature "
                  "or create a built-in avatar")
    sk = bridge.runtime("skeleton")
    bones = obj.data.bones
    match = smplx_match.match_smplx({b.name: (b.parent.name if b.parent else None) for b in bones},
                             sk.JOINT_NAMES, sk.PARENTS)
    if not match.ok:
        if len(match.bones) >= 40 or not obj.data.bones:  # meant as an SMPL-X rig: say what is wrong with it
            raise err(match.problem(obj.name))
        from . import binding as retarget

        return retarget.bind(obj, smplx_problem=f"is not an SMPL-X armature (it has {len(match.bones)} of the "
                                                "52 SMPL-X joints)")
    idx = [i for i, n in enumerate(sk.JOINT_NAMES) if n in match.bones]
    names = [match.bones[sk.JOINT_NAMES[i]] for i in idx]
    head = {n: np.array(bones[match.bones[n]].head_local, dtype=np.float64)
            for n in ("pelvis", "neck", "left_shoulder", "right_shoulder")}
    try:
        s = rig_math.smplx_to_armature(head["pelvis"], head["neck"], head["left_shoulder"], head["right_shoulder"])
    except ValueError as e:
        raise err(f"'{obj.name}': {e}") from None
    rest = np.stack([_np3(bones[n].matrix_local) for n in names])
    scale = float(np.mean(np.abs(np.array(obj.matrix_world.to_scale()))))
    pelvis = bones[match.bones["pelvis"]]
    return RigBinding(obj=obj, joints=tuple(idx), bones=tuple(names),
                      rest_quats=rig_math.rest_conversion(rest, s), smplx_to_arm=s,
                      pelvis_rest=_np3(pelvis.matrix_local), scale=scale if scale > 0 else 1.0,
                      translate=not pelvis.use_connect, missing_optional=match.missing_optional)


@dataclass(frozen=True)
class KeyedSign:
    action: bpy.types.Action
    strip: bpy.types.NlaStrip
    frame_start: float
    frame_end: float


def _write(fc, frames: np.ndarray, values: np.ndarray) -> None:
    kp = fc.keyframe_points
    kp.add(len(frames))
    co = np.empty(2 * len(frames), dtype=np.float32)
    co[0::2] = frames
    co[1::2] = values
    kp.foreach_set("co", co)
    fc.update()  # sorts the keys and computes their handles (new keys use the user's interpolation type)


def rest_channels(obj, bones, located: str | None) -> list:
    """``(data path, index, value, group)`` holding ``bones`` at their rest location and scale 1.

    An NLA strip in REPLACE mode replaces only the channels its action has: without these, a take's
    location and scale keys on a track below (an imported FBX's, pushed down by :func:`key_motion`)
    would still move the sign's bones. ``located``: the bone whose location the sign keys itself;
    a connected bone's location is skipped (Blender ignores it).
    """
    out = []
    for bone in bones:
        esc = bpy.utils.escape_identifier(bone)
        if bone != located and not obj.data.bones[bone].use_connect:
            out += [(f'pose.bones["{esc}"].location', c, 0.0, bone) for c in range(3)]
        out += [(f'pose.bones["{esc}"].scale', c, 1.0, bone) for c in range(3)]
    return out


def build_action(binding: RigBinding, motion, name: str) -> action_api.ActionTarget:
    """A new action with the whole motion on ``binding``'s bones (frames 0 .. T-1).

    Every keyed bone gets all four quaternion channels over the whole clip, and its rest location and
    scale (:func:`rest_channels`), so the sign defines the bone's whole pose whatever lies under its
    strip (a take pushed down from the rig); bones the binding does not cover get none.
    """
    const = []
    if isinstance(binding, RigBinding):
        poses = np.asarray(motion.poses, dtype=np.float64)[:, list(binding.joints)]
        quats = rig_math.bone_quaternions(poses, binding.rest_quats)  # (T, J, 4) WXYZ
        loc = (rig_math.pelvis_locations(motion.trans, binding.pelvis_rest, binding.smplx_to_arm, binding.scale)
               if binding.translate else None)
        root = binding.bones[binding.joints.index(0)]
    else:
        from . import binding as retarget

        quats, loc, const = retarget.channels(binding, motion)
        root = binding.root_bone
    const = const + rest_channels(binding.obj, binding.bones, root if loc is not None else None)
    frames = np.arange(len(quats), dtype=np.float32)
    target = action_api.new_action(name, binding.obj)
    for j, bone in enumerate(binding.bones):
        path = f'pose.bones["{bpy.utils.escape_identifier(bone)}"].rotation_quaternion'
        for c in range(4):
            _write(action_api.new_fcurve(target, path, c, bone), frames, quats[:, j, c])
    if loc is not None:
        path = f'pose.bones["{bpy.utils.escape_identifier(root)}"].location'
        for c in range(3):
            _write(action_api.new_fcurve(target, path, c, root), frames, loc[:, c])
    for path, index, value, group in const:  # one key holds a constant channel over the whole strip
        _write(action_api.new_fcurve(target, path, index, group), frames[:1], np.array([value]))
    action = target.action
    action["signavatar_gloss"] = motion.gloss
    action["signavatar_source"] = motion.source
    action["signavatar_fps"] = float(motion.fps)
    action["signavatar_gender"] = motion.gender
    return target


def last_strip_end(obj) -> float | None:
    """Frame where the last sign on ``obj``'s SignAvatar tracks ends (None when there is none)."""
    adt = obj.animation_data
    if adt is None:
        return None
    ends = [s.frame_end for t in adt.nla_tracks if t.name.startswith(TRACK) for s in t.strips]
    return max(ends) if ends else None


def key_motion(rig, motion, start: float = 1, speed: float = 1.0, scene_fps: float | None = None,
               name: str | None = None) -> KeyedSign:
    """Key ``motion`` on ``rig`` (a :class:`RigBinding`, or an armature object to bind) as a new action +
    NLA strip starting at frame ``start``.

    ``scene_fps``: the frame rate the strip is timed for (None: the motion's own, one scene frame per
    motion frame); ``speed`` scales playback. ``name`` defaults to the motion's gloss.
    """
    err = bridge.error()
    binding = rig if hasattr(rig, "bones") and hasattr(rig, "obj") else bind(rig)
    if not (np.isfinite(speed) and 0.05 <= speed <= 20.0):
        raise err(f"speed must be between 0.05 and 20, got {speed}")
    obj = binding.obj
    for pb in (obj.pose.bones[b] for b in binding.bones):
        pb.rotation_mode = "QUATERNION"
    label = name or motion.gloss or "Sign"
    target = build_action(binding, motion, label)
    action_api.push_down_active(obj)  # the NLA drives the rig; an active action would override it
    strip = action_api.add_nla_strip(obj, target, TRACK, int(round(start)), label)
    strip.blend_type = "REPLACE"
    strip.extrapolation = "HOLD_FORWARD"
    fps = float(motion.fps) if scene_fps is None else float(scene_fps)
    strip.scale = fps / (float(motion.fps) * float(speed))
    return KeyedSign(action=target.action, strip=strip, frame_start=strip.frame_start, frame_end=strip.frame_end)
