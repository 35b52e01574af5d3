"""The generation API and CLI on a small model trained on synthetic signs: what a user notices."""

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from model_runtime.data.dataset import SignDataset
from model_runtime.errors import SignAvatarError, UnknownSignError
from model_runtime.generation import Generator
from model_runtime.motion import SignMotion
from model_runtime.skeleton import JOINT_INDEX

from model_synth import GLOSSES, trained_run

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return trained_run(tmp_path_factory.getbasetemp() / "model_runs")


@pytest.fixture(scope="module")
def gen(run):
    return Generator.load(run)


def test_generate_gives_smplx_motions_of_the_typical_length(gen):
    motions = gen.generate("drink", seed=0, n=3)
    assert len(motions) == 3
    info = gen.info("drink")
    # the gloss prior's default length is that of the training clip each sample was drawn near
    assert [m.num_frames for m in gen.generate("drink", seed=0, n=3, prior="normal")] == [info["frames"]] * 3
    for m in motions:
        assert isinstance(m, SignMotion) and m.gloss == "drink" and m.fps == gen.fps
        assert info["frames_min"] <= m.num_frames <= info["frames_max"]
        assert m.poses.shape == (m.num_frames, 55, 3) and np.isfinite(m.poses).all()
        assert np.all(m.trans == 0)
        legs = [JOINT_INDEX[n] for n in ("left_knee", "right_hip", "left_ankle", "right_eye_smplhf")]
        assert np.all(m.poses[:, legs] == 0)
        assert np.abs(m.poses[:, JOINT_INDEX["right_shoulder"]]).max() > 0.3  # the arm moves
    same = gen.generate("drink", seed=0, n=3, frames=30)
    assert not np.allclose(same[0].poses, same[1].poses, atol=1e-3)  # variations differ
    assert gen.generate("drink", frames=33)[0].num_frames == 33


def test_temperature_scales_variation(gen):
    spread = []
    for t in (0.0, 0.5, 1.0):
        poses = np.stack([m.poses for m in gen.generate("drink", seed=1, n=4, temperature=t, prior="normal")])
        spread.append(float(np.abs(poses - poses.mean(0)).mean()))
    assert spread[0] < 1e-5 < spread[1] < spread[2]  # 0: every seed gives the most typical motion
    gloss = []  # the gloss prior: temperature scales the noise around the chosen training clip's latent
    for t in (0.0, 1.0, 2.0):
        z, _ = gen._latents(64, seed=1, temperature=t, rows=[gen._m.table.index("drink")] * 64, prior="gloss")
        gloss.append(float(z.std(0).mean()))
    assert gloss[0] < gloss[1] < gloss[2]
    assert np.array_equal(gen.generate("drink", seed=2)[0].poses,
                          gen.generate("drink", seed=2, temperature=1.0)[0].poses)
    for bad in (-0.1, 2.5, True, "1"):
        with pytest.raises(SignAvatarError, match="temperature"):
            gen.generate("drink", temperature=bad)


def test_same_seed_same_motion_other_seed_other_motion(gen):
    a = gen.generate("eat", seed=5)[0].poses
    b = gen.generate("eat", seed=5)[0].poses
    c = gen.generate("eat", seed=6)[0].poses
    assert np.array_equal(a, b) and not np.allclose(a, c, atol=1e-3)
    batch = gen.generate_batch(["eat", "car", "eat"], [20, 30, 500], seed=3)
    assert [x.shape for x in batch] == [(20, 55, 3), (30, 55, 3), (gen.max_frames, 55, 3)]
    again = gen.generate_batch(["eat", "car", "eat"], [20, 30, 500], seed=3)
    assert all(np.array_equal(x, y) for x, y in zip(batch, again))


def test_generated_and_reconstructed_signs_resemble_their_gloss(gen, run):
    """Nearest gloss (by per-feature mean and spread of the 6D rotations over time) of what the model makes."""
    from model_runtime.model.features import poses_to_features

    def feat(poses):
        f = poses_to_features(poses, gen.config.motion).numpy()
        return np.concatenate([f.mean(0), f.std(0)])

    ds = SignDataset.open(run.parent / "synth_data")
    centres = {g: np.mean([feat(ds.motion(i).resample(gen.fps).poses) for i in range(len(ds))
                           if ds.records[i]["gloss"] == g], axis=0) for g in GLOSSES}
    nearest = lambda p: min(centres, key=lambda k: np.linalg.norm(centres[k] - feat(p)))  # noqa: E731
    gen_hits = sum(nearest(m.poses) == g for g in GLOSSES for m in gen.generate(g, seed=7, n=3))
    assert gen_hits >= 0.9 * 3 * len(GLOSSES)
    test = ds.indices("test")
    rec = gen.reconstruct_batch([ds.clip_poses(i) for i in test], [ds.records[i]["gloss"] for i in test], fps=30.0)
    assert sum(nearest(r) == ds.records[i]["gloss"] for r, i in zip(rec, test)) >= 0.9 * len(test)


