"""Landmark loaders on the real shared data: shards, GISLR parquet, ASL-App JSON; hand labels."""

from __future__ import annotations

import io
import lzma

import numpy as np
import pandas as pd
import pytest

from conftest import require_shared
from model_runtime.errors import SignAvatarError
from model_runtime.landmarks import handedness as H
from model_runtime.landmarks.sequence import FACE_ORDER, LandmarkSequence
from model_runtime.landmarks.sources import iter_clips, require_landmarks


def raw_rows(dataset: str, sample_id) -> np.ndarray:
    """The (T, 115, 3) rows of one sample, read the way the shared README shows."""
    root = require_shared("data", dataset)
    idx = pd.read_csv(root / "index.csv")
    r = idx[idx.sample_id.astype(str) == str(sample_id)].iloc[0]
    z = np.load(io.BytesIO(lzma.decompress((root / r.shard).read_bytes())))
    return z["data"][r.start:r.end].astype(np.float32)


def test_face_order_matches_the_shared_layout():
    import json

    meta = json.loads((require_shared("data", "gislr") / "meta.json").read_text())
    assert tuple(meta["face_index_order"]) == FACE_ORDER
    assert sorted(H.FACE_MIRROR) == list(range(40)) and all(H.FACE_MIRROR[H.FACE_MIRROR[i]] == i for i in range(40))


@pytest.mark.parametrize("name", ["gislr", "mpdata", "dictvideo"])
def test_shard_clip_has_the_shared_numbers_and_metadata(shared, name):
    refs = iter_clips(name)
    assert len(refs) == {"gislr": 747, "mpdata": 9266, "dictvideo": 1332}[name]
    assert len({r.clip_id for r in refs}) == len(refs)
    ref = refs[5]
    seq = ref.load()
    expected = raw_rows(name, ref.meta["sample_id"])
    got = seq.rows()
    if seq.meta["hand_labels_swapped"]:
        got = np.concatenate([got[:, :33], got[:, 54:75], got[:, 33:54], got[:, 75:]], axis=1)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got[np.isfinite(got)], expected[np.isfinite(expected)], atol=1e-3)
    assert seq.meta["gloss"] and seq.meta["signer"].startswith(name + ":")
    assert seq.meta["source_repo"] and seq.meta["licence"]
    if name == "dictvideo":
        assert seq.pose_world is not None and seq.image_size == (int(ref.row["width"]), int(ref.row["height"]))
        assert seq.fps == pytest.approx(float(ref.row["fps"])) and not seq.meta["fps_assumed"]
        assert seq.meta["licence"] in ("CC0", "none stated")
    else:  # no frame rate stored: 30 assumed and flagged
        assert seq.fps == 30.0 and seq.meta["fps_assumed"] and seq.image_size is None
    if name == "mpdata":
        assert seq.meta["sign_language"] in ("ASL", "ISL", "BSL", "unspecified", "SLSL", "PSL", "VSL")
        vis = seq.meta["pose_visibility"]
        assert vis.shape == (seq.num_frames, 33) and np.nanmax(vis) <= 1.0


def test_mpdata_sign_language_and_licence_columns(shared):
    refs = iter_clips("mpdata")
    langs = {r.sign_language for r in refs}
    assert {"ASL", "ISL", "BSL", "unspecified"} <= langs
    assert sum(r.sign_language == "ISL" for r in refs) == 851
    assert {r.licence for r in refs} == {"none stated", "MIT", "Apache-2.0"}


def test_parquet_matches_its_shard_copy(shared):
    refs = iter_clips("gislr-parquet")
    assert len(refs) == 6
    for ref in refs[:3]:
        seq = ref.load()
        shard = raw_rows("gislr", ref.meta.get("sample_id") or seq.meta["sample_id"])
        assert seq.meta["gloss"] in ("hello", "thankyou") and seq.meta["signer"].startswith("gislr:")
        got = seq.rows()
        assert got.shape == shard.shape
        np.testing.assert_allclose(got, shard, atol=2e-3, equal_nan=True)  # the shard is float16


def test_aslapp_signs(shared):
    refs = iter_clips("aslapp")
    assert len(refs) == 100 and {r.licence for r in refs} == {"MIT"}
    seq = next(r for r in refs if r.gloss == "thank_you").load()
    assert seq.fps == pytest.approx(29.97) and seq.num_frames == 66
    present = np.isfinite(seq.face).all(axis=2).any(axis=0)  # point seen in some frame
    # lip corners 61/291, eyes, eyebrows, nose tip exist in the app's 33 points; 40/37/... and 168 do not
    assert present[FACE_ORDER.index(61)] and present[FACE_ORDER.index(291)] and present[FACE_ORDER.index(1)]
    assert not present[FACE_ORDER.index(40)] and not present[FACE_ORDER.index(168)]
    assert H.dominance(seq) > 0.5  # THANK-YOU is signed with the right hand


