"""Inverse kinematics on synthetic landmarks: a known pose -> FK -> MediaPipe-like landmarks -> IK.

Stated tolerances (mean over 40 frames of a two-handed signing motion, exact landmarks):
world orientation of upper arms, forearms and hands within 8 degrees, finger segments
within 12 degrees, elbow flexion and forearm twist within 8 degrees, re-projection below
1.5 % (body) and 2 % (hands) of the shoulder width. The torso's forward lean is not
observable without hips (a prior keeps it upright), so it is held to 15 degrees.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ik_synth import geodesic_deg, landmarks_from_theta, signing_theta
from model_runtime import rotations as rot
from model_runtime.errors import SignAvatarError
from model_runtime.ik import IKConfig, solve, solve_batch
from model_runtime.ik.decompose import theta_from_local
from model_runtime.ik.kinematics import Kinematics, full_local_rotations
from model_runtime.ik.limits import clamp_shoulder, dof_model, limit_excess, shoulder_excess
from model_runtime.landmarks.sequence import LandmarkSequence
from model_runtime.skeleton import JOINT_INDEX, JOINT_NAMES, forward_kinematics, rest_skeleton

torch.set_num_threads(1)
J = JOINT_INDEX
POSE_PAIRS = ((1, 4), (2, 5), (3, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16), (17, 18), (19, 20), (21, 22),
              (23, 24), (25, 26), (27, 28), (29, 30), (31, 32))


def _global(poses_or_R):
    rest = rest_skeleton()
    R = poses_or_R
    if R.shape[-1] == 3 and R.ndim == 3:
        R = rot.axis_angle_to_matrix(torch.as_tensor(R, dtype=torch.float64)).numpy()
    return forward_kinematics(torch.as_tensor(R), torch.as_tensor(rest.joints)).rotations.numpy()


@pytest.fixture(scope="module")
def truth():
    return signing_theta(40)


@pytest.fixture(scope="module", params=[1e4, 1.5], ids=["far-camera", "near-camera"])
def solved(request, truth):
    seq = landmarks_from_theta(truth, focal=request.param)
    return seq, solve(seq)


def test_dof_round_trip():
    """Anatomical angles -> local rotations -> angles is exact inside the limits."""
    m = dof_model()
    rng = np.random.default_rng(0)
    lo = np.where(m.free, -1.2, m.lo)
    hi = np.where(m.free, 1.2, m.hi)
    th = rng.uniform(lo, hi, size=(64, m.size))
    R = full_local_rotations(torch.as_tensor(th), m).numpy()
    assert np.abs(theta_from_local(R, m) - th).max() < 1e-9


def test_batched_fk_matches_skeleton_fk():
    rest, m = rest_skeleton(), dof_model()
    th = torch.as_tensor(np.random.default_rng(1).normal(0, 0.5, size=(8, m.size)))
    kin = Kinematics(rest, m, dtype=torch.float64)
    pos, glob = kin(th)
    fk = forward_kinematics(full_local_rotations(th, m), torch.as_tensor(rest.joints))
    assert torch.allclose(pos, fk.positions[:, kin.joints], atol=1e-10)
    assert torch.allclose(glob, fk.rotations[:, kin.joints], atol=1e-10)


def test_recovers_synthetic_pose(solved, truth):
    seq, res = solved
    m = dof_model()
    q = res.quality
    assert res.motion.poses.shape == (40, 55, 3) and np.isfinite(res.motion.poses).all()
    assert res.valid.all() and res.hand_valid.all()
    assert q["reproj_body"] < 0.015 and q["reproj_hand"] < 0.02, q
    G_true = _global(full_local_rotations(torch.as_tensor(truth), m).numpy())
    G_est = _global(res.motion.poses)
    err = geodesic_deg(G_true, G_est).mean(axis=0)
    for side in ("left", "right"):
        for j in ("shoulder", "elbow", "wrist"):
            assert err[J[f"{side}_{j}"]] < 8.0, (side, j, err[J[f"{side}_{j}"]])
        for f in ("index", "middle", "ring", "pinky", "thumb"):
            for k in (1, 2, 3):
                assert err[J[f"{side}_{f}{k}"]] < 12.0, (f"{side}_{f}{k}", err[J[f"{side}_{f}{k}"]])
        for name in (f"{side}_elbow_flex", f"{side}_forearm_twist"):
            d = np.degrees(np.abs(res.theta[:, m.index[name]] - truth[:, m.index[name]])).mean()
            assert d < 8.0, (name, d)
    assert err[J["spine3"]] < 15.0 and err[J["head"]] < 8.0


def test_forearm_twist_is_not_mistaken_for_shoulder_rotation(solved, truth):
    """The palm turns with the forearm (pronation/supination sweeps +-60 degrees in the truth):
    the recovered twist follows it frame by frame."""
    _, res = solved
    m = dof_model()
    for side in ("left", "right"):
        i = m.index[f"{side}_forearm_twist"]
        corr = np.corrcoef(res.theta[:, i], truth[:, i])[0, 1]
        assert corr > 0.95, (side, corr)


def _mirror(seq: LandmarkSequence) -> LandmarkSequence:
    """What the camera would see of the mirror-image signer (x -> 1 - x, left <-> right)."""
    perm = list(range(33))
    for a, b in POSE_PAIRS:
        perm[a], perm[b] = b, a

    def flip(a):
        a = a.copy()
        a[..., 0] = 1.0 - a[..., 0]
        return a

    return LandmarkSequence(pose=flip(seq.pose)[:, perm], left_hand=flip(seq.right_hand),
                            right_hand=flip(seq.left_hand), face=seq.face, fps=seq.fps,
                            image_size=seq.image_size, source="mirrored")


def _mirror_poses(poses: np.ndarray) -> np.ndarray:
    out = np.empty_like(poses)
    for j, n in enumerate(JOINT_NAMES):
        partner = n.replace("left", "@").replace("right", "left").replace("@", "right")
        out[:, J[partner]] = poses[:, j] * np.array([1.0, -1.0, -1.0])
    return out


def test_mirrored_landmarks_give_the_mirrored_motion(truth):
    """A mirrored recording must not swap or twist the hands: IK(mirror) == mirror(IK)."""
    seq = landmarks_from_theta(truth[::2], focal=1e4)
    a = solve(seq, config=IKConfig(smooth=False)).motion.poses
    b = solve(_mirror(seq), config=IKConfig(smooth=False)).motion.poses
    Ra = rot.axis_angle_to_matrix(torch.as_tensor(_mirror_poses(a), dtype=torch.float64)).numpy()
    Rb = rot.axis_angle_to_matrix(torch.as_tensor(b, dtype=torch.float64)).numpy()
    err = geodesic_deg(_global_from_R(Ra), _global_from_R(Rb)).mean(axis=0)
    for name in ("left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_index3", "right_thumb3"):
        assert err[J[name]] < 5.0, (name, err[J[name]])
    # and the left hand of the mirrored clip is where the right hand was, on the other side of the body
    assert np.all(b[:, J["left_wrist"]] != 0)


def _global_from_R(R):
    rest = rest_skeleton()
    return forward_kinematics(torch.as_tensor(R), torch.as_tensor(rest.joints)).rotations.numpy()


def test_missing_hand_gaps_are_filled(truth):
    seq = landmarks_from_theta(truth, focal=1e4)
    rh = seq.right_hand.copy()
    rh[10:15] = np.nan  # 5 frames = 0.17 s: interpolated
    rh[25:] = np.nan  # lost for good: eases to a relaxed hand
    seq = LandmarkSequence(pose=seq.pose, left_hand=seq.left_hand, right_hand=rh, face=seq.face, fps=30.0,
                           image_size=seq.image_size)
    res = solve(seq)
    m = dof_model()
    assert np.isfinite(res.motion.poses).all()
    assert not res.hand_valid[10:15, 1].any() and not res.hand_valid[25:, 1].any() and res.hand_valid[:10, 1].all()
    i = m.index["right_middle2_flex"]
    assert np.degrees(np.abs(res.theta[10:15, i] - truth[10:15, i])).max() < 15.0
    relaxed = np.deg2rad(30.0)  # the relaxed hand's middle PIP
    assert abs(res.theta[-1, i] - relaxed) < np.deg2rad(3.0)
    assert res.hand_valid[:, 0].all()


def test_body_lost_in_some_frames_is_interpolated(truth):
    seq = landmarks_from_theta(truth, focal=1e4)
    pose = seq.pose.copy()
    pose[18:22] = np.nan
    seq = LandmarkSequence(pose=pose, left_hand=seq.left_hand, right_hand=seq.right_hand, face=seq.face, fps=30.0,
                           image_size=seq.image_size)
    res = solve(seq)
    assert not res.valid[18:22].any() and res.valid[:18].all()
    assert np.isfinite(res.motion.poses).all() and np.isfinite(res.motion.trans).all()


def test_nan_only_landmarks_are_refused():
    T = 5
    nan = lambda n: np.full((T, n, 3), np.nan)  # noqa: E731
    seq = LandmarkSequence(pose=nan(33), left_hand=nan(21), right_hand=nan(21), face=nan(40), fps=30.0,
                           source="empty.parquet")
    with pytest.raises(SignAvatarError, match="empty.parquet.*shoulders"):
        solve(seq)


def test_unknown_body_is_refused(truth):
    with pytest.raises(SignAvatarError, match="giant"):
        solve(landmarks_from_theta(truth[:4]), gender="giant")


def test_output_respects_joint_limits(truth):
    """Landmarks of an impossible pose (elbows and fingers bent backwards, arms reaching far
    behind the back) still give a pose inside every anatomical limit."""
    m = dof_model()
    bad = truth.copy()
    for side, sgn in (("left", 1.0), ("right", -1.0)):
        bad[:, m.index[f"{side}_elbow_flex"]] = np.deg2rad(-35.0)
        bad[:, m.index[f"{side}_index2_flex"]] = np.deg2rad(-40.0)
        bad[:, m.index[f"{side}_shoulder_ry"]] = sgn * np.deg2rad(80.0)  # upper arm swung far back
    res = solve(landmarks_from_theta(bad, focal=1e4))
    assert res.quality["limit_violation_frac"] == 0.0
    assert limit_excess(res.theta, m).max() < 1e-9
    for side in ("left", "right"):
        cols = [m.index[f"{side}_shoulder_r{k}"] for k in "xyz"]
        assert shoulder_excess(res.theta[:, cols], side).max() < 1e-6


def test_shoulder_clamp_moves_only_what_is_out_of_range():
    from scipy.spatial.transform import Rotation

    rv = np.random.default_rng(0).normal(0, 1.2, size=(500, 3))
    for side in ("left", "right"):
        c = clamp_shoulder(rv, side)
        assert shoulder_excess(c, side).max() < 1e-6
        ok = shoulder_excess(rv, side) == 0
        same = Rotation.from_rotvec(rv[ok]).inv() * Rotation.from_rotvec(c[ok])
        assert np.degrees(same.magnitude()).max() < 1e-6


def test_smoothing_reduces_jitter_and_keeps_the_motion(truth):
    seq = landmarks_from_theta(truth, focal=1e4, noise_px=3.0, seed=2)
    res = solve(seq)
    q = res.quality
    assert q["jerk_smooth"] < 0.5 * q["jerk_raw"], q
    m = dof_model()
    i = m.index["left_elbow_flex"]
    assert np.degrees(np.abs(res.theta[:, i] - truth[:, i])).mean() < 8.0


def test_batch_equals_single(truth):
    a = landmarks_from_theta(truth[:20], focal=1e4)
    b = landmarks_from_theta(truth[20:], focal=1.5)
    single = [solve(a).motion.poses, solve(b).motion.poses]
    batch = [r.motion.poses for r in solve_batch([a, b])]
    for s, t in zip(single, batch):
        assert np.abs(s - t).max() < 1e-4


def test_jaw_opens_with_the_lips(truth):
    seq = landmarks_from_theta(truth[:6], focal=1e4)
    face = np.full((6, 40, 3), np.nan)
    mouth_l, mouth_r = seq.pose[:, 9], seq.pose[:, 10]
    width = np.linalg.norm((mouth_l - mouth_r)[:, :2], axis=-1)
    centre = (mouth_l + mouth_r) / 2
    face[:, 0], face[:, 6] = mouth_r, mouth_l  # FaceMesh 61 (signer's right corner), 291
    for rows in (14, 18):  # inner upper lip (FaceMesh 13), inner lower lip (14)
        face[:, rows] = centre
    face[:3, 18, 1] += 0.6 * width[:3]  # mouth open in the first three frames
    face[3:, 18, 1] += 0.02 * width[3:]
    face[:, [30, 34]] = seq.pose[:, [5, 2]]  # eye corners, so the head reads the face
    seq = LandmarkSequence(pose=seq.pose, left_hand=seq.left_hand, right_hand=seq.right_hand, face=face, fps=30.0,
                           image_size=seq.image_size)
    jaw = solve(seq, config=IKConfig(smooth=False)).motion.poses[:, J["jaw"]]
    assert np.all(jaw[:3, 0] > np.deg2rad(8)) and np.all(np.abs(jaw[3:, 0]) < np.deg2rad(1))
    assert np.abs(jaw[:, 1:]).max() < 1e-6


def test_preview_files(tmp_path, truth):
    from PIL import Image

    from model_runtime.ik.preview import write_preview

    seq = landmarks_from_theta(truth[:12], focal=1e4)
    res = solve(seq)
    png = write_preview(seq, res, tmp_path / "p.png", n_frames=3)
    gif = write_preview(seq, res, tmp_path / "p.gif")
    im = np.asarray(Image.open(png).convert("RGB"))
    assert im.shape[1] > im.shape[0] / 2 and (im < 200).any()
    with Image.open(gif) as g:
        assert g.n_frames == 12
    with pytest.raises(SignAvatarError, match=".png or .gif"):
        write_preview(seq, res, tmp_path / "p.jpg")
