"""Video -> landmarks with MediaPipe Holistic on a real shared video, and every bad input refused clearly."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

from conftest import require_shared
from model_runtime.errors import SignAvatarError
from model_runtime.landmarks.handedness import dominance
from model_runtime.landmarks.video import load_video
from video_frames import read_frames





def _write(path, frames, fps=29.97):
    h, w = frames[0].shape[:2]
    wr = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        wr.write(f)
    wr.release()
    return path


@pytest.fixture(scope="module")
def soup_path():
    return require_shared("videos", "pose_soup.mp4")  # 41 frames, 320x240, SOUP (two-handed, right dominant)


@pytest.fixture(scope="module")
def soup(soup_path):
    return load_video(soup_path, progress=False)


def _median_x(hand):
    x = hand[:, 0, 0]
    return float(np.nanmedian(x))


def test_real_video_gives_landmarks_of_the_signer(soup):
    assert soup.num_frames == 41 and soup.fps == pytest.approx(29.97, abs=0.01)
    assert soup.image_size == (320, 240)
    assert soup.meta["pose_detected"] > 0.9 and soup.meta["extract_fps"] > 0
    assert soup.hand_present().any(axis=0).all()  # both hands seen
    assert soup.pose_world is not None and np.isfinite(soup.pose_world).any()
    assert soup.meta["pose_visibility"].shape == (41, 33)


def test_left_hand_is_the_signers_left_on_a_real_video(soup):
    # unmirrored camera: the signer's left hand appears on the image right
    assert _median_x(soup.left_hand) > _median_x(soup.right_hand)
    assert not soup.hands_swapped and soup.meta["hand_wrist_gap"] < 0.3
    # SOUP: the right (dominant) hand scoops from the left palm
    assert dominance(soup) > 0.3


def test_mirrored_recording_is_mirrored_back(tmp_path, soup, soup_path):
    flipped = _write(tmp_path / "selfie.mp4", [cv2.flip(f, 1) for f in read_frames(soup_path)])
    as_is = load_video(flipped, progress=False)
    assert dominance(as_is) < -0.3  # looks like a left-handed signer
    back = load_video(flipped, mirrored=True, progress=False)
    assert back.meta["mirrored"] and back.hands_swapped
    assert dominance(back) > 0.3
    both = np.isfinite(back.left_hand[:, 0, 0]) & np.isfinite(soup.left_hand[:, 0, 0])
    err = np.abs(back.left_hand[both, :, :2] - soup.left_hand[both, :, :2])
    assert both.sum() > 20 and np.median(err) < 0.02  # the same hand, re-encoded and detected again


def _rotate_tkhd(path, degrees_cw: int):
    """Write a display-rotation matrix into the mp4 track header (what phones do)."""
    b = bytearray(path.read_bytes())
    i = b.find(b"tkhd")
    off = i + 4 + (40 if b[i + 4] == 0 else 52)
    one = 0x10000
    m = {90: (0, one, 0, -one, 0, 0, 0, 0, 0x40000000)}[degrees_cw]
    b[off:off + 36] = struct.pack(">9i", *m)
    path.write_bytes(bytes(b))
    return path


def test_phone_rotation_metadata_is_applied(tmp_path, soup, soup_path):
    sideways = [cv2.rotate(f, cv2.ROTATE_90_COUNTERCLOCKWISE) for f in read_frames(soup_path)]
    path = _rotate_tkhd(_write(tmp_path / "phone.mp4", sideways), 90)
    seq = load_video(path, progress=False)
    assert seq.image_size == (320, 240) and seq.meta["orientation_meta"] == 90 and seq.meta["rotation"] == 0
    np.testing.assert_allclose(np.nanmedian(seq.pose[:, 11:17, :2], axis=0),
                               np.nanmedian(soup.pose[:, 11:17, :2], axis=0), atol=0.03)


def test_sideways_video_without_metadata_is_turned_upright(tmp_path, soup, soup_path):
    sideways = [cv2.rotate(f, cv2.ROTATE_90_CLOCKWISE) for f in read_frames(soup_path)]
    seq = load_video(_write(tmp_path / "sideways.mp4", sideways), progress=False)
    assert seq.meta["rotation"] == 270 and seq.image_size == (320, 240)
    assert _median_x(seq.left_hand) > _median_x(seq.right_hand)
    np.testing.assert_allclose(np.nanmedian(seq.pose[:, 11:17, :2], axis=0),
                               np.nanmedian(soup.pose[:, 11:17, :2], axis=0), atol=0.03)


def test_missing_empty_and_corrupt_videos_are_refused(tmp_path):
    with pytest.raises(SignAvatarError, match="video not found"):
        load_video(tmp_path / "nope.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(SignAvatarError, match=r"empty \(0 bytes\)"):
        load_video(tmp_path / "empty.mp4")
    (tmp_path / "corrupt.mp4").write_bytes(np.random.default_rng(0).bytes(20000))
    with pytest.raises(SignAvatarError, match="corrupt|no video frames"):
        load_video(tmp_path / "corrupt.mp4", progress=False)
    wr = cv2.VideoWriter(str(tmp_path / "noframes.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 64))
    wr.release()
    with pytest.raises(SignAvatarError, match="corrupt|no video frames"):
        load_video(tmp_path / "noframes.mp4", progress=False)
    with pytest.raises(SignAvatarError, match="not a file"):
        load_video(tmp_path)


def test_truncated_real_video_is_refused(tmp_path, soup_path):
    data = soup_path.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 3])  # the index (moov) is at the end of this file
    with pytest.raises(SignAvatarError, match="cut.mp4: OpenCV cannot open this video .*re-encode"):
        load_video(tmp_path / "cut.mp4", progress=False)


def test_video_without_a_person_is_refused(tmp_path):
    rng = np.random.default_rng(1)
    frames = []
    for t in range(12):
        f = np.full((120, 160, 3), 40, dtype=np.uint8)
        cv2.rectangle(f, (10 + 5 * t, 30), (50 + 5 * t, 80), (0, 200, 255), -1)
        cv2.circle(f, (120, 60 + t), 15, (255, 255, 255), -1)
        frames.append(np.clip(f + rng.integers(0, 20, f.shape, dtype=np.uint8), 0, 255).astype(np.uint8))
    with pytest.raises(SignAvatarError, match="no person detected in any of its 12 frames"):
        load_video(_write(tmp_path / "shapes.mp4", frames), progress=False)


def test_60fps_video_is_read_at_30fps():
    seq = load_video(require_shared("videos", "asllvd_chest.mp4"), progress=False)  # 57 frames at 60 fps
    assert seq.meta["frame_step"] == 2 and seq.meta["source_fps"] == pytest.approx(60.0)
    assert seq.fps == pytest.approx(30.0) and seq.num_frames == 29
    assert seq.hand_present().mean() > 0.8
    with pytest.raises(SignAvatarError, match="frame_step"):
        load_video(require_shared("videos", "asllvd_chest.mp4"), frame_step=0)


def test_progress_callback_counts_every_processed_frame_and_can_stop_the_extraction(soup_path):
    calls = []
    seq = load_video(soup_path, progress=lambda done, expected: calls.append((done, expected)))
    assert calls == [(k, 41) for k in range(1, seq.num_frames + 1)]  # the soup clip is upright: one pass

    class Stop(Exception):
        pass

    def stop_at_5(done, expected):
        if done == 5:
            raise Stop()

    with pytest.raises(Stop):
        load_video(soup_path, progress=stop_at_5)
