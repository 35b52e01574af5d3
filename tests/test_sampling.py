"""Time-normalised clips, the per-gloss latent prior and sampling: a small model on synthetic signs."""

import numpy as np
import pytest
import torch

from model_runtime.data.dataset import SignDataset
from model_runtime.errors import SignAvatarError
from model_runtime.generation import Generator
from model_runtime.model.features import prepare_clip, time_resample
from model_runtime.model.latent_prior import PRIOR_FILE, GlossPrior
from model_runtime.skeleton import JOINT_INDEX, forward_kinematics, rest_skeleton

from model_synth import trained_run

# the shipped model's recipe (README): several memory tokens, FK position + velocity losses, small KL weight
RECIPE = ["--memory-tokens", "4", "--fk-weight", "1", "--fk-vel-weight", "1", "--kl-weight", "1e-5"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return trained_run(tmp_path_factory.getbasetemp() / "model_runs", name="recipe", epochs=100, extra=RECIPE)


@pytest.fixture(scope="module")
def gen(run):
    return Generator.load(run)


def _fk(poses: np.ndarray, rest) -> torch.Tensor:
    """(T, 55, 3) axis-angle -> (T, 55, 3) joint positions (m) on ``rest``."""
    from model_runtime import rotations as rot

    mats = rot.axis_angle_to_matrix(torch.as_tensor(np.asarray(poses), dtype=torch.float32))
    return forward_kinematics(mats, torch.as_tensor(rest.joints, dtype=torch.float32)).positions


def _hand_speed(poses: np.ndarray, fps: float) -> float:
    """Median speed (m/s) of the right wrist by FK on the neutral skeleton."""
    rest = rest_skeleton("neutral")
    p = _fk(poses, rest)[:, JOINT_INDEX["right_wrist"]].numpy()
    return float(np.median(np.linalg.norm(np.diff(p, axis=0), axis=-1)) * fps)


def test_time_resample_keeps_ends_and_round_trips_a_smooth_signal():
    t = np.linspace(0, 1, 37)
    x = np.stack([np.sin(2 * np.pi * t), np.cos(3 * t), t ** 2], -1).astype(np.float32)
    y = time_resample(x, 16)
    assert y.shape == (16, 3) and np.allclose(y[0], x[0]) and np.allclose(y[-1], x[-1])
    back = time_resample(time_resample(x, 64), 37)
    assert np.abs(back - x).max() < 5e-3
    assert time_resample(x[:1], 5).shape == (5, 3)  # a one-frame clip is held
    assert torch.equal(time_resample(torch.as_tensor(x), 37), torch.as_tensor(x))


def test_gloss_prior_sampling_is_deterministic_and_stays_at_the_glosses_own_clips():
    rng = np.random.default_rng(0)
    D, G = 8, 5
    centres = rng.normal(0, 5, size=(G, D))
    counts = [1, 2, 6, 6, 10]  # rare glosses with one or two clips, and common ones
    mus = np.concatenate([centres[g] + rng.normal(0, 0.3, size=(n, D)) for g, n in enumerate(counts)])
    ids = np.repeat(np.arange(G), counts)
    prior = GlossPrior.fit(mus, ids, np.full(len(ids), 20), G, logvars=np.full(mus.shape, np.log(0.01)))
    rows = [0] * 200 + [1] * 200
    z1, f1 = prior.sample(rows, torch.Generator().manual_seed(3))
    z2, _ = prior.sample(rows, torch.Generator().manual_seed(3))
    z3, _ = prior.sample(rows, torch.Generator().manual_seed(4))
    assert torch.equal(z1, z2) and not torch.equal(z1, z3) and (f1 == 20).all()
    # a rare gloss's samples stay at its own clips, far closer than to any other gloss's clips
    for g in (0, 1):
        zs = z1[np.asarray(rows) == g].numpy()
        own = np.linalg.norm(zs[:, None] - mus[ids == g][None], axis=-1).min(1)
        other = np.linalg.norm(zs[:, None] - mus[ids != g][None], axis=-1).min(1)
        assert np.median(own) < 0.25 * np.median(other), (g, np.median(own), np.median(other))
        assert np.median(own) > 0.05  # but not copies of the clip's latent
    z0, _ = prior.sample([2] * 50, torch.Generator().manual_seed(0), temperature=0.0)
    assert np.isin(z0.numpy().round(4), mus.astype(np.float32).round(4)).all()  # temperature 0: the centres
    few, _ = prior.sample(rows[:3], torch.Generator().manual_seed(3))
    assert torch.equal(few, z1[:3])  # sample k does not depend on how many are drawn


def _correlated_posteriors(rng, G=12, n=12, D=6):
    """Posterior means whose within-gloss variation runs along one shared direction (like 'the same sign,
    signed faster', which moves many latent dimensions at once), plus a little isotropic noise."""
    direction = np.ones(D) / np.sqrt(D)
    centres = rng.normal(0, 5, size=(G, D))
    mus = np.concatenate([c + rng.normal(0, 1.0, size=(n, 1)) * direction + rng.normal(0, 0.1, size=(n, D))
                          for c in centres])
    return mus, np.repeat(np.arange(G), n), direction


def test_correlated_prior_samples_along_the_within_gloss_directions_and_keeps_the_marginals():
    rng = np.random.default_rng(5)
    mus, ids, direction = _correlated_posteriors(rng)
    G, D = ids.max() + 1, mus.shape[1]
    frames = np.full(len(ids), 20)
    corr = GlossPrior.fit(mus, ids, frames, G, bandwidth=1.0, seed=0)
    diag = GlossPrior.fit(mus, ids, frames, G, bandwidth=1.0, seed=0, correlated=False)
    assert corr.mixing is not None and diag.mixing is None
    assert np.allclose((corr.mixing.astype(np.float64) ** 2).sum(1), 1, atol=1e-5)  # unit-variance rows
    rows = [3] * 4000
    zc, _ = corr.sample(rows, torch.Generator().manual_seed(1))
    zd, _ = diag.sample(rows, torch.Generator().manual_seed(1))
    # the same seed at temperature 0 gives each sample's centre: the difference is the kernel's offset
    oc = (zc - corr.sample(rows, torch.Generator().manual_seed(1), temperature=0.0)[0]).numpy()
    od = (zd - diag.sample(rows, torch.Generator().manual_seed(1), temperature=0.0)[0]).numpy()
    along_c = np.abs(oc @ direction) / np.linalg.norm(oc, axis=1)
    along_d = np.abs(od @ direction) / np.linalg.norm(od, axis=1)
    assert np.median(along_c) > 0.8 and np.median(along_d) < 0.6, (np.median(along_c), np.median(along_d))
    # the same per-dimension spread as the diagonal kernel: only the shape changes
    assert np.allclose(zc.numpy().std(0), zd.numpy().std(0), rtol=0.15)
    # held-out clips of the same glosses are more likely under the correlated kernel
    held, held_ids, _ = _correlated_posteriors(np.random.default_rng(5))
    held = held + np.repeat(np.random.default_rng(9).normal(0, 1.0, size=(len(held), 1)), D, 1) * direction
    assert corr.log_likelihood(held, held_ids).mean() > diag.log_likelihood(held, held_ids).mean() + 1.0
    # determinism, and sample k independent of the count drawn
    again, _ = corr.sample(rows[:5], torch.Generator().manual_seed(1))
    assert torch.equal(again, zc[:5])


def test_log_likelihood_is_the_kernel_density():
    prior = GlossPrior(centres=np.array([[0.0, 0.0], [2.0, 0.0]], np.float32), owner=np.array([0, 0]),
                       frames=np.array([5, 5]), scale=np.array([[1.0, 2.0]], np.float32), bandwidth=1.0)
    z = np.array([[1.0, 1.0]])
    dens = sum(np.exp(-0.5 * (((z[0] - c) / [1.0, 2.0]) ** 2).sum()) / (2 * np.pi * 2.0) for c in ([0, 0], [2, 0])) / 2
    assert np.isclose(prior.log_likelihood(z, [0])[0], np.log(dens))
    rho = 0.6
    prior.mixing = np.linalg.cholesky(np.array([[1, rho], [rho, 1]])).astype(np.float32)
    cov = np.array([[1, rho * 2], [rho * 2, 4]])
    dens = sum(np.exp(-0.5 * (z[0] - c) @ np.linalg.solve(cov, z[0] - c)) / (2 * np.pi * np.sqrt(np.linalg.det(cov)))
               for c in (np.zeros(2), np.array([2.0, 0]))) / 2
    assert np.isclose(prior.log_likelihood(z, [0])[0], np.log(dens), atol=1e-5)


def test_correlated_prior_file_round_trip_and_older_files_without_mixing(tmp_path):
    mus, ids, _ = _correlated_posteriors(np.random.default_rng(2))
    G, D = ids.max() + 1, mus.shape[1]
    prior = GlossPrior.fit(mus, ids, np.full(len(ids), 20), G)
    path = tmp_path / PRIOR_FILE
    prior.save(path)
    again = GlossPrior.load(path, dim=D, n_glosses=G, max_frames=30)
    assert np.array_equal(again.mixing, prior.mixing)
    z1, _ = prior.sample([0, 1, 2], torch.Generator().manual_seed(0))
    z2, _ = again.sample([0, 1, 2], torch.Generator().manual_seed(0))
    assert torch.equal(z1, z2)
    from safetensors.numpy import save_file

    old = {"centres": prior.centres, "owner": prior.owner, "frames": prior.frames, "scale": prior.scale}
    save_file(old, str(path), metadata={"bandwidth": "0.5"})  # a file written before the correlated kernel
    assert GlossPrior.load(path, dim=D, n_glosses=G, max_frames=30).mixing is None
    for bad, message in ((np.ones((D, D), np.float32), "lower-triangular"),
                         (2 * np.eye(D, dtype=np.float32), "unit norm"),
                         (np.eye(D + 1, dtype=np.float32), "mixing")):
        save_file(dict(old, mixing=bad), str(path), metadata={"bandwidth": "0.5"})
        with pytest.raises(SignAvatarError, match=message):
            GlossPrior.load(path, dim=D, n_glosses=G, max_frames=30)


def test_gloss_prior_file_round_trip_and_refusals(tmp_path):
    prior = GlossPrior.fit(np.random.default_rng(1).normal(size=(6, 4)), np.array([0, 0, 1, 1, 2, 2]),
                           np.array([10, 12, 20, 22, 5, 6]), 3)
    path = tmp_path / PRIOR_FILE
    prior.save(path)
    again = GlossPrior.load(path, dim=4, n_glosses=3, max_frames=30)
    assert np.array_equal(again.centres, prior.centres) and again.bandwidth == prior.bandwidth
    with pytest.raises(SignAvatarError, match="centres"):
        GlossPrior.load(path, dim=5, n_glosses=3, max_frames=30)
    with pytest.raises(SignAvatarError, match="scale"):
        GlossPrior.load(path, dim=4, n_glosses=4, max_frames=30)
    with pytest.raises(SignAvatarError, match="frames outside"):
        GlossPrior.load(path, dim=4, n_glosses=3, max_frames=15)
    path.write_bytes(b"not safetensors")
    with pytest.raises(SignAvatarError, match="unreadable latent prior"):
        GlossPrior.load(path, dim=4, n_glosses=3, max_frames=30)
    with pytest.raises(SignAvatarError, match="no training clip"):
        GlossPrior.fit(np.zeros((2, 4)), np.array([0, 0]), np.array([5, 5]), 2)


def test_fk_losses_ignore_padding_and_stay_finite():
    from model_runtime.model.config import MotionSpec
    from model_runtime.model.losses import FKPositions, fk_losses

    spec = MotionSpec()
    fk = FKPositions(spec)
    x = torch.randn(2, 5, spec.feat_dim)
    valid = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    x[0, 3:] = 0  # padding: zeros are no rotation
    pred = x.clone().requires_grad_()
    pos, vel = fk_losses(pred, x, valid, fk)
    (pos + vel).backward()
    assert pos.item() == 0 and vel.item() == 0 and torch.isfinite(pred.grad).all()
    moved = x.clone()
    moved[0, 4] = torch.randn(spec.feat_dim)  # a change in a padded frame is not counted
    assert fk_losses(moved, x, valid, fk)[0].item() == 0
    moved[1, 4] = torch.randn(spec.feat_dim)
    pos, vel = fk_losses(moved, x, valid, fk)
    assert pos.item() > 0 and vel.item() > 0


def test_time_normalised_model_trains_and_generates_at_any_length(tmp_path):
    from model_runtime.cli import main
    from model_runtime.training.loop import read_log

    from model_synth import TINY_NET, synth_dataset

    data = synth_dataset(tmp_path / "d", ["drink", "eat", "car"], 5)
    out = tmp_path / "phase"
    assert main(["train", "--data", str(data), "--out", str(out), "--epochs", "3", "--batch-size", "8", "--quiet",
                 "--save-every", "3", "--phase-frames", "16", *RECIPE, *TINY_NET]) == 0
    assert "val_joint_mm" in read_log(out)[-1] and (out / PRIOR_FILE).is_file()
    g = Generator.load(out)
    assert g.config.motion.phase_frames == 16
    assert [len(m.poses) for m in g.generate("eat", seed=0, n=2, frames=23)] == [23, 23]
    ds = SignDataset.open(data)
    i = ds.indices("train")[0]
    rec = g.reconstruct_batch([np.asarray(ds.clip_poses(i))], glosses=[ds.records[i]["gloss"]],
                              fps=ds.records[i]["fps"])[0]
    assert rec.shape == prepare_clip(np.asarray(ds.clip_poses(i)), ds.records[i]["fps"], g.config.motion).shape


def test_model_overfits_and_reconstructs_held_out_clips_closer_than_their_own_mean_pose(run):
    from model_runtime.training.loop import read_log

    log = read_log(run)
    first, last = log[0], log[-1]
    assert last["recon"] < first["recon"] / 10 and last["fk"] < first["fk"] / 10
    assert (run / PRIOR_FILE).is_file()
    # held-out clips come back far closer than holding each clip's own mean pose (the synthetic clips carry
    # 0.01 rad of per-frame noise that no model can reproduce, so the bound is 0.6 of that baseline)
    ds = SignDataset.open(run.parent / "synth_data")
    g = Generator.load(run)
    test = ds.indices("test")
    errs, static = [], []
    rest = rest_skeleton("neutral")
    for i in test:
        r = ds.records[i]
        clip = np.asarray(ds.clip_poses(i))
        rec = g.reconstruct_batch([clip], glosses=[r["gloss"]], fps=r["fps"])[0]
        ref = prepare_clip(clip, r["fps"], g.config.motion)
        assert rec.shape == ref.shape
        fk = lambda p: _fk(p, rest)  # noqa: E731
        errs.append((fk(rec) - fk(ref)).norm(dim=-1).mean().item())
        mean_pose = np.repeat(ref.mean(0, keepdims=True), len(ref), 0)
        static.append((fk(mean_pose) - fk(ref)).norm(dim=-1).mean().item())
    assert np.mean(errs) < 0.6 * np.mean(static), (np.mean(errs), np.mean(static))


def test_gloss_prior_is_the_default_and_the_papers_normal_prior_stays_available(gen):
    assert gen.default_prior == "gloss"
    a = gen.generate("drink", seed=5, n=3)
    b = gen.generate("drink", seed=5, n=3)
    assert all(np.array_equal(x.poses, y.poses) for x, y in zip(a, b))  # same seed -> same motion
    c = gen.generate("drink", seed=6, n=3)
    assert not np.array_equal(a[0].poses, c[0].poses)
    n1 = gen.generate("drink", seed=5, prior="normal")
    n2 = gen.generate("drink", seed=5, prior="normal")
    assert np.array_equal(n1[0].poses, n2[0].poses) and not np.array_equal(n1[0].poses, a[0].poses)
    assert len(n1[0].poses) == gen.info("drink")["frames"]  # the normal prior: the gloss's median length
    assert all(2 <= len(m.poses) <= gen.max_frames for m in a)  # the gloss prior: its clips' lengths
    assert len(gen.generate("drink", seed=5, frames=9)[0].poses) == 9
    with pytest.raises(SignAvatarError, match="prior must be one of"):
        gen.generate("drink", prior="uniform")
    out = gen.generate_batch(["drink", "eat"], [10, 12], seed=1, prior="normal")
    assert [len(p) for p in out] == [10, 12]


def test_generated_signs_move_like_the_real_ones(gen, run):
    """The wrist's median speed of generated signs is close to the real clips' (no frozen, mean-like sign)."""
    ds = SignDataset.open(run.parent / "synth_data")
    ratios = []
    for gloss in ("drink", "hello", "car", "again"):
        real = [_hand_speed(np.asarray(ds.clip_poses(i)), ds.records[i]["fps"])
                for i in ds.indices("train") if ds.records[i]["gloss"] == gloss]
        made = [_hand_speed(m.poses, m.fps) for m in gen.generate(gloss, seed=0, n=8)]
        ratios.append(np.median(made) / np.median(real))
    assert 0.6 < np.median(ratios) < 1.5, ratios


def test_a_model_folder_without_a_prior_samples_the_normal_prior(run, tmp_path):
    import shutil

    copy = tmp_path / "noprior"
    shutil.copytree(run, copy)
    (copy / PRIOR_FILE).unlink()
    g = Generator.load(copy)
    assert g.default_prior == "normal"
    assert len(g.generate("drink", seed=0)) == 1
    with pytest.raises(SignAvatarError, match="no latent prior"):
        g.generate("drink", prior="gloss")


def test_prior_command_compares_kernels_on_held_out_clips_and_refits_only_the_prior(run, tmp_path, capsys):
    import shutil

    from model_runtime.cli import main

    model = tmp_path / "model"
    shutil.copytree(run, model)
    data = run.parent / "synth_data"
    base = ["prior", "--checkpoint", str(model), "--data", str(data), "--threads", "1"]
    assert main([*base, "--bandwidths", "0.3,1"]) == 0
    out = capsys.readouterr().out
    table = [line.split() for line in out.splitlines() if line.split()[:1] in (["current"], ["diagonal"],
                                                                                 ["correlated"])]
    assert [row[0] for row in table] == ["current", "diagonal", "diagonal", "correlated", "correlated"]
    assert all(np.isfinite(float(row[2])) for row in table)
    assert "held-out test posteriors" in out
    assert main([*base, "--write"]) == 2  # which kernel? refused, nothing written
    assert "--write needs --bandwidth" in capsys.readouterr().err
    assert main([*base, "--bandwidths", "x"]) == 2
    assert main([*base, "--bandwidth", "0.3", "--diagonal", "--write"]) == 0
    from model_runtime.model.checkpoint import load_model

    loaded = load_model(model)
    assert loaded.prior.bandwidth == 0.3 and loaded.prior.mixing is None
    assert (model / "model.safetensors").read_bytes() == (run / "model.safetensors").read_bytes()
    assert "| sampling | per-gloss latent prior" in (model / "MODEL_CARD.md").read_text()
    assert "diagonal kernel, bandwidth 0.3)" in (model / "MODEL_CARD.md").read_text()
