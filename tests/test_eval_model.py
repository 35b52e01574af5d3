"""``evaluate`` with a real (tiny) trained model: Table I groups and the curriculum ablation, end to end."""

import json
import shlex

import pytest

from eval_fixtures import make_dataset, one_torch_thread
from model_runtime.cli import main

TINY = ["--epochs", "3", "--batch-size", "8", "--quiet", "--threads", "1", "--d-model", "32", "--cond-dim", "16",
        "--mlp-hidden", "32", "--enc-layers", "1", "--dec-layers", "1", "--ff-dim", "64", "--heads", "2"]

_threads = pytest.fixture(scope="module", autouse=True)(one_torch_thread)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("d") / "ds", glosses=3, per_gloss=10)


def test_evaluate_a_trained_model_writes_table_i(data, tmp_path):
    run = tmp_path / "run"
    assert main(["train", "--data", str(data), "--out", str(run), *TINY]) == 0
    out = tmp_path / "ev"
    assert main(["evaluate", "--checkpoint", str(run), "--data", str(data), "--out", str(out), "--seeds", "2",
                 "--recognizer-epochs", "3", "--mm-min-samples", "2"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report["groups"]) == {f"{g}_{s}" for g in ("raw", "rec", "gen") for s in ("train", "test")}
    assert report["checkpoint"] == str(run)
    md = (out / "report.md").read_text()
    assert "| Rec |" in md and "| Gen |" in md and "Gen_test accuracy ≥ 0.9 × Raw_test accuracy" in md


def test_curriculum_ablation_trains_both_variants_and_writes_table_ii(data, tmp_path):
    out = tmp_path / "abl"
    assert main(["evaluate", "--ablation", "curriculum", "--data", str(data), "--out", str(out), "--seeds", "2",
                 "--recognizer-epochs", "3", "--train-args", shlex.join(TINY)]) == 0
    cfg = {v: json.loads((out / "runs" / v / "config.json").read_text()) for v in ("curriculum", "no_curriculum")}
    assert '"curriculum": true' in json.dumps(cfg["curriculum"]) and '"curriculum": false' in json.dumps(
        cfg["no_curriculum"])
    md = (out / "report.md").read_text()
    assert "| curriculum |" in md and "| no curriculum |" in md
    assert (out / "ablation.png").stat().st_size > 10_000
    variants = json.loads((out / "report.json").read_text())["variants"]
    # one yardstick: both variants judged by the same recognizer on the same Raw sets
    assert variants["curriculum"]["groups"]["raw_test"] == variants["no curriculum"]["groups"]["raw_test"] | {
        "seconds": variants["curriculum"]["groups"]["raw_test"]["seconds"]}
    # a second call reuses the trained runs instead of training again
    stamp = (out / "runs" / "no_curriculum" / "model.safetensors").stat().st_mtime_ns
    assert main(["evaluate", "--ablation", "curriculum", "--data", str(data), "--out", str(out), "--seeds", "2",
                 "--recognizer-epochs", "3", "--train-args", shlex.join(TINY)]) == 0
    assert (out / "runs" / "no_curriculum" / "model.safetensors").stat().st_mtime_ns == stamp


def test_reports_flag_a_model_that_saw_the_test_clips(data, tmp_path):
    run = tmp_path / "run_all"
    assert main(["train", "--data", str(data), "--out", str(run), "--split", "all", *TINY]) == 0
    out = tmp_path / "ev"
    assert main(["evaluate", "--checkpoint", str(run), "--data", str(data), "--out", str(out), "--seeds", "2",
                 "--recognizer-epochs", "3", "--groups", "raw,rec"]) == 0
    held = json.loads((out / "report.json").read_text())["held_out"]
    assert held["overlap"] == held["test_clips"] == 6
    assert "6 of them were in its training data" in (out / "report.md").read_text()


def test_signer_disjoint_training_keeps_test_signers_unseen(data, tmp_path):
    out = tmp_path / "signer"
    assert main(["evaluate", "--train", "--split", "signer", "--data", str(data), "--out", str(out), "--seeds", "2",
                 "--recognizer-epochs", "3", "--mm-min-samples", "2", "--train-args", shlex.join(TINY)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["held_out"]["overlap"] == 0 and report["held_out"]["trained_on"] == str(out / "data" / "signer_view")
    assert report["protocol"]["split_kind"] == "signer" and report["recognizer"]["split_kind"] == "signer"
    assert "signer-disjoint" in (out / "report.md").read_text()
