"""Lost signer: trimmed at the ends, bridged inside and reported, implausible bodies rejected (no MediaPipe here)."""

from __future__ import annotations

import numpy as np
import pytest

from model_runtime.errors import SignAvatarError
from model_runtime.landmarks.sequence import LandmarkSequence
from model_runtime.landmarks.signer_track import TrackConfig, clean_signer, track_signer


def _signer(T=90, fps=30.0, seed=0):
    """A signer at the image centre (shoulders 0.3 of the width apart) with a little sway and jitter."""
    rng = np.random.default_rng(seed)
    pose = np.full((T, 33, 3), 0.5, dtype=np.float32)
    t = np.arange(T) / fps
    sway = 0.01 * np.sin(2 * np.pi * 0.5 * t)
    pose[:, 11, 0], pose[:, 12, 0] = 0.65 + sway, 0.35 + sway
    pose[:, 11, 1] = pose[:, 12, 1] = 0.6
    pose[:, 15, :2] = np.stack([0.6 + 0.1 * np.sin(2 * np.pi * t), 0.5 + 0.0 * t], -1)
    pose += rng.normal(0, 0.002, pose.shape).astype(np.float32)
    hand = np.repeat(pose[:, 15:16], 21, axis=1) + rng.normal(0, 0.01, (T, 21, 3)).astype(np.float32)
    return LandmarkSequence(pose=pose, left_hand=hand, right_hand=hand.copy(), face=np.zeros((T, 40, 3)), fps=fps,
                            image_size=(640, 480), pose_world=np.zeros((T, 33, 3)),
                            meta={"pose_visibility": np.ones((T, 33), dtype=np.float32)})


def _lose(seq, frames):
    for a in (seq.pose, seq.left_hand, seq.right_hand, seq.face, seq.pose_world):
        a[frames] = np.nan
    return seq


def test_signer_in_every_frame_is_left_alone():
    seq = _signer()
    out, track = clean_signer(seq)
    assert (track.start, track.stop, track.gaps) == (0, 90, []) and not track.rejected.any()
    np.testing.assert_array_equal(out.pose, seq.pose)
    assert track.summary() == "3.0 s with the signer (90 frames)"


def test_lead_in_and_tail_without_the_signer_are_trimmed_and_gaps_are_bridged_and_reported():
    seq = _lose(_signer(T=120), np.r_[0:15, 40:46, 70:95, 105:120])
    out, track = clean_signer(seq)
    assert (track.start, track.stop) == (15, 105) and out.num_frames == 90
    assert track.gaps == [(40, 46), (70, 95)] and track.bridged_frames == 31
    assert track.long_gaps == [pytest.approx((70 / 30, 95 / 30))]  # 0.83 s: over the 0.5 s bridged quietly
    assert track.trimmed_start_s == pytest.approx(0.5) and track.trimmed_end_s == pytest.approx(0.5)
    assert out.meta["signer_lost"].shape == (90,) and out.meta["signer_lost"].sum() == 31
    assert out.meta["pose_visibility"].shape == (90, 33)
    assert track.summary() == ("3.0 s with the signer (90 frames); trimmed 0.5 s at the start and 0.5 s at the end "
                               "without the signer; bridged 1.0 s in 2 gaps (signer lost 2.3\u20133.2 s)")
    assert out.meta["signer_track"]["bridged_frames"] == 31


def test_a_different_body_for_a_few_frames_is_rejected_not_kept():
    seq = _signer()
    seq.pose[50:54, 11, :2] = (0.15, 0.5)  # someone small at the left edge, for 4 frames
    seq.pose[50:54, 12, :2] = (0.05, 0.5)
    seq.pose[20, [11, 12], 0] = (0.95, 0.85)  # one garbage frame far to the right
    out, track = clean_signer(seq)
    assert np.nonzero(track.rejected)[0].tolist() == [20, 50, 51, 52, 53]
    assert np.isnan(out.pose[[20, 50, 53]]).all() and np.isnan(out.left_hand[50]).all()
    assert np.isnan(out.meta["pose_visibility"][50]).all()
    assert track.gaps == [(20, 21), (50, 54)]
    assert "5 implausible detections (another body?) dropped" in track.summary()
    assert np.isfinite(seq.pose[50]).all()  # the input is not changed


def test_a_size_jump_is_rejected_but_slow_drift_and_real_movement_are_kept():
    seq = _signer()
    seq.pose[:, [11, 12], 0] += np.linspace(0, 0.2, 90)[:, None]  # the signer walks slowly to the right
    assert not track_signer(seq).rejected.any()
    seq.pose[60:63, 11, 0] = seq.pose[60:63, 12, 0] + 0.6  # shoulders twice as wide: someone close to the camera
    assert np.nonzero(track_signer(seq).rejected)[0].tolist() == [60, 61, 62]


def test_an_isolated_flicker_between_long_losses_is_not_trusted():
    seq = _lose(_signer(T=120), np.r_[30:59, 61:90])  # two frames at 59-60 between two 1 s losses
    track = track_signer(seq)
    assert track.rejected[59:61].all() and track.gaps == [(30, 90)]
    assert track.long_gaps == [pytest.approx((1.0, 3.0))]


def test_nobody_at_all_is_refused_with_a_clear_message():
    seq = _lose(_signer(T=10), np.r_[0:10])
    with pytest.raises(SignAvatarError, match="the signer is never found in its 10 frames"):
        clean_signer(seq)


def test_thresholds_are_configurable():
    seq = _lose(_signer(T=120), np.r_[40:60])
    assert track_signer(seq).long_gaps and not track_signer(seq, TrackConfig(bridge_s=1.0)).long_gaps
