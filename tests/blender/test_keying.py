"""Keying: a motion keyed on an armature puts every joint where model_runtime's FK says."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import bone_heads_world, fk_world, random_motion, sub

TOL = 2e-4  # metres


@pytest.mark.parametrize("gender", ["female", "male"])
def test_keyed_bones_follow_fk_on_the_built_in_avatar(addon, gender):
    import bpy

    sk = sub("model_runtime.skeleton")
    keying = sub("signavatar_blender.rig.keying")
    rig = sub("signavatar_blender.avatar.build").create_avatar(bpy.context, gender)
    bpy.context.scene.render.fps = 30
    motion = random_motion(frames=8, seed=1, gender=gender)
    keyed = keying.key_motion(keying.bind(rig), motion, start=5, scene_fps=30)
    assert (keyed.frame_start, keyed.frame_end) == (5, 12)
    expected = fk_world(motion, gender, rig.matrix_world)
    for t in range(motion.num_frames):
        got = bone_heads_world(rig, sk.JOINT_NAMES, 5 + t)
        assert np.abs(got - expected[t]).max() < TOL, f"frame {t}"


def test_one_action_per_sign_on_an_nla_track_timed_for_the_scene(addon):
    import bpy

    keying = sub("signavatar_blender.rig.keying")
    rig = sub("signavatar_blender.avatar.build").create_avatar(bpy.context, "neutral")
    b = keying.bind(rig)
    a = keying.key_motion(b, random_motion(frames=30, gloss="DRINK"), start=1, scene_fps=24, speed=1.0)
    c = keying.key_motion(b, random_motion(frames=30, gloss="DRINK", seed=2), start=math.ceil(a.frame_end) + 1,
                          scene_fps=24, speed=2.0)
    assert a.action.name == "DRINK" and c.action.name.startswith("DRINK.")
    assert rig.animation_data.action is None
    strips = [s for t in rig.animation_data.nla_tracks for s in t.strips]
    assert len(strips) == 2
    # 30 motion frames at 30 fps last 1 s: 24 scene frames at normal speed, 12 at double speed
    assert a.frame_end - a.frame_start == pytest.approx(29 * 24 / 30)
    assert c.frame_end - c.frame_start == pytest.approx(29 * 24 / 30 / 2)
    for pb in rig.pose.bones:
        assert pb.rotation_mode == "QUATERNION"
    api = sub("signavatar_blender.rig.action_api")
    if bpy.app.version >= (4, 4, 0):  # slotted actions: one slot for the rig, the strip points at it
        assert api.SLOTTED and a.action.is_action_layered and len(a.action.slots) == 1
        assert a.strip.action_slot == a.action.slots[0] and a.action.slots[0].target_id_type == "OBJECT"
    fcurves = api.fcurves
    # every rotation and the root's location hold one key per motion frame, written in bulk; every other
    # location and scale channel of a keyed bone holds its rest value with one key
    target = sub("signavatar_blender.rig.action_api").ActionTarget(a.action, a.strip.action_slot,
                                                              a.action.layers[0].strips[0].channelbag(a.strip.action_slot))
    curves = list(fcurves(target))
    assert len(curves) == len(_curve_keys(rig))
    for fc in curves:
        assert len(fc.keyframe_points) == _curve_keys(rig)[(fc.data_path, fc.array_index)], fc.data_path


def _curve_keys(rig, frames=30):
    """{(data path, index): number of keys} a sign of ``frames`` frames writes on the built-in avatar."""
    sk = sub("model_runtime.skeleton")
    out = {}
    for n in sk.JOINT_NAMES:
        out.update({(f'pose.bones["{n}"].rotation_quaternion', c): frames for c in range(4)})
        out.update({(f'pose.bones["{n}"].scale', c): 1 for c in range(3)})
        if n == "pelvis" or not rig.data.bones[n].use_connect:
            out.update({(f'pose.bones["{n}"].location', c): frames if n == "pelvis" else 1 for c in range(3)})
    return out


def test_overlapping_signs_stack_on_new_tracks_and_later_ones_reuse_the_first_with_room(addon, capfd):
    import bpy

    keying = sub("signavatar_blender.rig.keying")
    rig = sub("signavatar_blender.avatar.build").create_avatar(bpy.context, "neutral")
    b = keying.bind(rig)
    capfd.readouterr()
    placed = [keying.key_motion(b, random_motion(frames=10, seed=k), start=start, scene_fps=30)
              for k, start in enumerate((1, 1, 5, 10, 30))]
    tracks = list(rig.animation_data.nla_tracks)
    owner = {s.name: t for t in tracks for s in t.strips}
    rows = [tracks.index(owner[p.strip.name]) for p in placed]
    assert rows == [0, 1, 2, 0, 0]  # 1-10 taken twice, 5-14 overlaps both; 10-19 touches 1-10: allowed
    assert len({t.name for t in tracks}) == 1
    assert "Unable to add strip" not in capfd.readouterr().err  # no failed attempt printed on the console


def test_a_users_active_action_is_pushed_down_not_lost(addon):
    import bpy

    keying = sub("signavatar_blender.rig.keying")
    rig = sub("signavatar_blender.avatar.build").create_avatar(bpy.context, "neutral")
    rig.pose.bones["head"].rotation_quaternion = (0.9, 0.1, 0.0, 0.0)
    rig.pose.bones["head"].keyframe_insert("rotation_quaternion", frame=1)
    mine = rig.animation_data.action
    keying.key_motion(keying.bind(rig), random_motion(frames=5), start=10, scene_fps=30)
    used = [s.action for t in rig.animation_data.nla_tracks for s in t.strips]
    assert mine in used and rig.animation_data.action is None


def test_a_sign_defines_its_bones_whole_pose_over_a_users_action_pushed_down_after_earlier_signs(addon):
    """A user's action that keys rotation, location and scale (set after a first sign, so Generate pushes it
    down onto a track above that sign's) neither moves nor scales the bones of the next sign."""
    import bpy

    sk = sub("model_runtime.skeleton")
    keying = sub("signavatar_blender.rig.keying")
    rig = sub("signavatar_blender.avatar.build").create_avatar(bpy.context, "neutral", body_mesh=False)
    binding = keying.bind(rig)
    first = keying.key_motion(binding, random_motion(frames=5, seed=4), start=1, scene_fps=30)
    for name, path, value in (("head", "rotation_quaternion", (0.9, 0.1, 0.0, 0.0)),
                              ("left_wrist", "location", (0.05, -0.03, 0.02)),
                              ("right_elbow", "scale", (1.4, 0.8, 1.2))):
        setattr(rig.pose.bones[name], path, value)
        rig.pose.bones[name].keyframe_insert(path, frame=1)
    mine = rig.animation_data.action
    motion = random_motion(frames=6, seed=5)
    second = keying.key_motion(binding, motion, start=int(first.frame_end) + 2, scene_fps=30)
    expected = fk_world(motion, "neutral", rig.matrix_world)
    for t in range(motion.num_frames):
        got = bone_heads_world(rig, sk.JOINT_NAMES, int(second.frame_start) + t)
        err = np.abs(got - expected[t]).max()
        assert err < TOL, f"frame {t}: a joint is {err * 1000:.1f} mm off"
    assert np.allclose(tuple(rig.pose.bones["right_elbow"].scale), 1.0, atol=1e-6)
    tracks = list(rig.animation_data.nla_tracks)
    rows = {s.action: i for i, t in enumerate(tracks) for s in t.strips}
    assert rows[first.action] < rows[mine] < rows[second.action]  # the user's keys still show over the first