@pytest.mark.parametrize("text, gloss", [("drink", "drink"), ("Drink", "drink"), ("thank you", "thankyou"),
                                         ("THANK-YOU", "thankyou"), ("thank_you", "thankyou"), ("books", "book"),
                                         ("mothers", "mother")])
def test_spelling_variants_match_exactly(gen, text, gloss):
    m = gen.match(text)
    assert (m.gloss, m.exact, m.score) == (gloss, True, 1.0)


def test_free_text_matches_by_meaning_or_is_refused_with_suggestions(gen):
    m = gen.match("automobile")
    assert m.gloss == "car" and not m.exact and 0.6 <= m.score < 1 and len(m.suggestions) == 5
    assert gen.match("mom").gloss == "mother"
    assert gen.generate("automobile", seed=0)[0].gloss == "car"
    with pytest.raises(UnknownSignError, match=r"no sign close enough to 'quantum chromodynamics'.*did you mean") as e:
        gen.match("quantum chromodynamics")
    # the suggestions travel as data, and are the glosses the message offers
    assert 1 <= len(e.value.suggestions) <= 6 and set(e.value.suggestions) <= set(gen.vocabulary)
    assert f"did you mean: {', '.join(e.value.suggestions)}?" in str(e.value)
    with pytest.raises(SignAvatarError, match="no sign close enough"):
        gen.generate("quantum chromodynamics")
    with pytest.raises(SignAvatarError, match="type a sign"):
        gen.match("  ")


def test_invalid_requests_are_refused_clearly(gen):
    for kwargs, msg in [(dict(frames=1), "frames must be"), (dict(frames=gen.max_frames + 1), "at most"),
                        (dict(n=0), "n must be"), (dict(frames=2.5), "frames must be")]:
        with pytest.raises(SignAvatarError, match=msg):
            gen.generate("drink", **kwargs)
    with pytest.raises(SignAvatarError, match="not in this model's vocabulary"):
        gen.generate_batch(["drink", "zebra"], [20, 20])
    with pytest.raises(SignAvatarError, match="not an image this reader knows"):
        gen.generate_from_image(REPO / "README.md")  # a text-only model reads images through model_runtime.vision
    assert not gen.has_image_encoder


def test_reconstruct_keeps_length_fps_and_undriven_joints(gen, run):
    ds = SignDataset.open(run.parent / "synth_data")
    clip = ds.motion(0)  # 30 fps
    long = SignMotion(poses=np.concatenate([clip.poses] * 3), trans=np.ones((3 * clip.num_frames, 3), np.float32),
                      fps=clip.fps, gloss=clip.gloss)
    long.poses[:, JOINT_INDEX["left_knee"]] = 0.3
    rec = gen.reconstruct(long)
    assert rec.num_frames == long.num_frames and rec.fps == long.fps and rec.gloss == clip.gloss
    assert np.array_equal(rec.trans, long.trans) and np.all(rec.poses[:, JOINT_INDEX["left_knee"]] == 0.3)
    assert np.isfinite(rec.poses).all()
    sh = JOINT_INDEX["right_shoulder"]
    one = gen.reconstruct(clip)
    err = np.abs(one.poses[:, sh] - clip.poses[:, sh]).mean()
    others = [ds.motion(j).poses[:, sh] for j in range(len(ds)) if ds.records[j]["gloss"] != clip.gloss]
    other_err = np.mean([np.abs(o[:clip.num_frames] - clip.poses[:len(o), sh]).mean() for o in others])
    assert err < 0.6 * other_err  # much closer to its input than any other sign is
    sampled = gen.reconstruct(clip, sample=True, seed=1)
    assert not np.array_equal(sampled.poses, gen.reconstruct(clip).poses)
    with pytest.raises(SignAvatarError, match="pass gloss"):
        gen.reconstruct(SignMotion(poses=clip.poses, trans=clip.trans, fps=clip.fps))
    batch = gen.reconstruct_batch([clip.poses, ds.motion(1).poses], glosses=[clip.gloss, ds.records[1]["gloss"]],
                                  fps=30.0)
    assert [len(b) for b in batch] == [len(clip.resample(gen.fps).poses), len(ds.motion(1).resample(gen.fps).poses)]
    with pytest.raises(SignAvatarError, match="needs the gloss"):
        gen.reconstruct_batch([clip.poses])