def _synthetic(T=20, swap=False) -> LandmarkSequence:
    """A frontal signer whose right hand moves in front of the chest; left hand at rest."""
    rng = np.random.default_rng(0)
    pose = np.full((T, 33, 3), 0.5, dtype=np.float32)
    pose[:, 11, :2] = [0.6, 0.4]  # left shoulder on the image right
    pose[:, 12, :2] = [0.4, 0.4]
    pose[:, 0, :2] = [0.5, 0.3]
    t = np.linspace(0, 1, T)
    pose[:, 16, 0], pose[:, 16, 1] = 0.45 + 0.05 * np.sin(6 * t), 0.45  # right wrist raised and moving
    pose[:, 15, :2] = [0.62, 0.75]  # left wrist down
    pose[..., 2] = 0
    rh = pose[:, 16:17] + rng.normal(0, 0.01, (T, 21, 3)).astype(np.float32)
    lh = pose[:, 15:16] + rng.normal(0, 0.01, (T, 21, 3)).astype(np.float32)
    if swap:
        lh, rh = rh, lh
    face = np.full((T, 40, 3), 0.5, dtype=np.float32)
    return LandmarkSequence(pose=pose, left_hand=lh, right_hand=rh, face=face, fps=30.0, source="synthetic")


def test_swapped_labels_are_repaired_and_recorded():
    good, bad = _synthetic(), _synthetic(swap=True)
    fixed = H.fix_hand_labels(bad)
    np.testing.assert_array_equal(fixed.left_hand, good.left_hand)
    assert fixed.hands_swapped and fixed.meta["hand_labels_swapped"]
    kept = H.fix_hand_labels(good)
    assert not kept.hands_swapped and not kept.meta["hand_labels_swapped"]
    # one slipped frame inside an otherwise right sequence is swapped on its own
    slip = good.left_hand.copy(), good.right_hand.copy()
    lh, rh = slip
    lh[7], rh[7] = good.right_hand[7], good.left_hand[7]
    one = H.fix_hand_labels(LandmarkSequence(pose=good.pose, left_hand=lh, right_hand=rh, face=good.face, fps=30))
    np.testing.assert_array_equal(one.left_hand, good.left_hand)
    assert one.meta["hand_frames_swapped"] == 1 and not one.hands_swapped


def test_mirror_makes_a_left_handed_clip_right_handed():
    seq = _synthetic()
    assert H.dominance(seq) > 1
    m = H.mirror(seq)
    assert H.dominance(m) < -1 and m.meta["mirrored"] and m.hands_swapped
    # the body's left is still on the image right, and the left hand on the left wrist
    assert (m.pose[:, 11, 0] > m.pose[:, 12, 0]).all()
    assert np.allclose(m.left_hand[:, :, :2].mean(1), m.pose[:, 15, :2], atol=0.02)
    back = H.mirror(m)
    np.testing.assert_allclose(back.rows(), seq.rows(), atol=1e-6)
    assert not back.meta["mirrored"] and not back.hands_swapped
    norm = H.normalise_dominant_hand(m)
    assert H.dominance(norm) > 1 and not norm.meta["mirrored"]


def test_mirror_decisions_follow_the_recording_set():
    # a set of 10 clearly left-handed clips: every clip of it is mirrored, even the unclear ones
    scores = [-1.5] * 8 + [0.1, 0.6]
    assert H.mirror_decisions(scores, ["a"] * 10).all()
    # a right-handed set keeps its odd two-handed clip
    assert not H.mirror_decisions([1.2] * 9 + [-0.7], ["b"] * 10).any()
    # a mixed set decides clip by clip
    got = H.mirror_decisions([1.0, -1.0, 1.0, -1.0, 1.0, -1.0], ["c"] * 6)
    assert got.tolist() == [False, True, False, True, False, True]


def test_real_swapped_recordings_are_relabelled(shared):
    """Abdel-Rahman-Emam's MP_Data stores the hands in the other order: the loader notices it from the data."""
    refs = [r for r in iter_clips("mpdata") if r.meta.get("source_repo") == "Abdel-Rahman-Emam/Grad-Proj-DL"]
    assert len(refs) > 20
    swapped = 0
    for ref in refs[:12]:
        seq = ref.load()
        swapped += seq.meta["hand_labels_swapped"]
        assert seq.hands_swapped == seq.meta["hand_labels_swapped"]
        assert seq.meta["hand_wrist_gap"] < 0.3
        for hand, wrist, other in ((seq.left_hand, 15, 16), (seq.right_hand, 16, 15)):
            ok = np.isfinite(hand[:, 0, 0]) & np.isfinite(seq.pose[:, wrist, 0])
            if ok.sum() < 3:
                continue
            near = np.linalg.norm(hand[ok, 0, :2] - seq.pose[ok, wrist, :2], axis=-1)
            far = np.linalg.norm(hand[ok, 0, :2] - seq.pose[ok, other, :2], axis=-1)
            assert np.median(near) < np.median(far)
    assert swapped >= 10


