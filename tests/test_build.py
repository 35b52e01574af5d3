"""Dataset builder: gloss names, splits, quality control, and whole builds on small real subsets.

Builds use a stand-in solver (``fake_solve``) where a test is about the builder's own
rules; ``test_build_with_the_real_ik`` runs the real inverse kinematics.
"""

from __future__ import annotations

import csv
import io
import json
import lzma
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, require_shared
from model_runtime.data.build import BuildConfig, build_dataset
from model_runtime.data.dataset import SignDataset
from model_runtime.data.glosses import gloss_key, merge_spellings, normalize_gloss
from model_runtime.data.qc import QCConfig, judge
from model_runtime.data.splits import gloss_split, signer_split
from model_runtime.errors import SignAvatarError
from model_runtime.motion import SignMotion

GOOD = {"reproj_body": 0.03, "reproj_hand": 0.05, "limit_violation_frac": 0.0, "jerk_raw": 2.0, "jerk_smooth": 1.0}
BAD_CLIPS = {"mpdata-mp_bad"}


def fake_solve(seq, gender="neutral"):
    """Stand-in IK: the right wrist's image height goes into joint 21 so trimming is visible in the output."""
    T = seq.num_frames
    poses = np.zeros((T, 55, 3), np.float32)
    # frame number / 100 (within the axis-angle limit of a motion file), to check which frames were kept
    poses[:, 21, 0] = np.arange(T, dtype=np.float32) / 100
    quality = dict(GOOD)
    if seq.meta.get("clip_id") in BAD_CLIPS:
        quality["reproj_body"] = 0.4
    motion = SignMotion(poses=poses, trans=np.zeros((T, 3), np.float32), fps=seq.fps, gender=gender)
    return SimpleNamespace(motion=motion, valid=np.ones(T, bool), quality=quality)


BATCH_CALLS: list[int] = []


def fake_solve_batch(seqs, gender="neutral"):
    BATCH_CALLS.append(len(seqs))
    return [fake_solve(s, gender) for s in seqs]


def broken_solve_batch(seqs, gender="neutral"):
    raise SignAvatarError("clip 3 cannot be solved")


def failing_solve(seq, gender="neutral"):
    raise AssertionError("the cache should have answered")


# ------------------------------------------------------------------ unit rules

def test_gloss_spellings_become_one_gloss():
    assert normalize_gloss("  Thank_You ") == "thank you" == normalize_gloss("thank-you")
    assert normalize_gloss("don't") == "dont" and normalize_gloss("Good-Morning!") == "good morning"
    assert gloss_key("thankyou") == gloss_key("Thank You")
    names = merge_spellings(["thankyou"] * 5 + ["thank you", "hello", "i love you", "iloveyou"])
    assert names["thankyou"] == "thank you" and names["iloveyou"] == "i love you" and names["hello"] == "hello"


def test_per_gloss_split_is_8_to_2_seeded_and_order_free():
    glosses = ["a"] * 10 + ["b"] * 5 + ["c"]
    ids = [f"x{i}" for i in range(16)]
    s = gloss_split(glosses, ids, 0.2, seed=3)
    assert [s[i] for i in range(10)].count("test") == 2 and [s[i] for i in range(10, 15)].count("test") == 1
    assert s[15] == "train"  # a single-clip gloss trains
    perm = np.random.default_rng(0).permutation(16)
    s2 = gloss_split([glosses[i] for i in perm], [ids[i] for i in perm], 0.2, seed=3)
    assert {ids[i]: s2[k] for k, i in enumerate(perm)} == dict(zip(ids, s))
    assert gloss_split(glosses, ids, 0.2, seed=4) != s  # the seed matters


def test_signer_split_is_disjoint_and_near_the_fraction():
    signers = [f"s{i % 12}" for i in range(240)] + ["huge"] * 200
    s = signer_split(signers, 0.2, seed=0)
    test = {p for p, x in zip(signers, s) if x == "test"}
    train = {p for p, x in zip(signers, s) if x == "train"}
    assert test and not (test & train) and "huge" in train
    assert 0.15 <= s.count("test") / len(s) <= 0.22


