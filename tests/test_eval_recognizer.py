"""The STGCN recognizer: graph, inputs, training, storage."""

import numpy as np
import pytest
import torch

from eval_fixtures import gloss_clip, make_dataset, one_torch_thread
from model_runtime.data.dataset import SignDataset
from model_runtime.errors import SignAvatarError
from model_runtime.evaluation.graph import edges, joint_indices, spatial_partition
from model_runtime.evaluation.inputs import clip_to_input, clips_to_input
from model_runtime.evaluation.recognizer import Recognizer, TrainConfig, train_recognizer
from model_runtime.rotations import axis_angle_to_6d
from model_runtime.skeleton import JOINT_INDEX, SIGNING_JOINTS


def test_signing_graph_is_one_tree_with_three_partitions():
    idx = joint_indices("signing")
    assert len(idx) == len(SIGNING_JOINTS) == 45
    assert len(edges("signing")) == 44 and len(edges("all")) == 54
    a = spatial_partition("signing")
    assert a.shape == (3, 45, 45)
    np.testing.assert_allclose(a.sum(axis=(0, 2)), 1.0, rtol=1e-6)  # each joint averages its neighbourhood
    pos = {n: k for k, n in enumerate(SIGNING_JOINTS)}
    wrist, elbow, index1 = pos["right_wrist"], pos["right_elbow"], pos["right_index1"]
    assert a[1, wrist, elbow] > 0 and a[2, wrist, elbow] == 0  # elbow is closer to the chest
    assert a[2, wrist, index1] > 0 and a[1, wrist, index1] == 0
    assert a[1, pos["spine3"]].sum() == 0  # the centre has no centripetal neighbour
    assert a[2, pos["pelvis"]].sum() == 0 and a[1, pos["pelvis"], pos["spine1"]] > 0  # chain below the centre


def test_inputs_resample_any_length_and_keep_the_ends():
    rng = np.random.default_rng(0)
    joints = joint_indices("signing")
    clip = gloss_clip(0, 37, rng)
    x = clip_to_input(clip, joints, 32)
    assert x.shape == (6, 32, 45)
    first = axis_angle_to_6d(torch.from_numpy(clip[0, joints])).T
    last = axis_angle_to_6d(torch.from_numpy(clip[-1, joints])).T
    torch.testing.assert_close(x[:, 0], first)
    torch.testing.assert_close(x[:, -1], last)
    batch = clips_to_input([gloss_clip(1, n, rng) for n in (1, 5, 107)], joints, 32)
    assert batch.shape == (3, 6, 32, 45) and torch.isfinite(batch).all()
    with pytest.raises(SignAvatarError, match="axis-angle"):
        clips_to_input([np.zeros((10, 52, 3))], joints, 32)


_threads = pytest.fixture(scope="module", autouse=True)(one_torch_thread)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = make_dataset(tmp_path_factory.mktemp("ds") / "ds", glosses=4, per_gloss=15)
    ds = SignDataset.open(root)
    tr, te = ds.indices("train"), ds.indices("test")
    rec = train_recognizer([ds.clip_poses(i) for i in tr], [ds.records[i]["gloss"] for i in tr],
                           train_config=TrainConfig(epochs=6, seed=0), log=lambda s: None)
    return ds, rec, te


def test_recognizer_learns_constructed_glosses(trained):
    ds, rec, te = trained
    acc = rec.accuracy([ds.clip_poses(i) for i in te], [ds.records[i]["gloss"] for i in te])
    assert acc >= 0.75  # chance is 0.25
    feats, pred = rec.run([ds.clip_poses(i) for i in te])
    assert feats.shape == (len(te), rec.config.feature_dim) and pred.shape == (len(te),)


def test_recognizer_round_trips_through_safetensors_and_json(trained, tmp_path):
    ds, rec, te = trained
    rec.record["note"] = "kept"
    rec.save(tmp_path / "r")
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["recognizer.json", "recognizer.safetensors"]
    back = Recognizer.load(tmp_path / "r")
    clips = [ds.clip_poses(i) for i in te]
    np.testing.assert_array_equal(back.run(clips)[0], rec.run(clips)[0])
    assert back.glosses == rec.glosses and back.record["note"] == "kept"
    assert back.config == rec.config


def test_recognizer_names_unknown_glosses_and_missing_folders(trained, tmp_path):
    _, rec, _ = trained
    with pytest.raises(SignAvatarError, match="zebra"):
        rec.labels(["g0", "zebra"])
    with pytest.raises(SignAvatarError, match="no recognizer"):
        Recognizer.load(tmp_path)


def test_batchnorm_is_recalibrated_so_eval_matches_training(trained):
    # a single epoch (2 optimiser steps) would leave running averages near their init without recalibration
    ds, _, te = trained
    tr = ds.indices("train")
    rec = train_recognizer([ds.clip_poses(i) for i in tr], [ds.records[i]["gloss"] for i in tr],
                           train_config=TrainConfig(epochs=3, seed=1), log=lambda s: None)
    norm = rec.model.input_norm
    x = rec.encode([ds.clip_poses(i) for i in tr])
    flat = x.permute(0, 3, 1, 2).reshape(len(tr), -1, x.shape[2])
    torch.testing.assert_close(norm.running_mean, flat.mean(dim=(0, 2)), atol=1e-4, rtol=1e-4)


def test_per_gloss_cap_draws_a_balanced_epoch(trained):
    ds, _, te = trained
    tr = ds.indices("train")
    rec = train_recognizer([ds.clip_poses(i) for i in tr], [ds.records[i]["gloss"] for i in tr],
                           train_config=TrainConfig(epochs=2, max_per_gloss=5), log=lambda s: None)
    assert rec.record["train_clips"] == len(tr) and rec.record["clips_per_epoch"] == 4 * 5