def test_hands_that_do_not_belong_to_the_body_are_measured(shared):
    """Quisha16's recordings put the hand points far from the body's wrists: QC drops such clips."""
    from model_runtime.data.qc import QCConfig, frame_signals, judge

    ref = next(r for r in iter_clips("mpdata") if r.meta.get("source_repo") == "Quisha16/Sign-Language-Recognition")
    seq = ref.load()
    assert seq.meta["hand_wrist_gap"] > 0.5
    v = judge(frame_signals(seq), seq.fps, None, {}, QCConfig(), seq.meta["hand_wrist_gap"])
    assert not v.kept and "hands off the body" in v.reason


def test_gislr_signers_who_sign_left_handed_are_mirrored_consistently(shared):
    """Eight GISLR participants sign with their left hand (or a mirrored phone); the build mirrors them all."""
    refs = [r for r in iter_clips("gislr") if r.signer in ("gislr:16069", "gislr:2044")]
    scores = [H.dominance(r.load()) for r in refs]
    flags = H.mirror_decisions(scores, [r.signer for r in refs])
    by = {s: [f for f, r in zip(flags, refs) if r.signer == s] for s in ("gislr:16069", "gislr:2044")}
    assert all(by["gislr:16069"]) and not any(by["gislr:2044"])


def test_nan_only_and_hand_less_landmarks_are_refused():
    seq = _synthetic()
    nan = LandmarkSequence(pose=np.full_like(seq.pose, np.nan), left_hand=np.full_like(seq.left_hand, np.nan),
                           right_hand=np.full_like(seq.right_hand, np.nan), face=seq.face, fps=30, source="x.json")
    with pytest.raises(SignAvatarError, match=r"no body \(pose\) landmarks and no hand landmarks.*20 frames"):
        require_landmarks(nan)
    handless = LandmarkSequence(pose=seq.pose, left_hand=nan.left_hand, right_hand=nan.right_hand, face=seq.face,
                                fps=30, source="y")
    with pytest.raises(SignAvatarError, match="no hand landmarks"):
        require_landmarks(handless)


def test_bad_source_files_give_clear_errors(tmp_path):
    (tmp_path / "empty.parquet").write_bytes(b"")
    with pytest.raises(SignAvatarError, match="empty"):
        iter_clips(str(tmp_path / "empty.parquet"))[0].load()
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(SignAvatarError, match="not a readable GISLR parquet"):
        iter_clips(str(tmp_path / "junk.parquet"))[0].load()
    (tmp_path / "s.json").write_text('{"sign": "x", "frames": []}')
    with pytest.raises(SignAvatarError, match="no 'frames'"):
        iter_clips(str(tmp_path / "s.json"))[0].load()
    nan_frames = {"sign": "x", "fps": 30, "frames": [{"pose": [None] * 33, "left_hand": [None] * 21,
                                                      "right_hand": [None] * 21, "face": [None] * 33}] * 4}
    import json

    (tmp_path / "nan.json").write_text(json.dumps(nan_frames))
    with pytest.raises(SignAvatarError, match="no body .* in any of its 4 frames"):
        iter_clips(str(tmp_path / "nan.json"))[0].load()
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(SignAvatarError, match="unknown source file type"):
        iter_clips(str(tmp_path / "notes.txt"))
    with pytest.raises(SignAvatarError, match="source not found"):
        iter_clips("no-such-dataset")
    bad_shard = tmp_path / "ds"
    bad_shard.mkdir()
    (bad_shard / "index.csv").write_text("sample_id,gloss,signer_id,sign_language,shard,start,end\n"
                                         "a,hello,s,ASL,x.npz.xz,0,3\n")
    (bad_shard / "x.npz.xz").write_bytes(b"garbage")
    with pytest.raises(SignAvatarError, match="not a readable .npz.xz landmark shard"):
        iter_clips(str(bad_shard))[0].load()


def test_slicing_cuts_per_frame_metadata_too(shared):
    seq = iter_clips("dictvideo")[0].load()
    part = seq.slice(5, 15)
    assert part.num_frames == 10 and part.pose_world.shape == (10, 33, 3)
    np.testing.assert_array_equal(part.meta["pose_visibility"], seq.meta["pose_visibility"][5:15])
    assert part.meta["gloss"] == seq.meta["gloss"]
