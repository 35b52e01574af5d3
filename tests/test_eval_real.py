"""The evaluation instrument on real shared data, built by the product's own builder."""

import json
import subprocess
import sys

import pytest

from conftest import REPO, require_shared
from eval_fixtures import mini_mpdata

GLOSSES = {"hello": 24, "iloveyou": 24, "yes": 24, "please": 24}  # at most 2 clips per signer


@pytest.fixture(scope="module")
def real_dataset(tmp_path_factory):
    """96 real webcam clips of 4 glosses from many signers -> SMPL-X with the real IK (QC off: keep every clip)."""
    tmp = tmp_path_factory.mktemp("real")
    src = mini_mpdata(tmp / "src", GLOSSES, require_shared("data", "mpdata"))
    out = tmp / "ds"
    r = subprocess.run([sys.executable, "-m", "model_runtime", "data", "build", str(src), "--min-samples", "5",
                        "--no-qc", "--signer-split", "--no-clips", "--workers", "2", "--cache-dir", str(tmp / "cache"),
                        "--out", str(out)], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def test_recognizer_beats_chance_on_real_clips_and_writes_reports(real_dataset, tmp_path):
    out = tmp_path / "ev"
    r = subprocess.run([sys.executable, "-m", "model_runtime", "evaluate", "--data", str(real_dataset), "--out",
                        str(out), "--groups", "raw", "--seeds", "3", "--recognizer-epochs", "15"],
                       cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    rec = report["recognizer"]
    assert rec["glosses"] == 4 and rec["chance_accuracy"] == 0.25
    assert report["clips"]["test"] >= 16
    # chance is 0.25; 0.5 on >= 16 unseen clips happens by luck with probability < 3 %
    assert rec["raw_test_accuracy"] >= 0.5, rec
    md = (out / "report.md").read_text()
    assert "| Raw |" in md and f"{rec['raw_test_accuracy']:.3f}" in md
    assert (out / "report.png").stat().st_size > 10_000
    raw = report["groups"]["raw_test"]
    assert raw["diversity"]["mean"] > raw["multimodality"]["mean"] > 0  # clips of one gloss are closer


def test_signer_disjoint_report_on_real_clips(real_dataset, tmp_path):
    out = tmp_path / "ev_signer"
    r = subprocess.run([sys.executable, "-m", "model_runtime", "evaluate", "--data", str(real_dataset), "--out",
                        str(out), "--groups", "raw", "--seeds", "2", "--recognizer-epochs", "3", "--split", "signer",
                        "--mm-min-samples", "2"], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert report["recognizer"]["split_kind"] == "signer"
    assert "signer-disjoint" in (out / "report.md").read_text()


def test_qc_ablation_builds_both_sets_and_keeps_reference_test_clips_out_of_training(tmp_path):
    import csv
    import shlex

    src = mini_mpdata(tmp_path / "src", {"hello": 12, "iloveyou": 12}, require_shared("data", "mpdata"))
    out = tmp_path / "abl"
    tiny = ["--epochs", "2", "--batch-size", "8", "--quiet", "--threads", "1", "--d-model", "32", "--cond-dim", "16",
            "--mlp-hidden", "32", "--enc-layers", "1", "--dec-layers", "1", "--ff-dim", "64", "--heads", "2"]
    build = ["--min-samples", "3", "--no-clips", "--cache-dir", str(tmp_path / "cache")]
    r = subprocess.run([sys.executable, "-m", "model_runtime", "evaluate", "--ablation", "qc", "--sources", str(src),
                        "--out", str(out), "--seeds", "2", "--recognizer-epochs", "2", "--mm-min-samples", "2",
                        "--build-args", shlex.join(build), "--train-args", shlex.join(tiny)],
                       cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]

    def splits(name):
        with open(out / "data" / name / "index.csv", newline="") as f:
            return {row["clip_id"]: row["split"] for row in csv.DictReader(f)}

    qc, no_qc = splits("qc"), splits("no_qc")
    assert len(no_qc) >= len(qc) and set(qc) <= set(no_qc)
    assert not [c for c, s in qc.items() if s == "test" and no_qc[c] == "train"]
    md = (out / "report.md").read_text()
    assert "| QC |" in md and "| no QC |" in md
    assert (out / "ablation.png").is_file()
    report = json.loads((out / "report.json").read_text())
    assert report["variants"]["QC"]["data"] == report["variants"]["no QC"]["data"] == str(out / "data" / "qc")
