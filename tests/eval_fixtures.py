"""Constructed sign datasets for the evaluation tests (motions with a known gloss structure)."""

from __future__ import annotations

import numpy as np

from model_runtime.data.dataset import write_dataset
from model_runtime.motion import SignMotion
from model_runtime.skeleton import JOINT_INDEX

ARM = [JOINT_INDEX[n] for n in ("right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow")]
FINGERS = [JOINT_INDEX[n] for n in JOINT_INDEX if n.startswith("right_") and n[6:-1] in
           ("index", "middle", "ring", "pinky", "thumb")]


def gloss_clip(gloss_id: int, frames: int, rng: np.random.Generator, noise: float = 0.05) -> np.ndarray:
    """(T, 55, 3) axis-angle: gloss ``gloss_id`` has its own arm path and hand shape, plus signer noise."""
    g = np.random.default_rng(1000 + gloss_id)  # the gloss's fixed identity
    axes = g.normal(size=(len(ARM), 3))
    freq, phase = g.uniform(0.5, 2.0), g.uniform(0, np.pi)
    curl = g.uniform(0.0, 1.2, size=len(FINGERS))
    t = np.linspace(0, 1, frames)[:, None]
    poses = np.zeros((frames, 55, 3), np.float32)
    amp = rng.uniform(0.8, 1.2)
    poses[:, ARM] = (amp * np.sin(2 * np.pi * freq * t + phase))[:, :, None] * axes[None] * 0.6
    poses[:, FINGERS, 2] = curl[None] * (0.6 + 0.4 * t)
    poses += rng.normal(scale=noise, size=poses.shape).astype(np.float32)
    return poses


def make_dataset(root, glosses: int = 4, per_gloss: int = 10, signers: int = 5, seed: int = 0,
                 noise: float = 0.05):
    """Write a dataset folder: ``per_gloss`` clips per gloss, 8:2 per gloss, signer split by signer id."""
    rng = np.random.default_rng(seed)
    motions, records = [], []
    for gi in range(glosses):
        for k in range(per_gloss):
            frames = int(rng.integers(18, 40))
            signer = k % signers
            motions.append(SignMotion(poses=gloss_clip(gi, frames, rng, noise), trans=np.zeros((frames, 3)),
                                      fps=20.0, gloss=f"g{gi}"))
            records.append(dict(clip_id=f"c{gi}_{k}", gloss=f"g{gi}", signer=f"s{signer}", source="test",
                                licence="CC0", sign_language="ASL",
                                split="test" if k % 5 == 4 else "train",
                                signer_split="test" if signer == signers - 1 else "train"))
    return write_dataset(root, motions, records, card={"built_by": "tests"}, write_clips=False)


def mini_mpdata(out_dir, glosses: dict[str, int], shared_root) -> "Path":
    """A small landmark source in the shared shard layout, cut from the real ``mpdata``.

    ``glosses``: gloss -> number of sequences, taken from ASL or unspecified-language rows, at most
    two per signer so that the clips come from many people.
    """
    import io
    import lzma
    from pathlib import Path

    import pandas as pd

    root = Path(shared_root)
    idx = pd.read_csv(root / "index.csv")
    idx = idx[idx.sign_language.isin(["ASL", "unspecified"]) & (idx.source_kind != "wlasl_video_derived")]
    rows = pd.concat([idx[idx.gloss == g].groupby("signer_id").head(2).head(n) for g, n in glosses.items()])
    out = Path(out_dir)
    out.mkdir(parents=True)
    shards, chunks, new, start = {}, [], [], 0
    for r in rows.itertuples(index=False):
        if r.shard not in shards:
            shards[r.shard] = np.load(io.BytesIO(lzma.decompress((root / r.shard).read_bytes())))["data"]
        d = shards[r.shard][r.start:r.end]
        chunks.append(d)
        rec = r._asdict()
        rec.update(shard="mini.npz.xz", start=start, end=start + len(d))
        start += len(d)
        new.append(rec)
    buf = io.BytesIO()
    np.savez(buf, data=np.concatenate(chunks))
    (out / "mini.npz.xz").write_bytes(lzma.compress(buf.getvalue(), preset=1))
    pd.DataFrame(new).to_csv(out / "index.csv", index=False)
    return out


def one_torch_thread():
    """Generator for a fixture: run with one torch thread (small convolutions; extra threads only spin), then restore."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