def _smplx_addon_like_rig(bpy, gender="neutral", with_root=True, eye_names=("left_eye", "right_eye")):
    """An armature built like the SMPL-X / Meshcapade add-ons': Y-up armature data under a +90 degree X
    object rotation, every bone's local frame equal to its SMPL-X joint frame, an extra 'root' bone."""
    sk = sub("model_runtime.skeleton")
    rest = sk.rest_skeleton(gender)
    arm = bpy.data.armatures.new("SMPLX-like")
    obj = bpy.data.objects.new("SMPLX-like", arm)
    bpy.context.scene.collection.objects.link(obj)
    obj.rotation_euler = (math.pi / 2, 0.0, 0.0)
    obj.location = (1.5, 0.3, -rest.floor_y)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    names = list(sk.JOINT_NAMES)
    names[23], names[24] = eye_names
    ebs = []
    if with_root:
        root = arm.edit_bones.new("root")
        root.head, root.tail = (0, -0.3, 0), (0, -0.2, 0)
    for i, n in enumerate(names):
        eb = arm.edit_bones.new(n)
        eb.head = tuple(rest.joints[i])
        eb.tail = tuple(rest.joints[i] + np.array([0.0, 0.02, 0.0]))  # along +Y, roll 0: identity frame
        eb.roll = 0.0
        ebs.append(eb)
    for i, p in enumerate(sk.PARENTS):
        if p >= 0:
            ebs[i].parent = ebs[p]
        elif with_root:
            ebs[i].parent = arm.edit_bones["root"]
    bpy.ops.object.mode_set(mode="OBJECT")
    return obj, names


