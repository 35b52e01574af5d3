"""The retargeting room's numpy-only modules, without Blender: presets, heuristic, rest-pose compensation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from model_runtime.skeleton import JOINT_NAMES, PARENTS, rest_skeleton
from signavatar_blender.rig import quaternion as Q
from signavatar_blender.rig.bone_plan import MAIN_CHILD
from signavatar_blender.rig import mapping as M
from signavatar_blender.rig import retarget_math as RM


def mixamo_parents(prefix="mixamorig:"):
    """The Mixamo skeleton of the shared fingerspelling takes (names and hierarchy)."""
    p = {"Hips": None, "Spine": "Hips", "Spine1": "Spine", "Spine2": "Spine1", "Neck": "Spine2", "Head": "Neck"}
    for S in ("Left", "Right"):
        p.update({f"{S}Shoulder": "Spine2", f"{S}Arm": f"{S}Shoulder", f"{S}ForeArm": f"{S}Arm",
                  f"{S}Hand": f"{S}ForeArm", f"{S}UpLeg": "Hips", f"{S}Leg": f"{S}UpLeg", f"{S}Foot": f"{S}Leg",
                  f"{S}ToeBase": f"{S}Foot"})
        for f in ("Thumb", "Index", "Middle", "Ring", "Pinky"):
            for k in (1, 2, 3):
                p[f"{S}Hand{f}{k}"] = f"{S}Hand{f}{k - 1}" if k > 1 else f"{S}Hand"
    return {prefix + b: (prefix + q if q else None) for b, q in p.items()}


@pytest.mark.parametrize("prefix", ["mixamorig:", "mixamorig1:", ""])
def test_mixamo_preset_and_heuristic_agree_with_or_without_prefix(prefix):
    parents = mixamo_parents(prefix)
    m = M.detect(parents)
    assert m.source == "Mixamo" and len(m.bones) == 52 and m.bones["left_thumb1"] == f"{prefix}LeftHandThumb1"
    assert M.heuristic(parents) == m.bones
    assert not M.problems(m, parents, JOINT_NAMES)


def test_unreal_spine_candidates_pick_three_of_five():
    ue5 = {"root": None, "pelvis": "root", "spine_01": "pelvis", "spine_02": "spine_01", "spine_03": "spine_02",
           "spine_04": "spine_03", "spine_05": "spine_04", "neck_01": "spine_05", "head": "neck_01"}
    preset = next(p for p in M.load_presets() if p.name.startswith("Unreal"))
    got = M.match_preset(preset, ue5)
    assert (got["spine1"], got["spine2"], got["spine3"]) == ("spine_01", "spine_03", "spine_05")
    ue4 = {k: v for k, v in ue5.items() if k not in ("spine_04", "spine_05")} | {"neck_01": "spine_03"}
    got = M.match_preset(preset, ue4)
    assert (got["spine1"], got["spine2"], got["spine3"]) == ("spine_01", "spine_02", "spine_03")


def test_problems_name_missing_unknown_and_doubled_bones_and_json_round_trips(tmp_path):
    parents = mixamo_parents()
    m = M.detect(parents)
    bones = dict(m.bones)
    bones.pop("left_wrist")
    bones["right_elbow"] = "nope"
    bones["neck"] = bones["head"]
    bad = M.Mapping(bones=bones, source="user")
    text = "; ".join(M.problems(bad, parents, JOINT_NAMES))
    assert "no bone for left_wrist" in text and "'nope' (right_elbow)" in text and "used for two joints" in text
    path = M.save(m, tmp_path / "m.json")
    assert M.from_json(path.read_text()).bones == m.bones
    with pytest.raises(ValueError, match="not a JSON mapping"):
        M.from_json("{")
    with pytest.raises(ValueError, match="'bones'"):
        M.from_json(json.dumps({"x": 1}))


def _smplx():
    r = rest_skeleton("neutral")
    return RM.SmplxRest(names=tuple(JOINT_NAMES), parents=tuple(PARENTS), joints=r.joints, end_sites=r.end_sites)


def _random_rotations(n, rng):
    v = rng.normal(size=(n, 3))
    return Q.to_matrix(Q.from_axis_angle(v / np.linalg.norm(v, axis=1, keepdims=True) * rng.uniform(0, 3, (n, 1))))


def _rig_from_smplx(rng, drop=("spine2",)):
    """A rig with SMPL-X's joints but random bone rolls/axes, bent into an A-pose, in Z-up armature space."""
    sm = _smplx()
    joints = [j for j, n in enumerate(JOINT_NAMES) if n not in drop]
    zup = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])
    # pose the SMPL-X rest into an A-pose (arms 45 degrees down, fingers bent) to make the rig's rest
    poses = np.zeros((1, 55, 3))
    poses[0, JOINT_NAMES.index("left_shoulder")] = [0, 0, -0.8]
    poses[0, JOINT_NAMES.index("right_shoulder")] = [0, 0, 0.8]
    for n in JOINT_NAMES:
        if n[-1] in "123" and n.startswith(("left_", "right_")) and "thumb" not in n:
            poses[0, JOINT_NAMES.index(n)] = [0, 0, 0.3 if n.startswith("left") else -0.3]
    g = RM.fk_rotations(poses, PARENTS)[0]
    pos = np.zeros((55, 3))
    for j, p in enumerate(PARENTS):
        pos[j] = sm.joints[j] if p < 0 else pos[p] + g[p] @ (sm.joints[j] - sm.joints[p])
    tails = {}
    for j, n in enumerate(JOINT_NAMES):
        end = sm.end_sites.get(n, sm.joints[JOINT_NAMES.index(MAIN_CHILD[n])] if n in MAIN_CHILD else None)
        tails[j] = pos[j] + g[j] @ (end - sm.joints[j]) if end is not None else pos[j] + [0, 0.01, 0]
    rest = _random_rotations(len(joints), rng)
    slot = {j: s for s, j in enumerate(joints)}
    parent = []
    for j in joints:
        p = PARENTS[j]
        while p >= 0 and p not in slot:
            p = PARENTS[p]
        parent.append(slot.get(p, -1))
    return RM.RigRest(joints=tuple(joints), rest_rot=rest, heads=2.0 * pos[joints] @ zup.T,
                      tails=2.0 * np.array([tails[j] for j in joints]) @ zup.T, parent_slot=tuple(parent)), sm


