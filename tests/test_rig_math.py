"""The add-on's numpy-only modules, without Blender: quaternions, rest conversion, rig matching, bone plan."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model_runtime import rotations as R
from model_runtime.skeleton import GENDERS, JOINT_NAMES, PARENTS, rest_skeleton
from signavatar_blender.rig import quaternion as Q
from signavatar_blender.rig import rig_math
from signavatar_blender.rig import smplx_match as rigs
from signavatar_blender.rig.bone_plan import plan_bones


def random_rotvecs(n, rng, max_angle=np.pi):
    axis = rng.normal(size=(n, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    return axis * rng.uniform(0, max_angle, size=(n, 1))


def random_rotations(n, rng):
    return Q.to_matrix(Q.from_axis_angle(random_rotvecs(n, rng)))


def same_rotation(q1, q2, atol=1e-9):
    return np.allclose(np.abs(np.sum(q1 * q2, axis=-1)), 1.0, atol=atol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axis_angle_to_wxyz_agrees_with_roma_xyzw(dtype):
    rng = np.random.default_rng(0)
    rv = np.concatenate([random_rotvecs(200, rng), np.zeros((1, 3)), [[np.pi, 0, 0], [0, 0, -np.pi]]]).astype(dtype)
    ours = Q.from_axis_angle(rv)
    roma_xyzw = R.axis_angle_to_quat(torch.from_numpy(rv.astype(np.float64))).numpy()
    assert same_rotation(ours, roma_xyzw[..., [3, 0, 1, 2]],  # XYZW -> WXYZ
                         atol=1e-6 if dtype == np.float32 else 1e-12)
    mats = R.axis_angle_to_matrix(torch.from_numpy(rv.astype(np.float64))).numpy()
    assert np.allclose(Q.to_matrix(ours), mats, atol=1e-6)


def test_quaternion_round_trips_including_pi():
    rng = np.random.default_rng(1)
    rv = np.concatenate([random_rotvecs(300, rng), [[np.pi, 0, 0], [0, np.pi, 0], [0, 0, 1e-12]]])
    q = Q.from_axis_angle(rv)
    assert same_rotation(Q.from_matrix(Q.to_matrix(q)), q)
    assert np.allclose(Q.to_matrix(Q.from_axis_angle(Q.to_axis_angle(q))), Q.to_matrix(q), atol=1e-9)
    a, b = Q.from_axis_angle(rv[:50]), Q.from_axis_angle(rv[50:100])
    assert np.allclose(Q.to_matrix(Q.multiply(a, b)), Q.to_matrix(a) @ Q.to_matrix(b), atol=1e-9)


def test_make_continuous_removes_sign_flips_without_changing_rotations():
    rng = np.random.default_rng(2)
    t = np.linspace(0, 3, 200)
    q = Q.from_axis_angle(np.stack([t, 0.5 * t, np.zeros_like(t)], -1))[:, None]
    flipped = q * rng.choice([-1.0, 1.0], size=(200, 1, 1))
    fixed = Q.make_continuous(flipped, axis=0)
    assert np.all(np.sum(fixed[1:] * fixed[:-1], axis=-1) > 0)
    assert same_rotation(fixed, q)


def test_rest_conversion_maps_smplx_local_rotations_into_bone_frames():
    rng = np.random.default_rng(3)
    rest = random_rotations(7, rng)  # arbitrary bone rest orientations (armature space)
    s = rig_math.YUP_TO_ZUP
    a_q = rig_math.rest_conversion(rest, s)
    poses = random_rotvecs(7 * 5, rng).reshape(5, 7, 3)
    q = rig_math.bone_quaternions(poses, a_q)
    A = s.T @ rest
    Rm = Q.to_matrix(Q.from_axis_angle(poses))
    expected = np.swapaxes(A, -1, -2)[None] @ Rm @ A[None]
    assert np.allclose(Q.to_matrix(q), expected, atol=1e-9)
    back = rig_math.pose_from_bone_quaternions(q, a_q)
    assert np.allclose(Q.to_matrix(Q.from_axis_angle(back)), Rm, atol=1e-9)


def test_pelvis_location_round_trip_and_meaning():
    rng = np.random.default_rng(4)
    b0 = random_rotations(1, rng)[0]
    trans = rng.normal(size=(6, 3))
    loc = rig_math.pelvis_locations(trans, b0, rig_math.YUP_TO_ZUP, object_scale=2.0)
    # the offset expressed in the bone's rest frame, in armature units, is the Z-up translation
    assert np.allclose((b0 @ loc.T).T * 2.0, rig_math.yup_to_zup(trans))
    assert np.allclose(rig_math.trans_from_pelvis_locations(loc, b0, rig_math.YUP_TO_ZUP, 2.0), trans)


def test_smplx_axes_are_read_from_the_rest_skeleton():
    r = rest_skeleton("neutral")
    J = {n: r.joints[i] for i, n in enumerate(JOINT_NAMES)}
    args = [J["pelvis"], J["neck"], J["left_shoulder"], J["right_shoulder"]]
    assert np.array_equal(rig_math.smplx_to_armature(*args), np.eye(3))  # Y-up data (SMPL-X add-on)
    zup = [rig_math.yup_to_zup(p) for p in args]
    assert np.array_equal(rig_math.smplx_to_armature(*zup), rig_math.YUP_TO_ZUP)  # our Z-up rig
    tilt = Q.to_matrix(Q.from_axis_angle(np.array([0.1, 0.0, 0.05])))
    assert np.array_equal(rig_math.smplx_to_armature(*[tilt @ p for p in zup]), rig_math.YUP_TO_ZUP)
    turned = Q.to_matrix(Q.from_axis_angle(np.array([0.0, 0.0, np.pi / 4])))
    s = rig_math.smplx_to_armature(*[turned @ p for p in zup])
    assert np.allclose(s, turned @ rig_math.YUP_TO_ZUP, atol=0.02)  # not axis-aligned: used as read


def _bones(names=JOINT_NAMES, extra_root=True):
    parents = {n: (names[p] if p >= 0 else ("root" if extra_root else None)) for n, p in zip(names, PARENTS)}
    if extra_root:
        parents["root"] = None
    return parents


def test_rig_matching_accepts_smplx_and_meshcapade_names():
    assert rigs.match_smplx(_bones(), JOINT_NAMES, PARENTS).ok
    meshcapade = list(JOINT_NAMES)
    meshcapade[23], meshcapade[24] = "left_eye", "right_eye"
    m = rigs.match_smplx(_bones(meshcapade), JOINT_NAMES, PARENTS)
    assert m.ok and m.bones["left_eye_smplhf"] == "left_eye"
    smplh = {n: p for n, p in _bones().items() if n not in ("jaw", "left_eye_smplhf", "right_eye_smplhf")}
    m = rigs.match_smplx(smplh, JOINT_NAMES, PARENTS)
    assert m.ok and m.missing_optional == ("jaw", "left_eye_smplhf", "right_eye_smplhf")


def test_rig_matching_names_every_problem():
    bones = _bones()
    del bones["left_thumb3"], bones["right_knee"]
    bones["left_elbow"] = "spine1"
    m = rigs.match_smplx(bones, JOINT_NAMES, PARENTS)
    assert not m.ok
    msg = m.problem("Armature")
    assert "right_knee" in msg and "left_thumb3" in msg and "'left_elbow' hangs from 'spine1'" in msg
    assert "Select an armature" in msg


@pytest.mark.parametrize("gender", GENDERS)
def test_bone_plan_is_z_up_on_the_floor_and_well_formed(gender):
    r = rest_skeleton(gender)
    plan = plan_bones(r.joints, r.end_sites, r.floor_y, JOINT_NAMES, PARENTS)
    assert plan.names == JOINT_NAMES
    heads = dict(zip(plan.names, plan.heads))
    assert np.allclose(heads["pelvis"], [0, 0, -r.floor_y])
    assert heads["head"][2] > heads["neck"][2] > heads["pelvis"][2] > heads["left_knee"][2] > 0
    assert heads["left_shoulder"][0] > 0 and heads["left_eye_smplhf"][1] < heads["head"][1]  # left +X, faces -Y
    top = plan.tails[plan.names.index("head")][2]
    assert abs(top - {"neutral": 1.70, "female": 1.63, "male": 1.77}[gender]) < 1e-6
    d = plan.tails - plan.heads
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    assert np.all(np.abs(np.sum(d * plan.z_axis, axis=1)) < 0.9)  # a roll direction is always defined