def _signals(T, active, present=None):
    drop = np.full((T, 2), 1.6, np.float32)
    speed = np.zeros((T, 2), np.float32)
    drop[active, 1] = 0.2
    speed[active, 1] = 2.0
    hp = np.ones((T, 2), bool) if present is None else present
    return {"wrist_drop": drop, "wrist_speed": speed, "hand_present": hp}


def test_qc_trims_idle_ends_and_drops_bad_clips():
    cfg = QCConfig(margin_s=0.1)
    v = judge(_signals(60, slice(20, 40)), 30.0, None, GOOD, cfg)
    assert v.kept and (v.start, v.stop) == (17, 43)  # 3 frames (0.1 s) of rest kept on each side
    assert judge(_signals(60, slice(0, 0)), 30.0, None, GOOD, cfg).reason.startswith("no signing motion")
    present = np.ones((60, 2), bool)
    present[25:45] = False  # both hands lost for 0.67 s in the middle of the sign
    assert "both hands lost" in judge(_signals(60, slice(10, 55), present), 30.0, None, GOOD, cfg).reason
    present[:] = True
    present[:16] = False  # lost at the start: cut, not dropped
    v = judge(_signals(60, slice(10, 55), present), 30.0, None, GOOD, cfg)
    assert v.kept and v.start == 16
    assert "reproj_hand" in judge(_signals(60, slice(10, 50)), 30.0, None, dict(GOOD, reproj_hand=0.3), cfg).reason
    assert "too short" in judge(_signals(60, slice(30, 32)), 30.0, None, GOOD, QCConfig(margin_s=0)).reason


# ------------------------------------------------------------------ builds on real data

def _mini_mpdata(tmp: Path, pick: dict[str, int], extra_bad: int = 0) -> Path:
    """A small shard dataset cut from the real mpdata: ``pick`` = {query: n rows}."""
    root = require_shared("data", "mpdata")
    idx = pd.read_csv(root / "index.csv")
    rows = pd.concat([idx.query(q).groupby("signer_id").head(3).head(n) for q, n in pick.items()])
    if extra_bad:
        bad = idx.query("gloss == 'hello' and sign_language == 'ASL' and shard == 'mpdata_shard01.npz.xz'").iloc[[-1]]
        bad = bad.copy()
        bad["sample_id"] = "mp_bad"
        rows = pd.concat([rows, bad])
    out = tmp / "mini_mpdata"
    out.mkdir()
    chunks, start, new = [], 0, []
    cache = {}
    for r in rows.itertuples():
        if r.shard not in cache:
            cache[r.shard] = np.load(io.BytesIO(lzma.decompress((root / r.shard).read_bytes())))["data"]
        d = cache[r.shard][r.start:r.end]
        chunks.append(d)
        rec = r._asdict()
        rec.pop("Index")
        rec.update(shard="mini.npz.xz", start=start, end=start + len(d))
        start += len(d)
        new.append(rec)
    buf = io.BytesIO()
    np.savez(buf, data=np.concatenate(chunks))
    (out / "mini.npz.xz").write_bytes(lzma.compress(buf.getvalue(), preset=1))
    pd.DataFrame(new).to_csv(out / "index.csv", index=False)
    return out


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("src")
    mp = _mini_mpdata(tmp, {
        "gloss == 'hello' and sign_language == 'ASL' and shard == 'mpdata_shard01.npz.xz'": 8,
        "gloss == 'hello' and sign_language == 'ISL' and shard == 'mpdata_shard01.npz.xz'": 3,
        "gloss == 'thankyou' and sign_language == 'unspecified' and shard == 'mpdata_shard03.npz.xz'": 6,
        "sign_language == 'BSL' and shard == 'mpdata_shard03.npz.xz'": 2,
    }, extra_bad=1)
    return {"mpdata": str(mp), "aslapp": str(require_shared("data", "aslapp", "signs", "thank_you.json")),
            "parquet": str(require_shared("data", "gislr", "raw_parquet_samples"))}


def _cfg(tmp, src, **kw):
    base = dict(out=str(tmp / "ds"), sources=(src["mpdata"], src["aslapp"], src["parquet"]), workers=1,
                cache_dir=str(tmp / "cache"), min_samples=1)
    base.update(kw)
    return BuildConfig(**base)


