"""``data consistency``: clips of a gloss that show another sign, sources that disagree, lost hands."""

import csv

import numpy as np

from model_runtime.data.consistency import ConsistencyConfig, check_dataset, clip_shapes
from model_runtime.data.dataset import SignDataset, write_dataset
from model_runtime.motion import SignMotion
from model_runtime.skeleton import JOINT_INDEX

from model_synth import synth_clip


def _dataset(root):
    """'drink': 10 clips from source 'cam', 4 from source 'avatar' that perform 'car' instead, one 'cam' clip
    of 'eat' filed as 'drink', one 'cam' clip whose dominant hand was mostly unseen."""
    rng = np.random.default_rng(3)
    motions, records = [], []

    def add(gloss, performed, source, k, seen=1.0):
        poses = synth_clip(performed, rng)
        motions.append(SignMotion(poses=poses, trans=np.zeros((len(poses), 3), np.float32), fps=30.0, gloss=gloss))
        records.append(dict(clip_id=f"{source}-{performed}-{k}", gloss=gloss, signer=f"{source}{k % 3}",
                            source=source, licence="CC0", sign_language="ASL", split="train", signer_split="",
                            right_hand_seen_frac=seen))

    for k in range(10):
        add("drink", "drink", "cam", k, seen=0.2 if k == 9 else 1.0)
    for k in range(4):
        add("drink", "car", "avatar", k)
    add("drink", "eat", "cam", 10)
    for k in range(3):
        add("book", "book", "cam", k)  # below min_clips: not judged
    return write_dataset(root, motions, records, {"synthetic": True}, write_clips=False)


def test_a_source_performing_another_sign_is_reported(tmp_path):
    ds = SignDataset.open(_dataset(tmp_path / "d"))
    (r,) = check_dataset(ds, cfg=ConsistencyConfig(min_clips=5))
    assert r.gloss == "drink" and r.clips == 15
    assert r.medoid.startswith("cam-drink")
    by_source = {s.source: s for s in r.sources}
    assert by_source["avatar"].disagrees and by_source["avatar"].ratio > 2
    assert not by_source["cam"].disagrees
    assert "cam-eat-10" in r.outliers and not any(c.startswith("cam-drink") for c in r.outliers)
    assert r.hand_lost == ["cam-drink-9"]


def test_shapes_ignore_the_signers_posture(tmp_path):
    """Turning the whole body (pelvis yaw) and leaning the spine does not change a clip's shape."""
    rng = np.random.default_rng(0)
    poses = synth_clip("hello", rng)
    turned = poses.copy()
    turned[:, JOINT_INDEX["pelvis"]] = [0.0, 0.7, 0.0]
    turned[:, JOINT_INDEX["spine1"]] = [0.2, 0.0, 0.1]
    a, b = clip_shapes([poses, turned])
    assert a.shape == (32, 10, 3)
    assert np.abs(a - b).max() < 1e-4


def test_cli_writes_the_report_and_the_flagged_clips(tmp_path, capsys):
    from model_runtime.cli import main

    data = _dataset(tmp_path / "d")
    assert main(["data", "consistency", "--data", str(data), "--out", str(tmp_path / "r"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "| drink | 15 |" in out and "**avatar" in out and "## Disagreeing sources" in out
    rows = list(csv.DictReader(open(tmp_path / "r" / "flagged.csv")))
    assert {"gloss": "drink", "clip_id": "cam-drink-9", "reason": "hand_lost"} in rows
    assert (tmp_path / "r" / "report.md").read_text() == out.split("wrote ")[0]
    assert main(["data", "consistency", "--data", str(data), "--gloss", "tea", "--quiet"]) == 2
    assert "error:" in capsys.readouterr().err
