"""Batch rendering without Blender: job lists, names, shards, resume records, summary, framing, sheets."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model_runtime.errors import SignAvatarError
from signavatar_blender.render import framing, records, sheet
from signavatar_blender.render.cli import build_parser, settings_from_args
from signavatar_blender.render.worklist import MOTION, SENTENCE, make_jobs, parse_shard, safe_name, shard
from signavatar_blender.render.settings import RenderSettings, parse_colour

REPO = Path(__file__).resolve().parents[1]


def test_jobs_from_command_line_text_and_csv_files(tmp_path):
    txt = tmp_path / "words.txt"
    txt.write_text("# a dictionary page\nwater\n\nmother  # with a comment\n")
    table = tmp_path / "jobs.csv"
    table.write_text("gloss,seed,name,sentence\nbook,3,,\nbook,4,book_alt,\n,,,hello my name\n")
    jobs = make_jobs(["hello", "Thank you"], ["good morning"], [txt, table], seed=0)
    assert [(j.text, j.seed, j.name, j.kind) for j in jobs] == [
        ("hello", 0, "hello", "gloss"), ("Thank you", 0, "thank_you", "gloss"),
        ("good morning", 0, "good_morning", SENTENCE), ("water", 0, "water", "gloss"),
        ("mother", 0, "mother", "gloss"), ("book", 3, "book_seed3", "gloss"), ("book", 4, "book_alt", "gloss"),
        ("hello my name", 0, "hello_my_name", SENTENCE)]


def test_every_problem_in_a_job_file_is_named_at_once(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("gloss,seed,sentence\nbook,x,\nwater,1,hello\n")
    with pytest.raises(SignAvatarError) as e:
        make_jobs([], [], [bad], seed=0)
    assert "line 2: seed must be a whole number" in str(e.value) and "line 3: give one of gloss, sentence or image" in str(e.value)
    headerless = tmp_path / "plain.csv"
    headerless.write_text("book,1\n")
    with pytest.raises(SignAvatarError, match="needs a header"):
        make_jobs([], [], [headerless], seed=0)
    with pytest.raises(SignAvatarError, match="duplicate output names: hello and HELLO"):
        make_jobs(["hello", "HELLO"], [], [], seed=0)
    with pytest.raises(SignAvatarError, match="nothing to render"):
        make_jobs([], [], [], seed=0)
    with pytest.raises(SignAvatarError, match="motion files not found"):
        make_jobs([], [], [], seed=0, motions=[tmp_path / "missing.npz"])


def test_motion_file_jobs_are_named_after_the_file(tmp_path):
    f = tmp_path / "My Clip.npz"
    f.write_bytes(b"")
    [job] = make_jobs([], [], [], seed=0, motions=[f])
    assert (job.kind, job.name, job.text) == (MOTION, "my_clip", str(f))


def test_safe_names_are_plain_ascii():
    assert safe_name("Thank you!") == "thank_you"
    assert safe_name("café/../x") == "cafe_x"
    assert safe_name("???") == "clip"


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_shards_are_disjoint_cover_everything_and_are_balanced(n):
    jobs = make_jobs([f"g{i}" for i in range(20)], [], [], seed=0)
    parts = [shard(jobs, k, n) for k in range(1, n + 1)]
    names = [j.name for p in parts for j in p]
    assert sorted(names) == sorted(j.name for j in jobs) and len(set(names)) == len(names)
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_shard_argument():
    assert parse_shard("2/4") == (2, 4) and parse_shard(None) == (1, 1)
    for bad in ("0/4", "5/4", "1-4", "a/b"):
        with pytest.raises(SignAvatarError, match="k/n"):
            parse_shard(bad)


def test_cli_arguments_map_onto_settings(tmp_path):
    args = build_parser().parse_args(["render", "hello", "--resolution", "320x240", "--engine", "cycles",
                                      "--avatar", "female", "--background", "#ffffff", "--shard", "1/2",
                                      "--out", str(tmp_path), "--contact-sheet", "--aa", "off"])
    s = settings_from_args(args)
    assert (s.width, s.height, s.engine, s.avatar, s.background, s.shard, s.contact_sheet, s.aa) == (
        320, 240, "cycles", "female", (1.0, 1.0, 1.0), (1, 2), True, "off")
    assert s.problems() == []
    bad = RenderSettings(width=641, height=480, fps=0.5, hold=-1, avatar="robot")
    msg = "; ".join(bad.problems())
    assert "even numbers" in msg and "--fps" in msg and "--hold" in msg and "--avatar" in msg
    assert parse_colour("204,206,211") == pytest.approx((0.8, 0.8078, 0.8275), abs=1e-3)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["render", "--resolution", "big"])


def _result(name, status, files=(), settings=None):
    return records.JobResult(name=name, text=name, kind="gloss", seed=0, status=status, files=list(files),
                             settings=settings or {})


def test_resume_needs_the_same_settings_and_the_files(tmp_path):
    from test_render_safety import tiny_mp4

    from signavatar_blender.render import outputs

    settings = RenderSettings().shaping() | {"text": "hello", "seed": 0, "kind": "gloss"}
    (tmp_path / "hello.mp4").write_bytes(tiny_mp4(3))
    result = _result("hello", records.RENDERED, ["hello.mp4"], settings)
    result.checks = outputs.describe(tmp_path, ["hello.mp4"])
    records.write_record(tmp_path, result)
    assert records.finished(tmp_path, "hello", settings).files == ["hello.mp4"]
    assert records.finished(tmp_path, "hello", settings | {"width": 320}) is None  # settings changed
    (tmp_path / "hello.mp4").unlink()
    assert records.finished(tmp_path, "hello", settings) is None  # output gone
    records.write_record(tmp_path, _result("bad", records.FAILED, [], settings))
    assert records.finished(tmp_path, "bad", settings) is None  # failures are retried
    (tmp_path / "torn.json").write_text("{not json")
    assert records.finished(tmp_path, "torn", settings) is None


def test_summary_lists_every_job_with_counts(tmp_path):
    rs = [_result("a", records.RENDERED, ["a.mp4"]), _result("b", records.SKIPPED), _result("c", records.FAILED)]
    rs[2].reason = "'c' is not a sign this model knows"
    csv_path, json_path = records.write_summary(tmp_path, rs, (2, 3), {"out_dir": str(tmp_path)})
    assert csv_path.name == "summary-2-of-3.csv"
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    assert [(r["name"], r["status"]) for r in rows] == [("a", "rendered"), ("b", "skipped"), ("c", "failed")]
    assert rows[2]["reason"] == "'c' is not a sign this model knows"
    doc = json.loads(json_path.read_text())
    assert doc["counts"] == {"rendered": 1, "skipped": 1, "failed": 1} and doc["shard"] == "2/3"


def test_progress_lines_show_throughput_and_eta():
    out = io.StringIO()
    p = records.Progress(4, out)
    p.update(_result("a", records.SKIPPED))
    r = _result("b", records.RENDERED)
    r.seconds = 30.0  # the first job also sets Blender up
    line = p.update(r)
    assert line.startswith("[2/4] b: rendered in 30.0 s") and "clips/min" in line and "ETA 1:00" in line
    r = _result("c", records.RENDERED)
    r.seconds = 10.0
    assert "ETA 0:10" in p.update(r)  # later jobs set the pace


def test_front_camera_fits_every_point_with_the_margin():
    rng = np.random.default_rng(0)
    for aspect in (4 / 3, 16 / 9, 0.75):
        pts = rng.normal(0, 0.25, (300, 3)) + np.array([0.3, 0.0, 1.3])
        pts[:5] += [0.9, -0.4, 0.2]  # a hand reaching out towards the camera
        f = framing.fit_front_camera(pts, aspect, margin=0.05)
        uvd = framing.project(pts, f.location, aspect, f.lens_mm, f.sensor_mm)
        assert (uvd[:, 2] > f.clip_start).all()
        assert uvd[:, :2].min() >= 0.05 - 1e-6 and uvd[:, :2].max() <= 0.95 + 1e-6
        # tight: some point touches the margin (the camera is as close as it can be)
        assert min(uvd[:, :2].min() - 0.05, 0.95 - uvd[:, :2].max()) < 1e-3


def test_png_writer_round_trips(tmp_path):
    from PIL import Image

    img = np.random.default_rng(0).random((37, 53, 3)).astype(np.float32)
    sheet.write_png(tmp_path / "x.png", img)
    back = np.asarray(Image.open(tmp_path / "x.png").convert("RGB"), np.float32) / 255
    assert back.shape == img.shape and np.abs(back - img).max() <= 0.5 / 255 + 1e-6


def test_sheet_layout():
    assert sheet.sheet_frames(1, 60, 8) == [1, 9, 18, 26, 35, 43, 52, 60]
    assert sheet.sheet_frames(1, 3, 8) == [1, 2, 3]
    spans = [("hello", 0, 40), ("B-O-B", 50, 90)]
    assert [sheet.word_at(spans, f) for f in (0, 40, 44, 46, 95)] == ["hello", "hello", "hello", "B-O-B", "B-O-B"]
    assert sheet.word_at([], 3) == ""
    assert [sheet.grid_shape(n) for n in (4, 6, 7, 8, 13)] == [(1, 4), (1, 6), (2, 4), (2, 4), (3, 5)]
    cells = [np.full((2, 3, 4), k / 10, np.float32) for k in range(5)]
    out = sheet.compose(cells, columns=3, gap=1, background=(1, 1, 1))
    assert out.shape == (2 * 2 + 3, 3 * 3 + 4, 4)
    assert out[1, 1, 0] == 0.0 and out[1, 5, 0] == pytest.approx(0.1) and out[4, 5, 0] == pytest.approx(0.4)
    assert out[4, 9, 0] == 1.0  # the empty sixth cell is background


def test_python_m_signavatar_blender_render_help_is_light():
    r = subprocess.run([sys.executable, "-m", "signavatar_blender", "render", "--help"], cwd=REPO,
                       capture_output=True, text=True)
    assert r.returncode == 0 and "--contact-sheet" in r.stdout and "--shard K/N" in r.stdout
    code = ("import sys; from signavatar_blender.render import cli; cli.build_parser(); "
            "print(sorted(m for m in ('bpy', 'torch', 'numpy') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stderr
