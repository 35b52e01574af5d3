"""The evaluation protocol and its report files, judged on models whose quality we know."""

import json

import numpy as np
import pytest

from eval_fixtures import gloss_clip, make_dataset, one_torch_thread
from model_runtime.cli import main
from model_runtime.data.dataset import SignDataset
from model_runtime.errors import SignAvatarError
from model_runtime.evaluation.protocol import ProtocolConfig, evaluate, model_lengths
from model_runtime.evaluation.recognizer import TrainConfig, train_recognizer
from model_runtime.evaluation.report import card_block, plot, table_ii, update_model_card, write_report
from model_runtime.training.card import EVAL_PLACEHOLDER


class FaithfulModel:
    """Reconstructs exactly; generates a fresh clip of the requested gloss from the data's own process."""

    def reconstruct_batch(self, clips, glosses, sample, seed, fps):
        return [np.array(c) for c in clips]

    def generate_batch(self, glosses, lengths, seed):
        rng = np.random.default_rng(seed)
        return [gloss_clip(int(g[1:]), n, rng) for g, n in zip(glosses, lengths)]


class IgnorantModel:
    """Ignores its input and its gloss: every clip is the same gloss-less random wiggle."""

    def reconstruct_batch(self, clips, glosses, sample, seed, fps):
        return self.generate_batch(["g0"] * len(clips), [len(c) for c in clips], seed)

    def generate_batch(self, glosses, lengths, seed):
        rng = np.random.default_rng(seed)
        return [rng.normal(scale=0.3, size=(n, 55, 3)).astype(np.float32) for n in lengths]


_threads = pytest.fixture(scope="module", autouse=True)(one_torch_thread)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = make_dataset(tmp_path_factory.mktemp("ds") / "ds", glosses=4, per_gloss=15)
    ds = SignDataset.open(root)
    tr = ds.indices("train")
    rec = train_recognizer([ds.clip_poses(i) for i in tr], [ds.records[i]["gloss"] for i in tr],
                           train_config=TrainConfig(epochs=6, seed=0), log=lambda s: None)
    cfg = ProtocolConfig(seeds=3, multimodality_min_samples=3)
    good = evaluate(ds, rec, FaithfulModel(), cfg, log=lambda s: None)
    bad = evaluate(ds, rec, IgnorantModel(), cfg, log=lambda s: None)
    return ds, rec, good, bad


def test_faithful_model_matches_raw_and_ignorant_model_does_not(setup):
    _, _, good, bad = setup
    g, b = good["groups"], bad["groups"]
    for split in ("train", "test"):
        assert g[f"rec_{split}"]["accuracy"]["mean"] == g[f"raw_{split}"]["accuracy"]["mean"]
        assert g[f"rec_{split}"]["fid"]["mean"] == pytest.approx(0.0, abs=1e-6)
        assert g[f"gen_{split}"]["accuracy"]["mean"] >= 0.7
        assert b[f"gen_{split}"]["accuracy"]["mean"] <= 0.5  # every clip looks alike: at most one gloss right
        assert b[f"gen_{split}"]["fid"]["mean"] > 5 * g[f"gen_{split}"]["fid"]["mean"]


def test_results_have_every_group_metric_and_seed(setup):
    _, _, good, _ = setup
    assert good["seeds"] == [0, 1, 2]
    assert set(good["groups"]) == {f"{g}_{s}" for g in ("raw", "rec", "gen") for s in ("train", "test")}
    for entry in good["groups"].values():
        for m in ("accuracy", "fid", "diversity", "multimodality"):
            assert len(entry[m]["values"]) == 3 and np.isfinite(entry[m]["mean"])
    gen = good["groups"]["gen_test"]["fid"]["values"]
    assert len(set(gen)) == 3  # generation is redrawn per seed
    assert good["recognizer"]["raw_test_accuracy"] == good["groups"]["raw_test"]["accuracy"]["mean"]


def test_protocol_is_reproducible(setup):
    ds, rec, good, _ = setup
    again = evaluate(ds, rec, FaithfulModel(), ProtocolConfig(seeds=3, multimodality_min_samples=3),
                     log=lambda s: None)
    assert again["groups"] == {k: {**v, "seconds": again["groups"][k]["seconds"]} for k, v in good["groups"].items()}


def test_model_groups_without_a_model_are_refused(setup):
    ds, rec, _, _ = setup
    with pytest.raises(SignAvatarError, match="--checkpoint"):
        evaluate(ds, rec, None, ProtocolConfig(seeds=1), log=lambda s: None)


def test_generated_lengths_keep_each_clips_duration():
    assert model_lengths([30, 15], [30.0, 15.0], 20.0) == [20, 20]
    assert model_lengths([30, 15], [30.0, 15.0], None) == [30, 15]