def test_build_filters_merges_splits_and_documents(tmp_path, sources):
    card = build_dataset(_cfg(tmp_path, sources, signer_split=True), solver=fake_solve, progress=False)
    ds = SignDataset.open(tmp_path / "ds")
    recs = pd.DataFrame(ds.records)
    # ISL and BSL rows left out; unspecified rows kept; the bad clip dropped by its re-projection error
    assert not (recs.sign_language.isin(["ISL", "BSL"])).any()
    assert card["dropped"]["sign language ISL"] == 3 and card["dropped"]["sign language BSL"] == 2
    assert card["dropped"]["QC: reproj_body"] == 1 and "mpdata-mp_bad" not in set(recs.clip_id)
    # thankyou (mpdata, GISLR) and thank_you (ASL-App) are one gloss
    assert set(recs.gloss) == {"hello", "thank you"}
    ty = recs[recs.gloss == "thank you"]
    assert set(ty.source) == {"mpdata", "aslapp", "parquet"} and set(ty.gloss_raw) >= {"thankyou", "thank_you"}
    # per gloss 8:2
    for g, grp in recs.groupby("gloss"):
        assert (grp.split == "test").sum() == round(0.2 * len(grp))
    assert set(recs.signer_split) == {"train", "test"}
    assert not set(recs[recs.signer_split == "test"].signer) & set(recs[recs.signer_split == "train"].signer)
    # composition and quality columns
    assert card["per_source"]["aslapp"]["clips"] == 1 and card["per_source_licence"]["aslapp / MIT"] == 1
    assert {k: v["clips"] for k, v in card["per_licence"].items()} == recs.licence.value_counts().to_dict()
    assert card["per_licence"]["CC BY 4.0 (unconfirmed)"]["clips"] == (recs.source == "parquet").sum()
    assert sum(v["clips"] for v in card["per_source"].values()) == len(recs) == card["counts"]["clips"]
    for col in ("reproj_body", "reproj_hand", "limit_violation_frac", "jerk_raw", "jerk_smooth", "trim_start",
                "mirrored", "hand_labels_swapped", "licence_note", "source_repo"):
        assert col in recs.columns
    md = (tmp_path / "ds" / "card.md").read_text()
    assert "Composition by licence" in md and "| thank you |" in md
    assert (tmp_path / "ds" / "clips" / f"{recs.clip_id[0]}.npz").is_file()
    # trimmed clips are the frames the verdict kept
    r = ds.records[0]
    assert round(float(ds.clip_poses(0)[0, 21, 0]) * 100) == int(r["trim_start"]) and r["frames"] == int(r["trim_stop"]) - int(
        r["trim_start"])


def test_build_resumes_from_its_cache_and_builds_the_ablation(tmp_path, sources, monkeypatch):
    build_dataset(_cfg(tmp_path, sources), solver=fake_solve, progress=False)
    n_cached = len(list((tmp_path / "cache").rglob("*.npz")))
    # every clip is cached: a solver that fails is never called (same solver id by name)
    monkeypatch.setattr(failing_solve, "__qualname__", fake_solve.__qualname__)
    card = build_dataset(_cfg(tmp_path, sources, out=str(tmp_path / "ablation"), qc=False), solver=failing_solve,
                         progress=False)
    assert len(list((tmp_path / "cache").rglob("*.npz"))) == n_cached
    ab = SignDataset.open(tmp_path / "ablation")
    assert all(int(r["trim_start"]) == 0 and r["frames"] == int(r["frames_raw"]) for r in ab.records)
    assert "mpdata-mp_bad" in {r["clip_id"] for r in ab.records}  # no QC: the bad clip stays
    assert card["settings"]["qc"] is False


def test_min_samples_and_gloss_selection(tmp_path, sources):
    card = build_dataset(_cfg(tmp_path, sources, min_samples=7, glosses=("Hello",)), solver=fake_solve,
                         progress=False)
    assert set(card["per_gloss"]) == {"hello"}
    with pytest.raises(SignAvatarError, match="no clips left.*min_samples 50"):
        build_dataset(_cfg(tmp_path, sources, min_samples=50), solver=fake_solve, progress=False)


