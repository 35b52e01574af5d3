"""A real video where the signer is lost: empty lead-in and tail trimmed, a gap bridged and reported, two frames
of another person dropped; ``data motion`` writes only the signer's seconds and says what it did."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conftest import require_shared
from model_runtime.cli import main
from model_runtime.landmarks.signer_track import clean_signer
from model_runtime.landmarks.video import load_video
from model_runtime.motion import SignMotion
from video_frames import read_frames

SIZE = (368, 207)
LEAD, TAIL = 12, 15  # empty frames before and after the sign (0.4 s, 0.5 s)
GAP = range(45, 65)  # frames of the sign replaced by the empty background (0.67 s)
OTHER = range(20, 22)  # frames of the sign replaced by another person, small at the lower left




@pytest.fixture(scope="module")
def lost_video(tmp_path_factory):
    """DEAF (108 frames at 29.97 fps) at half size with the holes above: 135 frames, 4.5 s."""
    main_frames = read_frames(require_shared("videos", "startasl_deaf.mp4"), SIZE)
    other = read_frames(require_shared("videos", "lifeprint_help.mp4"), (SIZE[0] // 2, SIZE[1] // 2))
    empty = np.full((SIZE[1], SIZE[0], 3), (96, 100, 92), np.uint8)
    frames = [empty] * LEAD
    for i, f in enumerate(main_frames):
        if i in GAP:
            f = empty
        elif i in OTHER:
            f = empty.copy()
            f[SIZE[1] - other[0].shape[0]:, :other[0].shape[1]] = other[30 + i]
        frames.append(f)
    frames += [empty] * TAIL
    path = tmp_path_factory.mktemp("lost") / "lost.mp4"
    wr = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 29.97, SIZE)
    for f in frames:
        wr.write(f)
    wr.release()
    return path


@pytest.fixture(scope="module")
def seq(lost_video):
    return load_video(lost_video, progress=False, workers=1)


def test_lost_signer_is_trimmed_bridged_rejected_and_reported(seq):
    out, track = clean_signer(seq)
    assert seq.num_frames == 135
    assert abs(track.start - LEAD) <= 2 and abs((135 - track.stop) - TAIL) <= 2
    assert out.num_frames == track.stop - track.start
    other = {LEAD + i for i in OTHER}
    assert other <= set(np.nonzero(track.rejected)[0]) and track.rejected.sum() <= len(other) + 2
    [long_gap] = track.long_gaps
    assert abs(long_gap[0] - (LEAD + GAP.start) / 29.97) < 0.1 and abs(long_gap[1] - (LEAD + GAP.stop) / 29.97) < 0.1
    text = track.summary()
    assert text.startswith(f"{track.kept_s:.1f} s with the signer") and "trimmed 0.4 s at the start" in text
    assert "(signer lost 1.9\u20132.6 s)" in text and "implausible detection" in text
    assert np.isnan(out.pose[[i - track.start for i in other]]).all()  # the other person is not kept


def test_data_motion_writes_only_the_signer_and_says_so(lost_video, seq, tmp_path, capsys, monkeypatch):
    from model_runtime.landmarks import sources

    monkeypatch.setattr(sources.ClipRef, "load", lambda self, **kw: seq)  # landmarks read once (fixture)
    rc = main(["data", "motion", str(lost_video), "-o", str(tmp_path / "deaf.npz"), "--gloss", "DEAF"])
    printed = capsys.readouterr().out
    assert rc == 0
    motion = SignMotion.load(tmp_path / "deaf.npz")
    _, track = clean_signer(seq)
    assert motion.num_frames == track.kept_frames and motion.gloss == "DEAF"
    assert f"{track.kept_s:.1f} s ({track.kept_frames} frames at 29.97 fps) written to" in printed
    assert "trimmed 0.4 s at the start" in printed and "signer lost 1.9\u20132.6 s" in printed
    # never keyed as garbage: the body does not jump where the other person was
    k = LEAD + OTHER.start - track.start
    jump = np.abs(np.diff(motion.trans[k - 3:k + 5], axis=0)).max()
    assert np.isfinite(motion.poses).all() and jump < 0.05


def test_data_motion_refuses_bad_input_with_one_error_line(tmp_path, capsys):
    (tmp_path / "v.mp4").write_bytes(b"")
    for argv, msg in ((["data", "motion", str(tmp_path / "v.mp4"), "-o", str(tmp_path / "x.bvh")], "-o must name a .npz"),
                      (["data", "motion", str(tmp_path / "v.mp4"), "-o", str(tmp_path / "x.npz")], "empty (0 bytes)"),
                      (["data", "motion", str(tmp_path / "none.mp4"), "-o", str(tmp_path / "x.npz")], "not found")):
        rc = main(argv)
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1 and err[0].startswith("error: ") and msg in err[0], err
    assert not (tmp_path / "x.npz").exists()