# ---- the model folder ---------------------------------------------------------------------------
def test_save_load_round_trip_without_unpickling(run, monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("unpickling during load")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    a = Generator.load(run).generate("hello", seed=2)[0].poses
    b = Generator.load(run).generate("hello", seed=2)[0].poses
    assert np.array_equal(a, b)
    files = {p.name for p in run.iterdir()}
    assert {"config.json", "model.safetensors", "normalizer.safetensors", "glosses.json",
            "gloss_embeddings.safetensors", "train_log.jsonl"} <= files
    assert not any(n.endswith((".pt", ".pth", ".pkl", ".bin")) for n in files)
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["encoder"]["kind"] == "minilm" and cfg["train"]["epochs"] == 100
    table = json.loads((run / "glosses.json").read_text())
    assert sorted(r["gloss"] for r in table) == sorted(GLOSSES) and all(r["samples"] == 8 for r in table)


def _broken(run, tmp_path, name):
    dst = tmp_path / name
    shutil.copytree(run, dst)
    return dst


def test_bad_model_folders_are_refused_clearly(run, tmp_path):
    with pytest.raises(SignAvatarError, match="model folder not found"):
        Generator.load(tmp_path / "nowhere")
    d = _broken(run, tmp_path, "missing")
    (d / "normalizer.safetensors").unlink()
    (d / "glosses.json").unlink()
    with pytest.raises(SignAvatarError, match="missing normalizer.safetensors, glosses.json"):
        Generator.load(d)
    d = _broken(run, tmp_path, "shapes")
    cfg = json.loads((d / "config.json").read_text())
    cfg["net"]["d_model"] = 96
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(SignAvatarError, match="wrong shapes"):
        Generator.load(d)
    d = _broken(run, tmp_path, "foreign")
    (d / "config.json").write_text(json.dumps({"format": "acme-motion", "n_layer": 12}))
    with pytest.raises(SignAvatarError, match="not a SignAvatar model config"):
        Generator.load(d)
    d = _broken(run, tmp_path, "foreign_weights")
    from safetensors.torch import save_file
    save_file({"w": torch.zeros(3)}, str(d / "model.safetensors"))
    with pytest.raises(SignAvatarError, match="not written by SignAvatar"):
        Generator.load(d)
    d = _broken(run, tmp_path, "garbage")
    (d / "model.safetensors").write_bytes(b"\x80\x04not a tensor file")
    with pytest.raises(SignAvatarError, match="not a readable safetensors"):
        Generator.load(d)
    d = _broken(run, tmp_path, "table")
    (d / "glosses.json").write_text(json.dumps([{"gloss": "drink"}]))
    with pytest.raises(SignAvatarError, match="lack some of"):
        Generator.load(d)


# ---- CLI ----------------------------------------------------------------------------------------
def _cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "model_runtime", *args], cwd=cwd, capture_output=True, text=True,
                          env=env)


def test_generate_cli_writes_a_motion_file(run, tmp_path):
    r = _cli("generate", "drink", "-o", "drink.npz", "--checkpoint", str(run), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    m = SignMotion.load(tmp_path / "drink.npz")
    assert m.gloss == "drink" and m.poses.shape[1:] == (55, 3) and m.fps == 20.0
    assert np.array_equal(m.poses, Generator.load(run).generate("drink", seed=0)[0].poses)
    r = _cli("generate", "Thank you", "-n", "2", "--seed", "4", "--fps", "30", "-o", "out/ty.npz",
             "--checkpoint", str(run), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "'Thank you' -> thankyou (exact)" in r.stdout
    assert SignMotion.load(tmp_path / "out" / "ty_1.npz").fps == 30.0
    r = _cli("generate", "quantum chromodynamics", "--checkpoint", str(run), cwd=tmp_path)
    assert r.returncode == 2 and "error: no sign close enough" in r.stderr and "Traceback" not in r.stderr
    r = _cli("generate", "--list", "--checkpoint", str(run), cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.count("\n") == len(GLOSSES)


def test_model_card_records_the_run_and_keeps_the_evaluation(run, tmp_path):
    from model_runtime.training.card import EVAL_END, EVAL_START, write_model_card

    text = (run / "MODEL_CARD.md").read_text()
    assert "python -m model_runtime train --data" in text and "--epochs 100" in text
    assert "## Vocabulary" in text and "thankyou (8)" in text and EVAL_START in text
    d = tmp_path / "copy"
    shutil.copytree(run, d)
    card = d / "MODEL_CARD.md"
    card.write_text(card.read_text().replace(EVAL_END, "| Raw | 0.9 |\n" + EVAL_END))
    write_model_card(d, ["python", "-m", "model_runtime", "train"], 60.0, "cpu", 2)
    assert "| Raw | 0.9 |" in card.read_text()