def test_smplx_addon_style_rig_is_driven_correctly(addon):
    import bpy

    keying = sub("signavatar_blender.rig.keying")
    obj, names = _smplx_addon_like_rig(bpy)
    b = keying.bind(obj)
    assert np.allclose(b.smplx_to_arm, np.eye(3))  # Y-up armature data
    q = b.rest_quats
    assert np.allclose(np.abs(q[:, 0]), 1.0, atol=1e-6)  # bone frames are the SMPL-X joint frames
    motion = random_motion(frames=6, seed=3)
    keying.key_motion(b, motion, start=1, scene_fps=30)
    bpy.context.scene.render.fps = 30
    # the rig's armature data is the rest skeleton itself (pelvis at the origin, Y-up), under the object transform
    sk = sub("model_runtime.skeleton")
    import torch

    rot = sub("model_runtime.rotations")
    fk = sk.forward_kinematics(rot.axis_angle_to_matrix(torch.from_numpy(motion.poses).double()),
                               sk.rest_skeleton("neutral").joints, torch.from_numpy(motion.trans).double())
    m = np.array(obj.matrix_world)
    expected = fk.positions.numpy() @ m[:3, :3].T + m[:3, 3]
    for t in range(motion.num_frames):
        got = bone_heads_world(obj, names, 1 + t)
        assert np.abs(got - expected[t]).max() < TOL


def test_turning_the_avatar_turns_its_signing(addon):
    import bpy

    keying = sub("signavatar_blender.rig.keying")
    rig = sub("signavatar_blender.avatar.build").create_avatar(bpy.context, "neutral")
    rig.rotation_euler = (0.0, 0.0, 0.7)
    rig.location = (2.0, -1.0, 0.0)
    bpy.context.view_layer.update()
    bpy.context.scene.render.fps = 30
    motion = random_motion(frames=4, seed=4)
    keying.key_motion(keying.bind(rig), motion, start=1, scene_fps=30)
    expected = fk_world(motion, "neutral", rig.matrix_world)
    sk = sub("model_runtime.skeleton")
    for t in range(4):
        assert np.abs(bone_heads_world(rig, sk.JOINT_NAMES, 1 + t) - expected[t]).max() < TOL


def test_non_smplx_armatures_are_refused_naming_the_problem(addon):
    import bpy

    keying = sub("signavatar_blender.rig.keying")
    err = sub("model_runtime.errors").SignAvatarError
    arm = bpy.data.armatures.new("Rig")
    obj = bpy.data.objects.new("Rig", arm)
    bpy.context.scene.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    for n in ("Hips", "Spine", "Head"):
        arm.edit_bones.new(n).tail = (0, 0, 1)
    bpy.ops.object.mode_set(mode="OBJECT")
    with pytest.raises(err, match="not an SMPL-X armature.*52 SMPL-X joints.*humanoid.*no bone for left_shoulder"):
        keying.bind(obj)
    with pytest.raises(err, match="no target armature"):
        keying.bind(None)
    # right names, wrong hierarchy
    wrong, _ = _smplx_addon_like_rig(bpy)
    bpy.context.view_layer.objects.active = wrong
    bpy.ops.object.mode_set(mode="EDIT")
    wrong.data.edit_bones["left_elbow"].parent = wrong.data.edit_bones["spine1"]
    bpy.ops.object.mode_set(mode="OBJECT")
    with pytest.raises(err, match="'left_elbow' hangs from 'spine1' instead of 'left_shoulder'"):
        keying.bind(wrong)


def test_the_blender_4_2_action_path_keys_what_fk_says(addon, monkeypatch):
    """Blender 4.2/4.3 have no slotted actions: the shim's legacy branch (``action.fcurves`` on the action,
    no slot), forced here under bpy 4.5, whose legacy ``action.fcurves`` API still works, keys the same motion."""
    import bpy

    sk = sub("model_runtime.skeleton")
    api = sub("signavatar_blender.rig.action_api")
    keying = sub("signavatar_blender.rig.keying")
    calls = []
    monkeypatch.setattr(api, "SLOTTED", False)
    real = api.new_fcurve
    monkeypatch.setattr(api, "new_fcurve", lambda target, *a: calls.append(target.channelbag) or real(target, *a))
    rig = sub("signavatar_blender.avatar.build").create_avatar(bpy.context, "neutral", body_mesh=False)
    bpy.context.scene.render.fps = 30
    motion = random_motion(frames=6, seed=3)
    keyed = keying.key_motion(keying.bind(rig), motion, start=1, scene_fps=30)
    assert calls and all(cb is None for cb in calls)  # every F-curve went through action.fcurves
    assert keyed.action.id_root == "OBJECT" and len(keyed.action.fcurves) == len(_curve_keys(rig))
    expected = fk_world(motion, "neutral", rig.matrix_world)
    for t in range(motion.num_frames):
        got = bone_heads_world(rig, sk.JOINT_NAMES, 1 + t)
        assert np.abs(got - expected[t]).max() < TOL, f"frame {t}"
