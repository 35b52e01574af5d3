"""Synthetic sign datasets for the model tests: one parametric arm/finger trajectory per gloss.

Each gloss gets its own right-arm swing (shoulder and elbow, frequency, amplitude, phase),
a handshape (per-finger curl, closing over the clip), a left-arm posture and a head nod;
every clip of the gloss varies amplitude, speed and length a little and adds noise. Distinct
glosses are therefore distinguishable and same-gloss clips similar, like real signs.
"""

from __future__ import annotations

import zlib

import numpy as np

from model_runtime.data.dataset import write_dataset
from model_runtime.motion import SignMotion
from model_runtime.skeleton import JOINT_INDEX, NUM_JOINTS

FINGERS = ("index", "middle", "pinky", "ring", "thumb")


def _gloss_params(gloss: str) -> dict:
    r = np.random.default_rng(zlib.crc32(gloss.encode()))
    return dict(freq=r.uniform(0.5, 1.5), amp=r.uniform(0.3, 0.9), phase=r.uniform(0, np.pi),
                elbow=r.uniform(0.6, 1.8), raise_=r.uniform(0.6, 1.2), curl=r.uniform(0.0, 1.4, size=5),
                left=r.uniform(-0.6, 0.6, size=3), nod=r.uniform(0.0, 0.3), frames=int(r.integers(36, 60)))


def synth_clip(gloss: str, rng: np.random.Generator, fps: float = 30.0) -> np.ndarray:
    """(T, 55, 3) axis-angle of one performance of ``gloss``."""
    p = _gloss_params(gloss)
    T = max(12, int(round(p["frames"] * rng.uniform(0.85, 1.15))))
    t = np.arange(T) / fps
    speed = rng.uniform(0.9, 1.1)
    amp = p["amp"] * rng.uniform(0.9, 1.1)
    poses = np.zeros((T, NUM_JOINTS, 3), np.float32)
    s = np.sin(2 * np.pi * p["freq"] * speed * t + p["phase"])
    # right arm down from the T-pose (about +Z lowers the right arm), swinging forward/back
    poses[:, JOINT_INDEX["right_shoulder"]] = np.stack([0.4 * amp * s, -0.3 * s, p["raise_"] + 0.2 * amp * s], -1)
    poses[:, JOINT_INDEX["right_elbow"], 1] = p["elbow"] + 0.3 * amp * np.cos(2 * np.pi * p["freq"] * speed * t)
    poses[:, JOINT_INDEX["left_shoulder"]] = p["left"] + np.array([0.0, 0.0, -1.1])
    poses[:, JOINT_INDEX["head"], 0] = p["nod"] * s
    close = np.clip(t / t[-1] * 1.5, 0, 1)
    for k, f in enumerate(FINGERS):
        for seg in (1, 2, 3):
            axis = 1 if f == "thumb" else 2
            poses[:, JOINT_INDEX[f"right_{f}{seg}"], axis] = -p["curl"][k] * close * (1.0 if seg == 1 else 0.8)
    poses += rng.normal(0, 0.01, size=poses.shape).astype(np.float32)
    return poses


def synth_dataset(root, glosses: list[str], clips_per_gloss, seed: int = 0, fps: float = 30.0):
    """Write a dataset folder; ``clips_per_gloss`` an int or a dict gloss -> count. Per-gloss 8:2 split."""
    rng = np.random.default_rng(seed)
    motions, records = [], []
    for g in glosses:
        n = clips_per_gloss[g] if isinstance(clips_per_gloss, dict) else clips_per_gloss
        n_test = int(round(0.2 * n)) if n >= 3 else 0
        for k in range(n):
            poses = synth_clip(g, rng, fps)
            motions.append(SignMotion(poses=poses, trans=np.zeros((len(poses), 3), np.float32), fps=fps, gloss=g))
            records.append(dict(clip_id=f"{g}_{k:03d}", gloss=g, signer=f"s{k % 3}", source="synthetic",
                                licence="CC0", sign_language="ASL", split="test" if k < n_test else "train",
                                signer_split=""))
    card = {"synthetic": True, "glosses": len(glosses), "clips": len(motions)}
    return write_dataset(root, motions, records, card, write_clips=False)


GLOSSES = ["drink", "eat", "hello", "thankyou", "mother", "car", "book", "again"]
TINY_NET = ["--d-model", "64", "--cond-dim", "16", "--mlp-hidden", "64", "--enc-layers", "2", "--dec-layers", "2",
            "--ff-dim", "128", "--heads", "4"]
_RUNS: dict = {}


def tiny_clip_files(folder):
    """A small randomly initialised open_clip model: (model-config JSON path, safetensors weights path)."""
    import json
    from pathlib import Path

    from model_runtime import runtime_env

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = {"embed_dim": 32,
           "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 16},
           "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}
    cfg_path = folder / "tinyclip.json"
    cfg_path.write_text(json.dumps(cfg))
    runtime_env.apply()
    import open_clip
    import torch
    from safetensors.torch import save_file

    open_clip.add_model_config(cfg_path)
    torch.manual_seed(0)
    model = open_clip.create_model("tinyclip", pretrained=None)
    weights = folder / "tinyclip.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(weights))
    return cfg_path, weights


def trained_run(root, name: str = "minilm", epochs: int = 100, extra=()):
    """Train (once per session) a tiny model on a synthetic dataset; returns the run folder."""
    from pathlib import Path

    from model_runtime.cli import main

    import os

    key = (name, epochs, tuple(extra))
    if key in _RUNS and Path(_RUNS[key], "model.safetensors").is_file():
        return _RUNS[key]
    # developers may keep the trained test models between sessions (never set in CI)
    root = Path(os.environ.get("SIGNAVATAR_TEST_MODEL_CACHE") or root)
    if os.environ.get("SIGNAVATAR_TEST_MODEL_CACHE") and (root / f"run_{name}_{epochs}" / "MODEL_CARD.md").is_file():
        _RUNS[key] = root / f"run_{name}_{epochs}"
        return _RUNS[key]
    data = root / "synth_data"
    if not (data / "index.csv").is_file():
        synth_dataset(data, GLOSSES, 10)
    run = root / f"run_{name}_{epochs}"
    args = ["train", "--data", str(data), "--out", str(run), "--epochs", str(epochs), "--batch-size", "16",
            "--lr", "2e-3", "--warmup-steps", "10", "--save-every", str(epochs), "--quiet", "--force",
            *TINY_NET, *extra]
    if main(args) != 0:
        raise RuntimeError(f"training the test model failed: {args}")
    _RUNS[key] = run
    return run
