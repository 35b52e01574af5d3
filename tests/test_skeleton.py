import numpy as np
import pytest
import torch

from model_runtime import rotations as R
from model_runtime.errors import SignAvatarError
from model_runtime.skeleton import (GENDERS, JOINT_INDEX, JOINT_NAMES, NUM_JOINTS, PARENTS, SIGNING_JOINTS,
                                    end_site_positions, forward_kinematics, rest_skeleton)


def test_joint_table_is_smplx():
    assert len(JOINT_NAMES) == len(PARENTS) == NUM_JOINTS == 55
    assert JOINT_NAMES[0] == "pelvis" and PARENTS[0] == -1
    assert JOINT_NAMES[22] == "jaw" and JOINT_NAMES[25] == "left_index1" and JOINT_NAMES[40] == "right_index1"
    # each hand hangs off its wrist: 5 fingers x 3 joints chained
    for side in ("left", "right"):
        wrist = JOINT_INDEX[f"{side}_wrist"]
        for finger in ("index", "middle", "pinky", "ring", "thumb"):
            j1, j2, j3 = (JOINT_INDEX[f"{side}_{finger}{k}"] for k in (1, 2, 3))
            assert (PARENTS[j1], PARENTS[j2], PARENTS[j3]) == (wrist, j1, j2)
    assert "left_knee" not in SIGNING_JOINTS and "right_thumb3" in SIGNING_JOINTS and "jaw" in SIGNING_JOINTS


@pytest.mark.parametrize("gender", GENDERS)
def test_rest_skeleton_is_plausible(gender):
    rest = rest_skeleton(gender)
    J = rest.joints
    assert np.allclose(J[0], 0)  # pelvis at origin
    stature = rest.end_sites["head"][1] - rest.floor_y
    assert 1.5 < stature < 1.9
    # body's left on +X, facing +Z, Y up
    assert J[JOINT_INDEX["left_shoulder"], 0] > 0 > J[JOINT_INDEX["right_shoulder"], 0]
    assert J[JOINT_INDEX["left_eye_smplhf"], 2] > J[JOINT_INDEX["head"], 2]
    assert J[JOINT_INDEX["head"], 1] > J[JOINT_INDEX["neck"], 1] > J[JOINT_INDEX["spine3"], 1] > 0
    # T-pose: arm horizontal, fingers extend past the wrist along the arm
    lw, le = J[JOINT_INDEX["left_wrist"]], J[JOINT_INDEX["left_elbow"]]
    assert abs(lw[1] - le[1]) < 1e-9 and lw[0] > le[0]
    assert rest.end_sites["left_middle3"][0] > lw[0] + 0.12
    # thumb points forward, index in front of pinky
    assert rest.end_sites["left_thumb3"][2] > J[JOINT_INDEX["left_wrist"], 2] + 0.03
    assert J[JOINT_INDEX["left_index1"], 2] > J[JOINT_INDEX["left_pinky1"], 2]
    # left/right mirror images
    mirror = J.copy()
    mirror[:, 0] *= -1
    for i, n in enumerate(JOINT_NAMES):
        if n.startswith("left_"):
            assert np.allclose(mirror[i], J[JOINT_INDEX["right_" + n[5:]]])
    arm_span = rest.end_sites["left_middle3"][0] - rest.end_sites["right_middle3"][0]
    assert 0.98 < arm_span / stature < 1.08


def test_female_and_male_differ():
    f, m = rest_skeleton("female"), rest_skeleton("male")
    assert f.end_sites["head"][1] - f.floor_y < m.end_sites["head"][1] - m.floor_y
    with pytest.raises(SignAvatarError, match="unknown body"):
        rest_skeleton("giant")


def test_zero_pose_gives_rest():
    rest = rest_skeleton("neutral")
    out = forward_kinematics(torch.eye(3, dtype=torch.float64).expand(2, 55, 3, 3), rest.joints)
    assert torch.allclose(out.positions, torch.as_tensor(rest.joints).expand(2, 55, 3))
    tips = end_site_positions(out, rest, ["left_index3", "head"])
    assert torch.allclose(tips[0, 0], torch.as_tensor(rest.end_sites["left_index3"]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_bone_lengths_preserved_under_any_pose(dtype):
    rest = rest_skeleton("male")
    gen = torch.Generator().manual_seed(3)
    rotvec = torch.randn(4, 7, 55, 3, generator=gen, dtype=dtype) * 1.5  # leading dims (4, 7)
    trans = torch.randn(4, 7, 3, generator=gen, dtype=dtype)
    out = forward_kinematics(R.axis_angle_to_matrix(rotvec), rest.joints, trans)
    assert out.positions.shape == (4, 7, 55, 3) and out.rotations.shape == (4, 7, 55, 3, 3)
    parents = torch.tensor(PARENTS[1:])
    lengths = (out.positions[..., 1:, :] - out.positions[..., parents, :]).norm(dim=-1)
    expected = torch.as_tensor(rest.bone_lengths()[1:], dtype=dtype)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert (lengths - expected).abs().max() < tol
    assert torch.allclose(out.positions[..., 0, :], trans, atol=tol)


def test_known_rotation_moves_the_wrist():
    rest = rest_skeleton("neutral")
    rot = torch.zeros(55, 3, dtype=torch.float64)
    rot[JOINT_INDEX["left_shoulder"]] = torch.tensor([0, 0, -np.pi / 2], dtype=torch.float64)  # arm down
    out = forward_kinematics(R.axis_angle_to_matrix(rot), rest.joints)
    sh = rest.joints[JOINT_INDEX["left_shoulder"]]
    arm = np.linalg.norm(rest.joints[JOINT_INDEX["left_wrist"]] - sh)
    assert np.allclose(out.positions[JOINT_INDEX["left_wrist"]].numpy(), sh + [0, -arm, 0], atol=1e-12)


def test_fk_rejects_wrong_shape():
    with pytest.raises(ValueError, match="55, 3, 3"):
        forward_kinematics(torch.zeros(3, 52, 3, 3), rest_skeleton().joints)
