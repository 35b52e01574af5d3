"""Inverse kinematics on real landmarks from ../shared (skipped without it, failing under CI).

Small fixed samples of each source; the thresholds are what a user would call broken
(the README's table has the figures over larger samples).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import require_shared
from model_runtime.ik import IKConfig, solve, solve_batch
from model_runtime.ik.camera import look_point, project
from model_runtime.skeleton import JOINT_INDEX, rest_skeleton

torch.set_num_threads(1)


def _refs(spec_parts, n, seed=0):
    from model_runtime.landmarks.sources import iter_clips

    refs = iter_clips(str(require_shared(*spec_parts)))
    pick = np.random.default_rng(seed).choice(len(refs), size=min(n, len(refs)), replace=False)
    return [refs[i] for i in sorted(pick)]


@pytest.fixture(scope="module")
def shard_results():
    out = {}
    for name, n in (("gislr", 4), ("mpdata", 4), ("dictvideo", 4)):
        seqs = [r.load() for r in _refs(("data", name), n, seed=3)]
        out[name] = (seqs, solve_batch(seqs, config=IKConfig(threads=1)))
    return out


@pytest.mark.parametrize("name", ["gislr", "mpdata", "dictvideo"])
def test_real_clips_fit_their_landmarks(shard_results, name):
    seqs, results = shard_results[name]
    for seq, res in zip(seqs, results):
        assert res.motion.num_frames == seq.num_frames
        assert np.isfinite(res.motion.poses).all() and np.isfinite(res.motion.trans).all()
        assert res.quality["limit_violation_frac"] == 0.0
    body = np.mean([r.quality["reproj_body"] for r in results])
    hand = np.nanmean([r.quality["reproj_hand"] for r in results])
    assert body < 0.08 and hand < 0.10, (name, body, hand)
    assert np.mean([r.quality["jerk_smooth"] < r.quality["jerk_raw"] for r in results]) == 1.0


def test_signers_left_arm_is_the_skeletons_left_arm(shard_results):
    """Pose point 15 (the signer's left wrist, on the image right) is followed by the skeleton's
    left wrist, not its right one: no mirrored body."""
    rest = rest_skeleton()
    from model_runtime.ik.preview import fk_points

    for seqs, results in shard_results.values():
        for seq, res in zip(seqs, results):
            pos, _ = fk_points(res.motion)
            a = res.aspect
            sw = np.nanmedian(np.linalg.norm((seq.pose[:, 11, :2] - seq.pose[:, 12, :2]) * [a, 1.0], axis=-1))
            for j, own, other in (("left_wrist", 15, 16), ("right_wrist", 16, 15)):
                uv = project(pos[:, JOINT_INDEX[j]], res.scale, res.focal, res.centre, look_point(rest))
                lm = lambda k: seq.pose[:, k, :2] * [a, 1.0]  # noqa: E731
                d_own = np.nanmedian(np.linalg.norm(uv - lm(own), axis=-1)) / sw
                d_other = np.nanmedian(np.linalg.norm(uv - lm(other), axis=-1)) / sw
                assert d_own < 0.25 and d_own < d_other, (seq.source, j, d_own, d_other)


def test_parquet_and_aslapp_clips_solve():
    for parts, n in ((("data", "gislr", "raw_parquet_samples"), 1), (("data", "aslapp"), 2)):
        for ref in _refs(parts, n):
            res = solve(ref.load(), config=IKConfig(threads=1))
            assert np.isfinite(res.motion.poses).all()
            assert res.quality["reproj_body"] < 0.12, (ref.clip_id, res.quality)


def test_data_check_prints_the_table(capsys):
    from model_runtime.cli import main

    path = str(require_shared("data", "gislr"))
    assert main(["data", "check", path, "--limit", "2"]) == 0
    out = capsys.readouterr().out
    row = [line for line in out.splitlines() if line.startswith(f"| {path} |")]
    assert row and row[0].split("|")[2].strip() == "2"


@pytest.mark.slow
def test_video_preview_over_the_frames(tmp_path):
    """A real video end to end: MediaPipe, IK, and a preview drawn over the video frames."""
    from PIL import Image

    from model_runtime.cli import main

    video = require_shared("videos", "lifeprint_yes.mp4")
    out = tmp_path / "yes.png"
    assert main(["data", "preview", str(video), "-o", str(out), "--frames", "3"]) == 0
    im = np.asarray(Image.open(out).convert("RGB")).astype(float)
    first_row = im[: im.shape[0] // 4]
    # the landmark row shows the video (not the plain white background of the drawn panels)
    assert (first_row < 250).mean() > 0.5
