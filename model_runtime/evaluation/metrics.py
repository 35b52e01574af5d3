"""The paper's evaluation metrics as pure functions of recognizer features.

``features`` are (N, D) arrays (the recognizer's penultimate activations, one row per
clip). Every function that samples takes an explicit :class:`numpy.random.Generator`;
none touches global random state.

* :func:`accuracy`: fraction of clips whose predicted gloss is the true one.
* :func:`fid`: Frechet distance between Gaussians fitted to two feature sets,
  ``|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))``.
* :func:`diversity`: mean Euclidean distance over ``num_pairs`` (S_d = 200) random pairs
  of distinct clips drawn from the whole set.
* :func:`multimodality`: for every gloss with at least ``min_samples`` clips, the mean
  distance over ``pairs_per_gloss`` (S_l = 20) random pairs of distinct clips of that
  gloss; averaged over those glosses (each gloss weighs the same).
* :func:`mean_ci`: mean and half-width of the Student-t confidence interval over seeds.

Random pairs are drawn with replacement among the distinct pairs (a clip is never paired
with itself), so the estimates are unbiased for the mean pairwise distance and defined for
any set of at least two clips.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, stats


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of ``predicted == labels`` (1-D integer arrays of equal length)."""
    predicted = np.asarray(predicted)
    labels = np.asarray(labels)
    if predicted.shape != labels.shape or predicted.ndim != 1:
        raise ValueError(f"predicted {predicted.shape} and labels {labels.shape} must be equal 1-D shapes")
    if len(labels) == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return float(np.mean(predicted == labels))


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) of (N, D) features, float64."""
    f = _features(features, min_rows=2)
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray,
                     eps: float = 1e-6) -> float:
    """Frechet distance between N(mu1, cov1) and N(mu2, cov2).

    Safeguards: when ``cov1 @ cov2`` is singular enough that its square root is not finite
    (or is reported inaccurate), ``eps`` is added to both diagonals and the root taken
    again; imaginary parts left by round-off are discarded when they are small (below
    1e-3 of the largest real entry), and a ValueError is raised when they are not.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    cov1, cov2 = np.atleast_2d(np.asarray(cov1, np.float64)), np.atleast_2d(np.asarray(cov2, np.float64))
    d = mu1.shape[0]
    if mu2.shape != (d,) or cov1.shape != (d, d) or cov2.shape != (d, d):
        raise ValueError(f"shapes do not match: mu {mu1.shape}/{mu2.shape}, cov {cov1.shape}/{cov2.shape}")
    diff = mu1 - mu2
    covmean, err = linalg.sqrtm(cov1 @ cov2, disp=False)
    if not np.isfinite(covmean).all() or not np.isfinite(err) or err > 1e-4:
        offset = np.eye(d) * eps
        covmean, _ = linalg.sqrtm((cov1 + offset) @ (cov2 + offset), disp=False)
    if np.iscomplexobj(covmean):
        scale = max(float(np.abs(covmean.real).max()), 1e-12)
        if np.abs(covmean.imag).max() > 1e-3 * scale:
            raise ValueError(f"matrix square root has a large imaginary part "
                             f"({np.abs(covmean.imag).max():.3g}); the covariances are badly conditioned")
        covmean = covmean.real
    value = float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * np.trace(covmean))
    return max(value, 0.0)  # tiny negatives are round-off


def fid(features_a: np.ndarray, features_b: np.ndarray, eps: float = 1e-6) -> float:
    """FID between two (N, D) feature sets (Gaussian fit to each)."""
    mu_a, cov_a = gaussian_stats(features_a)
    mu_b, cov_b = gaussian_stats(features_b)
    return frechet_distance(mu_a, cov_a, mu_b, cov_b, eps=eps)


def _distinct_pairs(n: int, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` uniform random ordered pairs (i, j), i != j, of range(n)."""
    i = rng.integers(0, n, size=count)
    j = (i + rng.integers(1, n, size=count)) % n
    return i, j


def diversity(features: np.ndarray, rng: np.random.Generator, num_pairs: int = 200) -> float:
    """Mean distance between ``num_pairs`` random pairs of distinct clips (S_d)."""
    f = _features(features, min_rows=2)
    if num_pairs < 1:
        raise ValueError(f"num_pairs must be >= 1, got {num_pairs}")
    i, j = _distinct_pairs(len(f), num_pairs, rng)
    return float(np.linalg.norm(f[i] - f[j], axis=1).mean())


@dataclass(frozen=True)
class Multimodality:
    value: float  # NaN when no gloss qualifies
    glosses: int  # glosses that had at least ``min_samples`` clips


def multimodality(features: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
                  pairs_per_gloss: int = 20, min_samples: int = 5) -> Multimodality:
    """Mean within-gloss distance over S_l random pairs per gloss with >= ``min_samples`` clips."""
    f = _features(features, min_rows=0)
    labels = np.asarray(labels)
    if labels.shape != (len(f),):
        raise ValueError(f"labels {labels.shape} do not match features {f.shape}")
    if pairs_per_gloss < 1 or min_samples < 2:
        raise ValueError(f"need pairs_per_gloss >= 1 and min_samples >= 2, got {pairs_per_gloss}, {min_samples}")
    per_gloss = []
    for label in np.unique(labels):  # sorted, so the draws do not depend on clip order
        members = np.flatnonzero(labels == label)
        if len(members) < min_samples:
            continue
        i, j = _distinct_pairs(len(members), pairs_per_gloss, rng)
        per_gloss.append(np.linalg.norm(f[members[i]] - f[members[j]], axis=1).mean())
    if not per_gloss:
        return Multimodality(float("nan"), 0)
    return Multimodality(float(np.mean(per_gloss)), len(per_gloss))


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the two-sided Student-t confidence interval (NaNs ignored)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return float("nan"), float("nan")
    if len(v) == 1:
        return float(v[0]), float("nan")
    half = stats.t.ppf(0.5 + confidence / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return float(v.mean()), float(half)


def _features(features: np.ndarray, min_rows: int) -> np.ndarray:
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2:
        raise ValueError(f"expected (N, D) features, got shape {f.shape}")
    if len(f) < min_rows:
        raise ValueError(f"need at least {min_rows} feature rows, got {len(f)}")
    if not np.isfinite(f).all():
        raise ValueError("features contain NaN or infinity")
    return f
