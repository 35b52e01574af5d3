"""Evaluation metrics against hand-computed cases."""

import numpy as np
import pytest

from model_runtime.evaluation import metrics


def test_accuracy_counts_matches():
    assert metrics.accuracy(np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2])) == 0.75
    with pytest.raises(ValueError):
        metrics.accuracy(np.array([0, 1]), np.array([0]))


def test_fid_of_identical_sets_is_zero():
    f = np.random.default_rng(0).normal(size=(300, 8))
    assert metrics.fid(f, f) == pytest.approx(0.0, abs=1e-8)


def test_fid_of_shifted_gaussian_sample_is_squared_shift():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6))  # correlated
    shift = np.array([1.0, -2.0, 0.5, 0.0, 3.0, -1.0])
    assert metrics.fid(a, a + shift) == pytest.approx(float(shift @ shift), rel=1e-6)


def test_frechet_distance_of_diagonal_gaussians_matches_closed_form():
    s1, s2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    mu1, mu2 = np.zeros(3), np.array([0.0, 1.0, 0.0])
    # tr(S1 + S2 - 2 sqrt(S1 S2)) = sum (sqrt s1 - sqrt s2)^2 = 1 + 1 + 0; plus |dmu|^2 = 1
    assert metrics.frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(3.0, abs=1e-9)


def test_fid_with_singular_covariances_is_finite_and_real():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(5, 16))  # fewer samples than dimensions: rank-4 covariance
    b = rng.normal(size=(5, 16)) + 1.0
    value = metrics.fid(a, b)
    assert np.isfinite(value) and isinstance(value, float) and value > 16 * 0.5  # shift alone gives 16


def test_fid_rejects_bad_input():
    with pytest.raises(ValueError):
        metrics.fid(np.zeros((1, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError):
        metrics.fid(np.full((4, 3), np.nan), np.zeros((4, 3)))


def test_diversity_of_equidistant_points_is_their_distance():
    # the 5 vertices of a regular simplex scaled so every pair is 3 apart: any pair draw gives exactly 3
    f = np.eye(5) * 3 / np.sqrt(2)
    assert metrics.diversity(f, np.random.default_rng(0), num_pairs=200) == pytest.approx(3.0)


def test_diversity_estimates_mean_pairwise_distance_and_is_reproducible():
    f = np.random.default_rng(3).normal(size=(40, 4))
    exact = np.mean([np.linalg.norm(f[i] - f[j]) for i in range(40) for j in range(40) if i != j])
    d1 = metrics.diversity(f, np.random.default_rng(7), num_pairs=200)
    d2 = metrics.diversity(f, np.random.default_rng(7), num_pairs=200)
    many = np.mean([metrics.diversity(f, np.random.default_rng(s), 200) for s in range(50)])
    assert d1 == d2
    assert many == pytest.approx(exact, rel=0.02)


def test_diversity_does_not_touch_global_random_state():
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    metrics.diversity(np.random.default_rng(0).normal(size=(10, 2)), np.random.default_rng(1))
    assert np.random.random() == before


def test_multimodality_on_constructed_glosses():
    # gloss 0: two clips 2 apart; gloss 1: two clips 4 apart; gloss 2: one clip (too few)
    f = np.array([[0, 0], [2, 0], [10, 0], [10, 4], [50, 50]], float)
    labels = np.array([0, 0, 1, 1, 2])
    mm = metrics.multimodality(f, labels, np.random.default_rng(0), pairs_per_gloss=20, min_samples=2)
    assert mm.glosses == 2
    assert mm.value == pytest.approx(3.0)  # mean of 2 and 4, each gloss weighs the same
    assert not np.isfinite(metrics.multimodality(f, labels, np.random.default_rng(0), min_samples=3).value)


def test_multimodality_is_small_when_glosses_are_tight_and_apart():
    rng = np.random.default_rng(4)
    centres = rng.normal(scale=10, size=(6, 8))
    labels = np.repeat(np.arange(6), 10)
    f = centres[labels] + rng.normal(scale=0.1, size=(60, 8))
    mm = metrics.multimodality(f, labels, np.random.default_rng(0))
    div = metrics.diversity(f, np.random.default_rng(0))
    assert mm.glosses == 6 and mm.value < 0.05 * div


def test_mean_ci_uses_student_t():
    mean, half = metrics.mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert half == pytest.approx(4.302653 * 1.0 / np.sqrt(3), rel=1e-5)  # t_{0.975, 2} = 4.3027
    assert metrics.mean_ci([5.0, 5.0])[1] == 0.0
