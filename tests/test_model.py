"""The model's parts: curriculum, masks, features, network shapes and padding, losses, config, training."""

import json

import numpy as np
import pytest
import torch

from model_runtime.data.dataset import SignDataset
from model_runtime.errors import SignAvatarError
from model_runtime.model.config import ModelConfig, MotionSpec, NetConfig, TrainConfig
from model_runtime.model.curriculum import learning_rate, mask_ratio, sample_frame_mask
from model_runtime.model.cvae import SignCVAE
from model_runtime.model.features import features_to_poses, poses_to_features, prepare_clip
from model_runtime.model.losses import FKPositions, fk_position_mse, kl_divergence, masked_mse
from model_runtime.rotations import axis_angle_to_matrix
from model_runtime.semantic.base import EncoderSpec
from model_runtime.skeleton import JOINT_INDEX, SIGNING_JOINTS
from model_runtime.training.data import load_clips

from model_synth import synth_clip, synth_dataset, trained_run

SMALL = NetConfig(d_model=32, cond_dim=8, mlp_hidden=32, enc_layers=2, dec_layers=2, heads=4, ff_dim=64, dropout=0.0)


# ---- curriculum -------------------------------------------------------------------------------------
def test_mask_ratio_is_the_papers_schedule_at_5000_epochs():
    expected = {0: 0.0, 499: 0.0, 500: 0.1, 999: 0.1, 1000: 0.2, 2500: 0.5, 2999: 0.5, 3000: 0.6, 4999: 0.6}
    for ep, r in expected.items():
        assert mask_ratio(ep, 5000) == r, ep
    assert all(mask_ratio(ep, 5000) == min(0.1 * (ep // 500), 0.6) or
               abs(mask_ratio(ep, 5000) - min(0.1 * (ep // 500), 0.6)) < 1e-12 for ep in range(5000))


@pytest.mark.parametrize("total", [1, 7, 10, 120, 300, 333])
def test_mask_ratio_scales_to_any_run_length(total):
    ratios = [mask_ratio(ep, total) for ep in range(total)]
    assert ratios[0] == 0.0 and max(ratios) <= 0.6
    assert all(b >= a for a, b in zip(ratios, ratios[1:]))
    if total >= 10:  # ten stages of equal length; the cap is reached at 60 % of the run
        assert ratios[total // 10 - 1] == 0.0 and ratios[-(-total // 10)] == 0.1
        assert ratios[-1] == 0.6 and mask_ratio(int(np.ceil(0.6 * total)), total) == 0.6
    with pytest.raises(ValueError):
        mask_ratio(-1, total)


def test_learning_rate_warms_up_then_decays_to_the_floor():
    lrs = [learning_rate(s, 1000, 1e-3, 100, 0.1) for s in range(1000)]
    assert lrs[0] == pytest.approx(1e-5) and lrs[99] == pytest.approx(1e-3)
    assert all(b <= a + 1e-15 for a, b in zip(lrs[100:], lrs[101:]))
    assert lrs[-1] == pytest.approx(1e-4, rel=1e-3)


def test_frame_mask_hides_the_right_number_of_real_frames_only():
    valid = torch.arange(20)[None, :] < torch.tensor([20, 13, 5, 1])[:, None]
    for ratio in (0.0, 0.1, 0.3, 0.6):
        m = sample_frame_mask(valid, ratio, torch.Generator().manual_seed(1))
        assert not (m & ~valid).any()
        assert m.sum(1).tolist() == [round(ratio * n) for n in (20, 13, 5, 1)]
    a = sample_frame_mask(valid, 0.5, torch.Generator().manual_seed(3))
    b = sample_frame_mask(valid, 0.5, torch.Generator().manual_seed(3))
    c = sample_frame_mask(valid, 0.5, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


# ---- features --------------------------------------------------------------------------------------
def test_signing_joints_round_trip_through_6d_and_the_rest_stays_at_rest():
    spec = MotionSpec()
    assert spec.feat_dim == 6 * len(SIGNING_JOINTS) == 270
    assert "left_knee" not in spec.joints and "left_eye_smplhf" not in spec.joints and "right_thumb3" in spec.joints
    rng = np.random.default_rng(0)
    poses = rng.normal(0, 0.8, size=(7, 55, 3)).astype(np.float32)
    back = features_to_poses(poses_to_features(poses, spec), spec)
    sel = spec.joint_indices
    r0 = axis_angle_to_matrix(torch.from_numpy(poses[:, sel]))
    r1 = axis_angle_to_matrix(torch.from_numpy(back[:, sel]))
    assert torch.allclose(r0, r1, atol=1e-5)
    others = [i for i in range(55) if i not in sel]
    assert np.all(back[:, others] == 0)


def test_prepare_clip_resamples_to_the_model_fps_and_centre_crops():
    spec = MotionSpec(fps=20.0, max_frames=30)
    poses = synth_clip("drink", np.random.default_rng(0), fps=30.0)
    short = prepare_clip(poses[:31], 30.0, spec)
    assert len(short) == 21  # 1 s at 20 fps, end frames included
    long = np.concatenate([poses] * 3)
    out = prepare_clip(long, 20.0, spec)
    start = (len(long) - 30) // 2
    assert len(out) == 30 and np.array_equal(out, long[start:start + 30])
    with pytest.raises(SignAvatarError, match="55, 3"):
        prepare_clip(np.zeros((4, 52, 3)), 30.0, spec)


# ---- network ---------------------------------------------------------------------------------------
# a temporal latent: one 8-value latent per quarter of the clip (z 32 wide, as SMALL's)
TEMPORAL = NetConfig(d_model=32, cond_dim=8, mlp_hidden=32, enc_layers=2, dec_layers=2, heads=4, ff_dim=64,
                     dropout=0.0, latent_tokens=4, latent_dim=8)


def _net(seed=0, cfg=SMALL):
    torch.manual_seed(seed)
    return SignCVAE(feat_dim=18, sem_dim=12, max_frames=24, cfg=cfg).eval()


def test_network_shapes():
    net = _net()
    x, emb = torch.randn(3, 24, 18), torch.randn(3, 12)
    valid = torch.arange(24)[None, :] < torch.tensor([24, 10, 2])[:, None]
    out = net(x, valid, emb)
    assert out.recon.shape == (3, 24, 18)
    assert out.mu.shape == out.logvar.shape == out.z.shape == (3, 32)
    assert out.logvar.abs().max() <= SMALL.logvar_clamp


@pytest.mark.parametrize("cfg", [SMALL, TEMPORAL], ids=["one latent", "temporal latent"])
def test_padding_never_leaks_into_real_frames(cfg):
    net = _net(cfg=cfg)
    assert cfg.z_dim == 32
    x, emb = torch.randn(2, 20, 18), torch.randn(2, 12)
    valid = torch.arange(20)[None, :] < torch.tensor([20, 9])[:, None]
    with torch.no_grad():
        mu, _ = net.encode(x, valid, emb)
        x2 = x.clone()
        x2[1, 9:] = 100.0  # garbage in the padding
        mu2, _ = net.encode(x2, valid, emb)
        alone_mu, _ = net.encode(x[1:, :9], valid[1:, :9], emb[1:])
        z = torch.randn(2, 32)
        dec = net.decode(z, emb, valid)
        alone = net.decode(z[1:], emb[1:], valid[1:, :9])
    assert torch.allclose(mu, mu2, atol=1e-5)
    assert torch.allclose(mu[1], alone_mu[0], atol=1e-4)
    assert torch.allclose(dec[1, :9], alone[0], atol=1e-4)


def test_curriculum_masked_frames_are_invisible_to_the_encoder():
    net = _net()
    x, emb = torch.randn(1, 16, 18), torch.randn(1, 12)
    valid = torch.ones(1, 16, dtype=torch.bool)
    mask = torch.zeros(1, 16, dtype=torch.bool)
    mask[0, 3:9] = True
    x2 = x.clone()
    x2[0, 3:9] = torch.randn(6, 18)
    with torch.no_grad():
        a, _ = net.encode(x, valid, emb, mask)
        b, _ = net.encode(x2, valid, emb, mask)
        c, _ = net.encode(x2, valid, emb)
    assert torch.allclose(a, b, atol=1e-6) and not torch.allclose(a, c, atol=1e-3)


def test_decoder_output_depends_on_latent_and_embedding():
    net = _net()
    valid = torch.ones(1, 10, dtype=torch.bool)
    z, e = torch.randn(1, 32), torch.randn(1, 12)
    with torch.no_grad():
        base = net.decode(z, e, valid)
        assert not torch.allclose(base, net.decode(z + 1, e, valid), atol=1e-3)
        assert not torch.allclose(base, net.decode(z, e + 1, valid), atol=1e-3)


def test_posterior_heads_start_as_the_identity_so_a_warm_start_keeps_the_models_function(tmp_path):
    """With ``posterior_heads`` mu and log Sigma get their own Linear maps: at initialisation they pass the
    encoder's tokens through unchanged, and a trained model loaded into the new network encodes as before."""
    from dataclasses import replace

    from model_runtime.model.checkpoint import load_matching, save_weights

    plain = _net()
    heads = SignCVAE(feat_dim=18, sem_dim=12, max_frames=24, cfg=replace(SMALL, posterior_heads=True)).eval()
    x, emb = torch.randn(2, 12, 18), torch.randn(2, 12)
    valid = torch.ones(2, 12, dtype=torch.bool)
    save_weights(plain, tmp_path / "model.safetensors", "float32")
    fresh = load_matching(tmp_path / "model.safetensors", heads)
    assert fresh == ["logvar_head.bias", "logvar_head.weight", "mu_head.bias", "mu_head.weight"]
    with torch.no_grad():
        for a, b in zip(plain.encode(x, valid, emb), heads.encode(x, valid, emb)):
            assert torch.allclose(a, b, atol=1e-6)
        heads.logvar_head.bias -= 2.0  # now the log-variance moves on its own, mu stays
        mu, logvar = heads.encode(x, valid, emb)
        mu0, logvar0 = plain.encode(x, valid, emb)
    assert torch.allclose(mu, mu0, atol=1e-6) and torch.allclose(logvar, (logvar0 - 2.0).clamp(min=-8), atol=1e-5)


# ---- losses ----------------------------------------------------------------------------------------
def test_losses_ignore_padding_and_kl_is_zero_at_the_prior():
    pred, tgt = torch.zeros(2, 5, 4), torch.zeros(2, 5, 4)
    valid = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    tgt[0, 3:] = 50.0  # padding
    tgt[1, 0, 0] = 2.0  # one real error of 2 -> squared 4 over 8 frames x 4 features
    assert masked_mse(pred, tgt, valid).item() == pytest.approx(4 / 32)
    assert kl_divergence(torch.zeros(3, 8), torch.zeros(3, 8)).item() == 0.0
    mu = torch.zeros(2, 8)
    mu[0, 0] = 2.0  # KL = 0.5 * 4 for one clip, averaged over 2 clips
    assert kl_divergence(mu, torch.zeros(2, 8)).item() == pytest.approx(1.0)


def test_fk_position_loss_measures_metres():
    spec = MotionSpec()
    fk = FKPositions(spec)
    poses = np.zeros((1, 4, 55, 3), np.float32)
    bent = poses.copy()
    bent[..., JOINT_INDEX["right_elbow"], 1] = np.pi / 2  # forearm + hand swing 90 degrees
    a, b = poses_to_features(poses, spec), poses_to_features(bent, spec)
    valid = torch.ones(1, 4, dtype=torch.bool)
    assert fk_position_mse(a, a, valid, fk).item() == pytest.approx(0, abs=1e-10)
    loss = fk_position_mse(a, b, valid, fk).item()
    assert 0.001 < loss < 0.1  # a few hand joints moved by ~0.2-0.4 m among ~55 points


# ---- config ----------------------------------------------------------------------------------------
def _cfg():
    return ModelConfig(motion=MotionSpec(), net=SMALL, encoder=EncoderSpec("minilm", "all-MiniLM-L6-v2", 384),
                       train=TrainConfig(epochs=3))


def test_config_json_round_trip(tmp_path):
    cfg = _cfg()
    cfg.save(tmp_path / "config.json")
    assert ModelConfig.load(tmp_path / "config.json") == cfg


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(format="nanogpt"), "not a SignAvatar model config"),
    (lambda d: d.update(version=99), "version 99"),
    (lambda d: d["net"].update(d_model="big"), "net.d_model: expected int"),
    (lambda d: d["net"].update(depth=3), "unknown key 'depth'"),
    (lambda d: d.pop("encoder"), "missing key 'encoder'"),
    (lambda d: d["motion"].update(joints=["right_wrist", "tail"]), "unknown joints"),
    (lambda d: d["net"].update(latent_tokens=4, memory_tokens=4), "memory_tokens must be 1 with a temporal latent"),
    (lambda d: d["net"].update(latent_dim=7), "latent_dim is d_model with one latent"),
])
def test_config_refuses_foreign_or_broken_files(tmp_path, edit, message):
    d = json.loads(_cfg().to_json())
    edit(d)
    (tmp_path / "config.json").write_text(json.dumps(d))
    with pytest.raises(SignAvatarError, match=message):
        ModelConfig.load(tmp_path / "config.json")


# ---- training --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    return trained_run(tmp_path_factory.getbasetemp() / "model_runs")


def test_tiny_overfit_losses_fall_and_reconstruction_is_close(tiny_run):
    from model_runtime.training.loop import read_log

    log = read_log(tiny_run)
    assert [r["epoch"] for r in log] == list(range(100))
    first, last = log[0], log[-1]
    assert last["recon"] < first["recon"] / 10
    assert last["mask_ratio"] == 0.6 and first["mask_ratio"] == 0.0
    assert last["kl"] < first["kl"]  # the posterior is pulled towards the prior
    # held-out synthetic clips (the 20 % test split) come back far closer than the dataset's mean pose
    baseline_mm = _mean_pose_baseline_mm(tiny_run.parent / "synth_data")
    assert last["val_joint_mm"] < 0.4 * baseline_mm, (last["val_joint_mm"], baseline_mm)


def _mean_pose_baseline_mm(data) -> float:
    """Mean joint error (mm) of holding the training clips' mean pose on every test clip of a synthetic dataset."""
    spec = MotionSpec()
    ds = SignDataset.open(data)
    train, test = (load_clips(ds, ds.indices(s), spec) for s in ("train", "test"))
    fk = FKPositions(spec)
    x = torch.as_tensor(test.feats)
    mean = torch.as_tensor(train.feats.mean(0)).expand_as(x)
    return 1000 * (fk(x) - fk(mean)).norm(dim=-1).mean().item()


def test_temporal_latent_overfits_and_generates_whole_signs_at_any_length(tmp_path_factory):
    """A temporal latent (a latent per quarter of the clip) learns the synthetic signs as well as the
    single latent does (held-out clips far closer than the mean pose), and its model generates with either
    prior, deterministically, at any length."""
    from model_runtime.generation import Generator
    from model_runtime.training.loop import read_log

    run = trained_run(tmp_path_factory.getbasetemp() / "model_runs", name="temporal", epochs=60,
                      extra=("--latent-tokens", "4", "--latent-dim", "16"))
    log = read_log(run)
    assert log[-1]["recon"] < log[0]["recon"] / 10
    baseline_mm = _mean_pose_baseline_mm(run.parent / "synth_data")
    assert log[-1]["val_joint_mm"] < 0.4 * baseline_mm, (log[-1]["val_joint_mm"], baseline_mm)
    gen = Generator.load(run)
    assert gen._m.config.net.z_dim == 64 and gen._m.prior.dim == 64
    for prior in ("gloss", "normal"):
        a = gen.generate("drink", seed=3, n=2, prior=prior)
        b = gen.generate("drink", seed=3, n=2, prior=prior)
        assert np.array_equal(a[0].poses, b[0].poses) and not np.array_equal(a[0].poses, a[1].poses)
    for frames in (5, 37):
        assert gen.generate("drink", seed=1, frames=frames)[0].num_frames == frames


def test_resume_continues_exactly(tmp_path):
    from model_runtime.cli import main
    from model_runtime.training.loop import read_log
    from model_runtime.training.state import STATE_DIR
    from safetensors.torch import load_file

    from model_synth import TINY_NET

    data = synth_dataset(tmp_path / "d", ["drink", "eat", "car"], 6)
    common = ["--data", str(data), "--epochs", "4", "--batch-size", "8", "--save-every", "2", "--quiet",
              "--dropout", "0.1", "--save-dtype", "float32", *TINY_NET]
    assert main(["train", "--out", str(tmp_path / "full"), *common]) == 0
    part = tmp_path / "part"
    assert main(["train", "--out", str(part), "--stop-after", "3", *common]) == 0  # interrupted after epoch 3
    assert json.loads((part / STATE_DIR / "state.json").read_text())["epochs_done"] == 3
    assert main(["train", "--out", str(part), *common]) == 2  # refuses to overwrite without --resume/--force
    assert main(["train", "--out", str(part), "--resume", *common]) == 0
    full = load_file(str(tmp_path / "full" / "model.safetensors"))
    again = load_file(str(part / "model.safetensors"))
    assert all(torch.equal(full[k], again[k]) for k in full)  # same seed -> the same weights as one run
    assert [r["epoch"] for r in read_log(part)] == [0, 1, 2, 3]
    assert not (part / STATE_DIR).exists()  # a finished run drops its optimiser state
    card = (part / "MODEL_CARD.md").read_text()  # the whole run's command, not the --resume call's
    assert "--resume" not in card and "--batch-size 8" in card and f"--out {part}" in card
    assert main(["train", "--out", str(part), "--resume", *common]) == 2  # nothing left to resume


def test_warm_start_begins_from_the_given_model_and_refuses_one_that_does_not_fit(tmp_path, capsys):
    """``--init-from MODEL`` starts a new run from a trained model's weights and normaliser (fresh
    optimiser and schedule): its first epoch's loss is the trained model's, not a random net's."""
    from model_runtime.cli import main
    from model_runtime.training.loop import read_log

    from model_synth import TINY_NET

    data = synth_dataset(tmp_path / "d", ["drink", "eat", "car"], 6)
    common = ["--data", str(data), "--batch-size", "8", "--quiet", "--dropout", "0.0", "--lr", "0.003",
              "--no-curriculum", "--save-dtype", "float32", *TINY_NET]
    assert main(["train", "--out", str(tmp_path / "a"), "--epochs", "30", "--save-every", "30", *common]) == 0
    assert main(["train", "--out", str(tmp_path / "b"), "--epochs", "2", "--save-every", "2",
                 "--init-from", str(tmp_path / "a"), *common]) == 0
    a, b = read_log(tmp_path / "a"), read_log(tmp_path / "b")
    assert b[0]["recon"] < 0.5 * a[0]["recon"], (a[0]["recon"], b[0]["recon"])  # not a fresh network
    assert (tmp_path / "b" / "normalizer.safetensors").read_bytes() == \
        (tmp_path / "a" / "normalizer.safetensors").read_bytes()
    cfg = ModelConfig.load(tmp_path / "b" / "config.json")
    card = (tmp_path / "b" / "MODEL_CARD.md").read_text()
    assert cfg.train.init_from and "warm start from" in card
    # the card reproduces both stages: a's own training command, then b's warm start from it
    reproduce = card.split("## Reproduce")[1].split("```")[1]
    assert reproduce.count("model_runtime train") == 2 and "the model this one starts from" in reproduce
    first, second = [line for line in reproduce.splitlines() if line.startswith("python -m model_runtime train")]
    assert "--epochs 30" in first and "--init-from" not in first and "--init-from" in second
    # a third stage from b: the card walks the whole chain, earliest stage first
    assert main(["train", "--out", str(tmp_path / "s3"), "--epochs", "1", "--save-every", "1",
                 "--init-from", str(tmp_path / "b"), *common]) == 0
    chain = (tmp_path / "s3" / "MODEL_CARD.md").read_text().split("## Reproduce")[1].split("```")[1]
    cmds = [line for line in chain.splitlines() if line.startswith("python -m model_runtime train")]
    assert len(cmds) == 3 and "--epochs 30" in cmds[0] and "--init-from" not in cmds[0]
    assert f"--out {tmp_path / 'b'}" in cmds[1] and f"--init-from {tmp_path / 'b'}" in cmds[2]
    assert main(["train", "--out", str(tmp_path / "c"), "--epochs", "1", "--init-from", str(tmp_path / "a"),
                 *common, "--d-model", "48"]) == 2  # another width: refused before anything is written
    assert not (tmp_path / "c" / "config.json").exists()
    # another dropout rate changes no tensor: accepted, and the weights are a's (same first-epoch loss scale)
    assert main(["train", "--out", str(tmp_path / "p"), "--epochs", "1", "--save-every", "1", "--init-from",
                 str(tmp_path / "a"), *common, "--dropout", "0.2"]) == 0
    assert read_log(tmp_path / "p")[0]["recon"] < 0.5 * a[0]["recon"]
    assert ModelConfig.load(tmp_path / "p" / "config.json").net.dropout == 0.2
    assert "(its weights and normaliser;" in (tmp_path / "p" / "MODEL_CARD.md").read_text()
    assert main(["train", "--out", str(tmp_path / "c"), "--epochs", "1", "--init-from", str(tmp_path / "nope"),
                 *common]) == 2
    # a new (temporal) latent on the trained network: every other tensor is copied, the latent's start fresh
    capsys.readouterr()
    assert main(["train", "--out", str(tmp_path / "t"), "--epochs", "1", "--save-every", "1", "--init-from",
                 str(tmp_path / "a"), *common, "--latent-tokens", "4", "--latent-dim", "8"]) == 0
    assert "6 tensors start fresh" in capsys.readouterr().out
    assert "new latent's layers at their initialisation" in (tmp_path / "t" / "MODEL_CARD.md").read_text()
    assert ModelConfig.load(tmp_path / "t" / "config.json").net.z_dim == 32


def test_precision_auto_measures_and_an_emulated_bfloat16_is_warned_about(tmp_path, capsys):
    """``auto`` picks bfloat16 only where it measures faster; an explicit bfloat16 that measures slower
    (an AVX2-only CPU emulates it, 8x slower) is kept and warned about; a run records the resolved value."""
    from model_runtime.cli import main
    from model_runtime.training.precision import bfloat16_speedup, resolve_precision

    def never(device):
        raise AssertionError("float32 needs no measurement")

    assert resolve_precision("float32", "cpu", speedup=never) == "float32"
    assert resolve_precision("auto", "cpu", speedup=lambda d: 1.5) == "bfloat16"
    assert resolve_precision("auto", "cpu", speedup=lambda d: 0.12) == "float32"
    capsys.readouterr()
    assert resolve_precision("bfloat16", "cpu", speedup=lambda d: 0.12) == "bfloat16"
    assert "8.3x slower" in capsys.readouterr().err
    assert resolve_precision("bfloat16", "cpu", speedup=lambda d: 1.5) == "bfloat16"
    assert not capsys.readouterr().err
    assert bfloat16_speedup("cpu") > 0  # the real measurement runs (its value depends on the CPU)

    from model_synth import TINY_NET

    data = synth_dataset(tmp_path / "d", ["drink", "eat"], 4)
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "r"), "--epochs", "1", "--batch-size", "4",
                 "--quiet", "--precision", "auto", *TINY_NET]) == 0
    assert ModelConfig.load(tmp_path / "r" / "config.json").train.precision in ("float32", "bfloat16")


def test_bfloat16_training_learns_like_float32_and_is_recorded(tmp_path):
    """``--precision bfloat16`` autocasts only the network's forward pass: the run learns about as
    well as a float32 one, its config and card say so, and a bad value is refused."""
    from model_runtime.cli import main
    from model_runtime.training.loop import read_log

    from model_synth import TINY_NET

    data = synth_dataset(tmp_path / "d", ["drink", "eat", "car"], 6)
    common = ["--data", str(data), "--epochs", "30", "--batch-size", "8", "--save-every", "30", "--quiet", "--lr", "0.003",
              "--dropout", "0.0", *TINY_NET]
    assert main(["train", "--out", str(tmp_path / "f32"), *common]) == 0
    assert main(["train", "--out", str(tmp_path / "bf16"), "--precision", "bfloat16", *common]) == 0
    f32, bf16 = read_log(tmp_path / "f32"), read_log(tmp_path / "bf16")
    assert bf16[-1]["recon"] < bf16[0]["recon"] / 2, (bf16[0]["recon"], bf16[-1]["recon"])
    assert bf16[-1]["recon"] < 1.5 * f32[-1]["recon"], (bf16[-1]["recon"], f32[-1]["recon"])
    assert ModelConfig.load(tmp_path / "bf16" / "config.json").train.precision == "bfloat16"
    card = (tmp_path / "bf16" / "MODEL_CARD.md").read_text()
    assert "--precision bfloat16" in card and "bfloat16 autocast" in card
    assert main(["train", "--out", str(tmp_path / "bad"), "--precision", "float8", *common]) == 2  # not auto either
    assert not (tmp_path / "bad" / "config.json").exists()
