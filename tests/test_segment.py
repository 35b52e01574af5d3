"""A long recording cut into signs at motion pauses: on concatenated shared clips with known joins, through
the ``data segment`` command and ``data build --segment-glosses`` on a synthetic long video."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest

from conftest import require_shared
from model_runtime.cli import main
from model_runtime.errors import SignAvatarError
from model_runtime.landmarks.segment import SegmentConfig, match_glosses, segment_signs
from model_runtime.landmarks.sequence import LandmarkSequence
from video_frames import read_frames

LONG_CLIPS = ("startasl_hello.mp4", "startasl_book.mp4", "startasl_drink.mp4", "startasl_eat.mp4")


@pytest.fixture(scope="module")
def startasl_clips():
    """Single-sign StartASL clips of the shared dictionary landmarks (736x414, rest pose at both ends)."""
    from model_runtime.landmarks.sources import iter_clips

    require_shared("data", "dictvideo")
    refs = [r for r in iter_clips("dictvideo") if r.row.get("source_group") == "startasl"
            and r.row.get("width") == "736" and r.row.get("phrase") == "0"]
    assert len(refs) >= 40
    return [r.load() for r in refs]


def _concat(parts):
    rows = np.concatenate([p.rows() for p in parts])
    joins = np.cumsum([p.num_frames for p in parts])[:-1] / parts[0].fps
    return LandmarkSequence.from_rows(rows, fps=parts[0].fps, image_size=parts[0].image_size), joins


def test_concatenated_dictionary_clips_are_cut_at_their_joins(startasl_clips):
    rng = np.random.default_rng(0)
    errors, found_right = [], 0
    for _ in range(25):
        parts = [startasl_clips[i] for i in rng.choice(len(startasl_clips), 5, replace=False)]
        seq, joins = _concat(parts)
        found = segment_signs(seq)
        if len(found.segments) == 5:
            found_right += 1
            errors += list(np.abs(np.array(found.cuts) - joins))
            # each sign's frames lie inside its own clip's time, give or take the padding
            starts = np.r_[0, joins] * seq.fps
            for s, lo, hi in zip(found.segments, starts, np.r_[joins * seq.fps, seq.num_frames]):
                assert lo - 10 <= s.moving[0] and s.moving[1] <= hi + 10
    errors = np.array(errors)
    assert found_right == 25
    assert np.median(errors) < 0.25 and errors.max() < 0.6  # measured: median 0.13 s, max 0.40 s (60 joins x 4)


def test_one_sign_alone_is_one_segment_and_a_twitch_is_not_a_sign(startasl_clips):
    seq = startasl_clips[0]
    assert len(segment_signs(seq).segments) == 1
    assert segment_signs(seq, SegmentConfig(min_sign_s=60)).segments == []


def test_a_gloss_list_of_the_wrong_length_is_refused_naming_what_was_found(startasl_clips):
    seq, _ = _concat(startasl_clips[:3])
    found = segment_signs(seq)
    match_glosses(found, ["A", "B", "C"], "long.mp4")
    with pytest.raises(SignAvatarError, match=r"long.mp4: found 3 signs at motion pauses but the gloss list has 4 "
                                              r"\(A, B, C, D\); signs found at 1: 0\.\d\d.* s; fewer pauses"):
        match_glosses(found, ["A", "B", "C", "D"], "long.mp4")


# ---- a synthetic long video: four shared single-sign videos one after the other ----------------------------------



@pytest.fixture(scope="module")
def long_video(tmp_path_factory):
    """(path, joins in seconds): 4 StartASL clips at half size (368x207), 9.6 s at 29.97 fps."""
    folder = tmp_path_factory.mktemp("long")
    frames, joins = [], []
    for name in LONG_CLIPS:
        frames += read_frames(require_shared("videos", name), (368, 207))
        joins.append(len(frames) / 29.97)
    path = folder / "long.mp4"
    wr = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 29.97, (368, 207))
    for f in frames:
        wr.write(f)
    wr.release()
    (folder / "glosses.txt").write_text("# the signs, in order\nHELLO\nBOOK\n\nDRINK\nEAT\n")
    return path, np.array(joins[:-1])


@pytest.fixture(scope="module")
def built(long_video, tmp_path_factory):
    """``data build --segment-glosses`` on the long video (landmarks once; the cut signs land in the cache)."""
    path, _ = long_video
    out = tmp_path_factory.mktemp("built")
    rc = main(["data", "build", str(path), "--segment-glosses", str(path.parent / "glosses.txt"), "--out",
               str(out / "ds"), "--cache-dir", str(out / "cache"), "--min-samples", "1", "--workers", "1",
               "--language", "any"])
    return rc, out


def test_build_cuts_a_long_video_into_its_signs_with_their_glosses(built, long_video):
    rc, out = built
    _, joins = long_video
    assert rc == 0
    [folder] = (out / "cache" / "recordings").iterdir()
    rows = list(csv.DictReader(open(folder / "index.csv")))
    assert [r["gloss"] for r in rows] == ["HELLO", "BOOK", "DRINK", "EAT"]
    cuts = np.array([float(r["cut_after_s"]) for r in rows[:-1]])
    assert np.abs(cuts - joins).max() < 0.5, (cuts, joins)
    for r, lo, hi in zip(rows, np.r_[0, joins], np.r_[joins, 99]):
        assert lo - 0.3 <= float(r["start_s"]) < float(r["end_s"]) <= hi + 0.3
    ds = list(csv.DictReader(open(out / "ds" / "index.csv")))
    assert sorted({r["gloss"].upper() for r in ds}) == ["BOOK", "DRINK", "EAT", "HELLO"]


def test_segment_command_writes_signs_csv_and_preview(built, tmp_path, capsys, monkeypatch):
    from PIL import Image

    import model_runtime.data.segments as segments
    from model_runtime.landmarks.sources import iter_clips

    _, out = built
    [folder] = (out / "cache" / "recordings").iterdir()
    rows = list(csv.DictReader(open(folder / "index.csv")))
    video = rows[0]["segment_of"]
    assert len(iter_clips(str(folder))) == 4  # the folder is a landmark source
    seq = segments._load(video, False, False, 1)  # read once more here; the commands below reuse it
    monkeypatch.setattr(segments, "_load", lambda *a, **k: seq)
    rc = main(["data", "segment", video, "--out", str(tmp_path / "signs"), "--preview", str(tmp_path / "cuts.png")])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "4 signs at 1: " in printed and "wrote" in printed
    assert Image.open(tmp_path / "cuts.png").size[0] == 1200
    again = list(csv.DictReader(open(tmp_path / "signs" / "index.csv")))
    assert [(r["start_s"], r["end_s"]) for r in again] == [(r["start_s"], r["end_s"]) for r in rows]

    (tmp_path / "three.txt").write_text("HELLO\nBOOK\nDRINK\n")
    rc = main(["data", "segment", video, "--out", str(tmp_path / "wrong"), "--glosses", str(tmp_path / "three.txt")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("error: ")
    assert "found 4 signs at motion pauses but the gloss list has 3" in err[0]
    assert not (tmp_path / "wrong").exists()  # nothing half-written


def test_bad_segment_arguments_are_refused_up_front(tmp_path, capsys):
    (tmp_path / "v.mp4").write_bytes(b"")
    (tmp_path / "empty.txt").write_text("\n# nothing\n")
    cases = [(["--min-pause", "0"], "--min-pause must be a positive number"),
             (["--preview", str(tmp_path / "x.jpg")], "--preview must end in .png"),
             (["--glosses", str(tmp_path / "empty.txt")], "the gloss list is empty"),
             (["--glosses", str(tmp_path / "none.txt")], "cannot read the gloss list")]
    for extra, msg in cases:
        rc = main(["data", "segment", str(tmp_path / "v.mp4"), "--out", str(tmp_path / "o")] + extra)
        err = capsys.readouterr().err
        assert rc == 2 and err.startswith("error: ") and msg in err, (extra, err)
    rc = main(["data", "segment", str(tmp_path / "v.mp4"), "--out", str(tmp_path / "o")])
    assert rc == 2 and "empty (0 bytes)" in capsys.readouterr().err
    rc = main(["data", "build", "gislr", "aslapp", "--segment-glosses", str(tmp_path / "empty.txt"), "--out",
               str(tmp_path / "ds")])
    assert rc == 2 and "exactly one SOURCE" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() and not (tmp_path / "ds").exists()