def test_report_files_and_plot(setup, tmp_path):
    _, _, good, bad = setup
    good = dict(good, data="constructed")
    js, md = write_report(good, tmp_path)
    assert json.loads(js.read_text())["groups"]["gen_test"]["accuracy"]["mean"] == good["groups"]["gen_test"][
        "accuracy"]["mean"]
    text = md.read_text()
    for row in ("| Raw |", "| Rec |", "| Gen |"):
        assert row in text
    assert "Rec_test accuracy ≥ Raw_test accuracy | yes" in text
    ablation = table_ii({"faithful": good, "ignorant": bad})
    assert ablation.count("\n") == 3 and "| ignorant |" in ablation
    png = plot({"faithful": good, "ignorant": bad}, tmp_path / "p.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_model_card_keeps_one_block_per_evaluation_name(setup, tmp_path):
    _, _, good, bad = setup
    card = tmp_path / "MODEL_CARD.md"
    with pytest.raises(SignAvatarError, match="no model card"):
        update_model_card(card, "subset", card_block(good, "subset"))
    card.write_text("# Model\n\n## Evaluation\n\n" + EVAL_PLACEHOLDER + "\n\n## Vocabulary\n\nhello\n")
    update_model_card(card, "subset", card_block(dict(good, command="python -m model_runtime evaluate X"), "subset"))
    update_model_card(card, "full", card_block(bad, "full"))
    update_model_card(card, "subset", card_block(bad, "subset"))  # replaces, keeps its place
    text = card.read_text()
    assert "Not evaluated yet" not in text and text.endswith("## Vocabulary\n\nhello\n")
    assert text.count("### subset") == 1 and text.count("### full") == 1
    assert text.index("### subset") < text.index("### full")
    assert "evaluate X" not in text  # the replaced block's command went with it
    assert text.count("| Gen |") == 2
    card.write_text("# no section\n")
    with pytest.raises(SignAvatarError, match="no evaluation section"):
        update_model_card(card, "subset", card_block(good, "subset"))


def test_evaluate_command_writes_reports_and_reuses_its_recognizer(tmp_path, capsys):
    root = make_dataset(tmp_path / "ds", glosses=3, per_gloss=10)
    argv = ["evaluate", "--data", str(root), "--out", str(tmp_path / "ev"), "--groups", "raw", "--seeds", "2",
            "--recognizer-epochs", "3"]
    assert main(argv) == 0
    for name in ("report.json", "report.md", "report.png", "recognizer/recognizer.json",
                 "recognizer/recognizer.safetensors"):
        assert (tmp_path / "ev" / name).is_file(), name
    report = json.loads((tmp_path / "ev" / "report.json").read_text())
    assert report["recognizer"]["split_kind"] == "gloss" and report["clips"] == {"train": 24, "test": 6}
    capsys.readouterr()
    assert main(argv + ["--split", "signer", "--out", str(tmp_path / "ev_signer")]) == 0
    assert "training on" in capsys.readouterr().out
    assert main(argv) == 0
    assert "reusing" in capsys.readouterr().out


def test_evaluate_command_names_every_missing_argument(capsys):
    assert main(["evaluate", "--ablation", "qc"]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "--sources" in err


def test_gloss_filters_restrict_recognizer_and_groups(tmp_path):
    from model_runtime.data.dataset import write_dataset

    root = make_dataset(tmp_path / "ds", glosses=4, per_gloss=10)
    ds = SignDataset.open(root)
    # drop most clips of g3 so that only 3 glosses have >= 8 clips
    keep = [i for i, r in enumerate(ds.records) if r["gloss"] != "g3" or r["clip_id"].endswith(("_0", "_4"))]
    write_dataset(tmp_path / "ds2", [ds.motion(i) for i in keep],
                  [{k: v for k, v in ds.records[i].items() if k not in ("offset", "frames", "fps")} for i in keep],
                  card={}, write_clips=False)
    out = tmp_path / "ev"
    assert main(["evaluate", "--data", str(tmp_path / "ds2"), "--out", str(out), "--groups", "raw", "--seeds", "2",
                 "--recognizer-epochs", "2", "--min-samples", "8"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["glosses"] == 3 and report["recognizer"]["glosses"] == 3
    assert report["clips"] == {"train": 24, "test": 6}
    assert "those with ≥ 8 clips" in (out / "report.md").read_text()
    from model_runtime.evaluation.protocol import eligible_glosses

    with pytest.raises(SignAvatarError, match="min-signers"):
        eligible_glosses(SignDataset.open(tmp_path / "ds2"), min_signers=6)