def _fk_world(rig, q):
    """Blender's composition W_b = W_parent · K_b · Q_b, from the rig's rest and the keyed quaternions."""
    rest = RM.orthonormalize(rig.rest_rot)
    w = np.empty(q.shape[:2] + (3, 3))
    qm = Q.to_matrix(q)
    for b, m in enumerate(rig.parent_slot):
        w[:, b] = (rest[b] @ qm[:, b]) if m < 0 else w[:, m] @ rest[m].T @ rest[b] @ qm[:, b]
    return w


def test_keyed_rotations_reproduce_the_planned_world_orientations_and_invert():
    rng = np.random.default_rng(0)
    rig, sm = _rig_from_smplx(rng)
    plan = RM.make_plan(rig, sm)
    poses = rng.normal(0, 0.4, (6, 55, 3))
    q = RM.bone_quaternions(plan, poses)
    w = _fk_world(rig, q)
    assert np.allclose(w, RM.world_rotations(plan, poses), atol=1e-9)
    assert plan.size_ratio == pytest.approx(2.0, rel=1e-6)  # the rig is twice SMPL-X's size
    back = RM.poses_from_world(plan, w)
    assert np.allclose(RM.world_rotations(plan, back), w, atol=1e-8)
    trans = rng.normal(0, 0.1, (6, 3))
    loc = RM.root_locations(plan, trans)
    heads = plan.root_head + loc @ plan.rest_rot[plan.root_slot].T
    assert np.allclose(RM.trans_from_root(plan, heads), trans)


def test_rest_compensation_makes_segment_directions_match_smplx():
    rng = np.random.default_rng(1)
    rig, sm = _rig_from_smplx(rng, drop=())
    plan = RM.make_plan(rig, sm)
    poses = rng.normal(0, 0.4, (4, 55, 3))
    w = RM.world_rotations(plan, poses)
    g = RM.fk_rotations(poses, PARENTS)
    rest = RM.orthonormalize(rig.rest_rot)
    for s, j in enumerate(rig.joints):
        n = JOINT_NAMES[j]
        if n not in MAIN_CHILD or n == "pelvis":
            continue
        c = rig.joints.index(JOINT_NAMES.index(MAIN_CHILD[n]))
        local = rest[s].T @ (rig.heads[c] - rig.heads[s])  # the child's head in the bone's frame
        got = w[:, s] @ local
        want = (g[:, j] @ (sm.joints[JOINT_NAMES.index(MAIN_CHILD[n])] - sm.joints[j])) @ plan.S.T
        cos = np.sum(got * want, -1) / np.linalg.norm(got, axis=-1) / np.linalg.norm(want, axis=-1)
        assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 1e-4, n  # arccos near 1: ~1e-6 noise
