"""Seeded, time-bounded fuzzing of the files a user hands us: motion ``.npz``, model ``config.json``, CSV jobs.

A few hundred mutated inputs (bytes flipped, cut, grown; JSON values replaced; CSV quotes and
bytes scrambled); each must load or be refused with ``SignAvatarError`` (never another
exception), and nothing may be left behind in the folder. Seed and time budget are fixed,
so a failure reproduces.
"""

from __future__ import annotations

import io
import json
import random
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from model_runtime.errors import SignAvatarError
from model_runtime.motion import SignMotion, load_npz

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "model_runtime" / "checkpoints" / "default"
SEED = 16
BUDGET_S = 8.0  # per input kind


def _mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(4)
        i = rng.randrange(max(len(b), 1))
        if op == 0 and b:
            b[i] = rng.randrange(256)
        elif op == 1:
            del b[i:i + rng.randint(1, 64)]
        elif op == 2:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
        else:
            b = b[:i]
    return bytes(b)


def _npz_variants(rng: random.Random, base: bytes):
    """Byte mutations of a good file, and well-formed archives with wrong shapes, dtypes and values."""
    yield _mutate(base, rng)
    arrays = {"poses": np.zeros((5, 165), np.float32), "trans": np.zeros((5, 3), np.float32),
              "betas": np.zeros(10, np.float32), "gender": np.array("neutral"), "mocap_frame_rate": np.array(30.0)}
    key = rng.choice(list(arrays))
    choice = rng.randrange(6)
    if choice == 0:
        arrays[key] = np.full(rng.choice([(), (3,), (5, 165), (2, 2, 2)]), rng.choice([1e30, -1, np.nan, 0]))
    elif choice == 1:
        arrays[key] = np.array(rng.choice(["", "x" * 5000, "male", "\x00"]))
    elif choice == 2:
        del arrays[key]
    elif choice == 3:
        arrays["extra"] = np.zeros(3)
    elif choice == 4:
        dtype = rng.choice([np.int8, np.complex64, np.bool_, "U3"])
        arrays[key] = np.zeros(arrays[key].shape, dtype)
    else:
        arrays["poses"] = np.full((5, 165), rng.uniform(-50, 50), np.float32)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    yield buf.getvalue()


def _run_for(budget: float, n_max: int, fn) -> int:
    t0, n = time.monotonic(), 0
    while n < n_max and time.monotonic() - t0 < budget:
        fn(n)
        n += 1
    return n


def test_fuzzed_motion_files_load_or_are_refused(tmp_path):
    rng = random.Random(SEED)
    good = tmp_path / "good.npz"
    SignMotion(poses=np.zeros((5, 55, 3)), trans=np.zeros((5, 3)), fps=30, gloss="x").save(good)
    base = good.read_bytes()
    folder = tmp_path / "f"
    folder.mkdir()

    def one(i):
        for k, data in enumerate(_npz_variants(rng, base)):
            p = folder / f"m{i}_{k}.npz"
            p.write_bytes(data)
            try:
                load_npz(p)
            except SignAvatarError:
                pass
            p.unlink()

    n = _run_for(BUDGET_S, 200, one)
    assert n >= 20 and list(folder.iterdir()) == []


def _config_edit(cfg: dict, rng: random.Random) -> dict:
    section = rng.choice(["net", "motion", "encoder", "train", None])
    values = [None, -1, 0, 1, 10**8, 1e300, "x", "{0.__class__}", "../../x", [], {}, True, 2.5, "/abs/x"]
    if section is None:
        cfg[rng.choice(list(cfg) + ["bogus"])] = rng.choice(values)
    else:
        sub = cfg[section]
        sub[rng.choice(list(sub) + ["bogus"])] = rng.choice(values)
    return cfg


def test_fuzzed_model_configs_load_or_are_refused(tmp_path):
    from model_runtime.model.checkpoint import load_model

    rng = random.Random(SEED)
    folder = tmp_path / "model"
    shutil.copytree(DEFAULT, folder)
    good = (folder / "config.json").read_text()
    before = sorted(p.name for p in folder.iterdir())

    def one(i):
        if rng.random() < 0.3:
            text = _mutate(good.encode(), rng).decode("utf-8", "replace")
        else:
            text = json.dumps(_config_edit(json.loads(good), rng))
        (folder / "config.json").write_text(text)
        try:
            load_model(folder)
        except SignAvatarError:
            pass

    n = _run_for(BUDGET_S, 150, one)
    assert n >= 10
    assert sorted(p.name for p in folder.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_fuzzed_csv_job_files_are_read_or_refused(tmp_path):
    from signavatar_blender.render.worklist import make_jobs

    rng = random.Random(SEED)
    good = 'gloss,seed,name\nhello,0,\n"thank you",3,thanks\nplease,1,"p, q"\n'.encode()
    p = tmp_path / "jobs.csv"

    def one(i):
        p.write_bytes(_mutate(good, rng) if rng.random() < 0.8 else bytes(rng.randrange(256) for _ in range(40)))
        try:
            jobs = make_jobs([], [], [str(p)], 0)
        except SignAvatarError:
            return
        for j in jobs:  # whatever was accepted is a safe, single-line job
            assert "\n" not in j.text and "/" not in j.name and not j.name.startswith(".")

    n = _run_for(BUDGET_S / 2, 300, one)
    assert n >= 50 and sorted(x.name for x in tmp_path.iterdir()) == ["jobs.csv"]


def test_fuzzed_npz_archives_are_not_a_zip_bomb(tmp_path):
    """A member whose header claims far more than the archive holds is refused before reading."""
    rng = random.Random(SEED)
    for i in range(20):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            shape = (rng.randint(10**5, 10**12), rng.choice([3, 165]))
            header = "{'descr': '<f4', 'fortran_order': False, 'shape': %r, }" % (shape,)
            header += " " * (63 - (len(header) + 10) % 64) + "\n"
            z.writestr("poses.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
        p = tmp_path / f"z{i}.npz"
        p.write_bytes(buf.getvalue())
        with pytest.raises(SignAvatarError):
            load_npz(p)
