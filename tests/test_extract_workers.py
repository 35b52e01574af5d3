"""Landmark extraction split over worker processes: the same landmarks as one process, progress and
cancelling as before, short clips kept in one process."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import require_shared
from model_runtime.errors import SignAvatarError
from model_runtime.landmarks.extract_workers import WARM_FRAMES, plan_spans, shutdown, start, worker_pids
from model_runtime.landmarks.video import load_video

# Agreement of a stretch started inside the video with the single pass (normalised image units; a shoulder width
# is about 0.25): MediaPipe's tracking feeds each frame's landmarks into the next frame's crop, so the two passes
# do not converge to the same numbers however long the warm-up (15 or 30 frames agree alike on the shared webcam
# clips); they differ at the level of its frame-to-frame jitter, well under what re-encoding the same video moves
# the landmarks (median 0.02, see test_mirrored_recording_is_mirrored_back). Per part: (median, 95th percentile).
TOLERANCE = {"pose": (0.01, 0.04), "left_hand": (0.002, 0.04), "right_hand": (0.002, 0.04), "face": (0.001, 0.005),
             "pose_world": (0.01, 0.05)}


@pytest.mark.parametrize("total,n", [(45, 2), (89, 2), (3600, 2), (3600, 3), (1000, 7), (31, 2), (0, 2), (500, 1)])
def test_spans_cover_every_frame_once_and_cost_each_worker_the_same(total, n):
    spans = plan_spans(total, n)
    assert spans[0].first == 0 and spans[0].warm == 0 and spans[-1].stop is None
    for a, b in zip(spans, spans[1:]):
        assert b.first == a.stop and b.warm == WARM_FRAMES and b.first - b.warm >= 0
    if len(spans) > 1:
        runs = [(s.stop if s.stop is not None else total) - s.first + s.warm for s in spans]
        assert max(runs) - min(runs) <= n  # rounding only
        assert all((s.stop if s.stop is not None else total) - s.first >= WARM_FRAMES for s in spans[1:])
    if total < 3 * WARM_FRAMES - 1 or n == 1:
        assert len(spans) == 1  # too short to split


@pytest.fixture(scope="module")
def blood():
    return require_shared("videos", "aslcitizen_blood.mp4")  # 89 frames, 640x480 webcam, 3 s


@pytest.fixture(scope="module")
def single(blood):
    return load_video(blood, progress=False, workers=1)


def test_two_workers_give_the_landmarks_of_one_process(blood, single):
    calls = []
    par = load_video(blood, progress=lambda done, expected: calls.append((done, expected)), workers=2)
    assert par.meta["workers"] == 2 and single.meta["workers"] == 1 and len(worker_pids()) >= 2
    assert par.num_frames == single.num_frames == 89 and par.image_size == single.image_size
    assert calls == [(k, 89) for k in range(1, 90)]  # every frame reported once, in order
    cut = plan_spans(89, 2)[1].first
    upper = np.zeros(33, dtype=bool)
    upper[:23] = True  # the IK's body markers: face, shoulders, arms, hands (not hips and legs)
    seen_body = (single.meta["pose_visibility"][cut:] >= 0.5) & upper
    for name, (tol_median, tol_95) in TOLERANCE.items():
        a, b = getattr(single, name), getattr(par, name)
        np.testing.assert_array_equal(a[:cut], b[:cut])  # the first stretch is the single pass itself
        seen_a, seen_b = np.isfinite(a[cut:]).all(axis=(1, 2)), np.isfinite(b[cut:]).all(axis=(1, 2))
        assert (seen_a != seen_b).sum() <= 2, name  # the same frames detected, but for a blurred hand or two
        d = np.abs(a[cut:, :, :2] - b[cut:, :, :2]).max(-1)  # (frames, points)
        d = d[seen_body] if name.startswith("pose") else d[seen_a & seen_b].ravel()
        assert np.median(d) < tol_median and np.percentile(d, 95) < tol_95, (name, np.median(d), np.percentile(d, 95))


def test_cancelling_stops_the_workers_and_the_next_video_still_reads(blood, single):
    class Stop(Exception):
        pass

    def stop_at_50(done, expected):
        if done == 50:
            raise Stop()

    with pytest.raises(Stop):
        load_video(blood, progress=stop_at_50, workers=2)
    assert worker_pids() == []  # stopped, not left running
    again = load_video(blood, progress=False, workers=2, max_frames=70)
    assert again.num_frames == 70 and again.meta["workers"] == 2
    np.testing.assert_array_equal(again.pose[:30], single.pose[:30])


def test_a_short_clip_runs_in_one_process():
    seq = load_video(require_shared("videos", "pose_soup.mp4"), progress=False, workers=2)  # 41 frames
    assert seq.meta["workers"] == 1 and seq.num_frames == 41


def test_bad_worker_counts_are_refused(blood):
    for bad in (0, -1, 1.5):
        with pytest.raises(SignAvatarError, match="workers must be a positive whole number"):
            load_video(blood, workers=bad)


def test_workers_that_cannot_start_leave_the_video_to_this_process(blood, single, monkeypatch, capsys):
    from model_runtime.landmarks import extract_workers

    shutdown()
    monkeypatch.setattr(extract_workers, "_BOOT", "import sys; sys.exit(3)")
    seq = load_video(blood, progress=False, workers=2, max_frames=50)
    assert seq.meta["workers"] == 1 and seq.num_frames == 50
    np.testing.assert_array_equal(seq.pose, single.pose[:50])
    assert "landmark worker process could not start" in capsys.readouterr().err


def test_workers_start_when_the_runtime_is_a_subpackage(tmp_path, blood, single):
    """Inside Blender ``model_runtime`` is ``bl_ext.<repo>.signavatar.model_runtime``, a name a child process
    cannot import: the workers must still start, on the extension's own copy."""
    ext = tmp_path / "bl_ext_fake" / "signavatar"
    ext.mkdir(parents=True)
    (tmp_path / "bl_ext_fake" / "__init__.py").write_text("")
    (ext / "__init__.py").write_text("")
    runtime = Path(__file__).resolve().parents[1] / "model_runtime"
    shutil.copytree(runtime, ext / "model_runtime", ignore=shutil.ignore_patterns("__pycache__", "checkpoints"))
    out = tmp_path / "pose.npy"
    code = ("import sys, numpy as np; sys.path.insert(0, %r)\n"
            "from bl_ext_fake.signavatar.model_runtime.landmarks.video import load_video\n"
            "seq = load_video(%r, progress=False, workers=2, max_frames=60)\n"
            "assert seq.meta['workers'] == 2 and 'model_runtime' not in sys.modules\n"
            "np.save(%r, seq.pose)\n" % (str(tmp_path), str(blood), str(out)))
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and "could not start" not in r.stderr, r.stderr[-2000:]
    pose = np.load(out)
    cut = plan_spans(60, 2)[1].first
    np.testing.assert_array_equal(pose[:cut], single.pose[:cut])


def test_by_default_a_short_clip_starts_no_workers_but_uses_running_ones(blood, single, monkeypatch):
    from model_runtime.landmarks import video

    monkeypatch.setattr(video, "default_workers", lambda: 2)
    shutdown()
    first = load_video(blood, progress=False, max_frames=50)  # under START_WORKERS_FRAMES: not worth starting
    assert first.meta["workers"] == 1 and worker_pids() == []
    np.testing.assert_array_equal(first.pose, single.pose[:50])
    start(2)
    again = load_video(blood, progress=False, max_frames=50)
    assert again.meta["workers"] == 2


def teardown_module():
    shutdown()