def test_parallel_workers_give_the_same_dataset(tmp_path, sources):
    one = build_dataset(_cfg(tmp_path, sources, cache_dir=str(tmp_path / "c1")), solver=fake_solve, progress=False)
    two = build_dataset(_cfg(tmp_path, sources, out=str(tmp_path / "ds2"), cache_dir=str(tmp_path / "c2"),
                             workers=2), solver=fake_solve, progress=False)
    assert one["per_gloss"] == two["per_gloss"] and one["counts"] == two["counts"]
    a, b = SignDataset.open(tmp_path / "ds"), SignDataset.open(tmp_path / "ds2")
    np.testing.assert_array_equal(np.asarray(a.poses), np.asarray(b.poses))


def test_batched_ik_gives_the_same_dataset_and_falls_back_clip_by_clip(tmp_path, sources):
    plain = build_dataset(_cfg(tmp_path, sources, cache_dir=str(tmp_path / "c0")), solver=fake_solve, progress=False)
    BATCH_CALLS.clear()
    batched = build_dataset(_cfg(tmp_path, sources, out=str(tmp_path / "b"), cache_dir=str(tmp_path / "c1"),
                                 batch_size=4), solver=fake_solve, batch_solver=fake_solve_batch, progress=False)
    assert BATCH_CALLS and max(BATCH_CALLS) == 4 and sum(BATCH_CALLS) >= plain["counts"]["clips"]
    assert batched["counts"] == plain["counts"] and batched["per_gloss"] == plain["per_gloss"]
    np.testing.assert_array_equal(np.asarray(SignDataset.open(tmp_path / "b").poses),
                                  np.asarray(SignDataset.open(tmp_path / "ds").poses))
    fallback = build_dataset(_cfg(tmp_path, sources, out=str(tmp_path / "f"), cache_dir=str(tmp_path / "c2")),
                             solver=fake_solve, batch_solver=broken_solve_batch, progress=False)
    assert fallback["counts"] == plain["counts"]


def test_load_errors_are_counted_not_fatal(tmp_path, sources):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"sign": "nothing", "fps": 30, "frames": [
        {"pose": [None] * 33, "left_hand": [None] * 21, "right_hand": [None] * 21, "face": [None] * 33}] * 5}))
    card = build_dataset(_cfg(tmp_path, sources, sources=(sources["aslapp"], str(bad))), solver=fake_solve,
                         progress=False)
    assert card["dropped"] == {"load or IK error": 1} and card["counts"]["clips"] == 1
    assert "no body (pose) landmarks" in card["errors"]["aslapp-bad"]


def test_cli_lists_sources_and_reports_bad_ones(tmp_path):
    require_shared("data")
    r = subprocess.run([sys.executable, "-m", "model_runtime", "data", "sources"], cwd=REPO, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert "mpdata" in r.stdout and "9266" in r.stdout and "CC0 1103" in r.stdout
    r = subprocess.run([sys.executable, "-m", "model_runtime", "data", "build", "nowhere", "--out",
                        str(tmp_path / "x")], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 2 and "source not found: 'nowhere'" in r.stderr


def test_build_with_the_real_ik(tmp_path):
    """The real inverse kinematics through the CLI: ASL-App signs and a real video, two workers."""
    out = tmp_path / "real"
    signs = require_shared("data", "aslapp")
    video = require_shared("videos", "pose_soup.mp4")
    r = subprocess.run([sys.executable, "-m", "model_runtime", "data", "build", str(signs), str(video),
                        "--gloss", "hello", "--gloss", "Thank You", "--gloss", "soup", "--min-samples", "1",
                        "--workers", "2", "--cache-dir", str(tmp_path / "c"), "--out", str(out)],
                       cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "wrote" in r.stdout
    ds = SignDataset.open(out)
    card = json.loads((out / "card.json").read_text())
    kept = {x["gloss"] for x in ds.records}
    dropped = sum(card["dropped"].values())
    assert len(ds) + dropped == 3 and kept <= {"hello", "thank you", "soup"}
    for i, rec in enumerate(ds.records):
        poses = np.asarray(ds.clip_poses(i))
        assert np.isfinite(poses).all() and np.abs(poses[:, 16:22]).max() > 0.1  # the arms move
        assert float(rec["reproj_body"]) <= 0.10 and float(rec["reproj_hand"]) <= 0.15  # QC applied
        assert rec["fps"] == pytest.approx(29.97, abs=0.01)
    for reason in card["dropped"]:
        assert reason.startswith("QC: ")
