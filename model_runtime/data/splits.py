"""Train/test splits: per gloss 8:2, and optionally signer-disjoint.

Both are deterministic functions of ``seed`` and the clip list. Each gloss draws its own
generator from ``(seed, hash of the gloss)``, so adding or removing one gloss leaves the
others' splits unchanged.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

import numpy as np


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, int(hashlib.sha1(name.encode()).hexdigest()[:8], 16)])


def gloss_split(glosses: list[str], clip_ids: list[str], test_fraction: float = 0.2, seed: int = 0) -> list[str]:
    """``train``/``test`` per clip: ``round(test_fraction * n)`` random clips of each gloss are test.

    A gloss with one or two clips (round gives 0) stays entirely in train.
    """
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    by_gloss = defaultdict(list)
    for i, g in enumerate(glosses):
        by_gloss[g].append(i)
    out = ["train"] * len(glosses)
    for g, idx in by_gloss.items():
        idx = sorted(idx, key=lambda i: clip_ids[i])  # independent of input order
        n_test = int(round(test_fraction * len(idx)))
        for k in _rng(seed, g).permutation(len(idx))[:n_test]:
            out[idx[k]] = "test"
    return out


def signer_split(signers: list[str], test_fraction: float = 0.2, seed: int = 0) -> list[str]:
    """``train``/``test`` per clip with no signer in both: signers are drawn in a seeded
    order and go to test while the test share stays within ``test_fraction`` (+10 % of it);
    a signer too large to fit stays in train."""
    counts = defaultdict(int)
    for s in signers:
        counts[s] += 1
    names = sorted(counts)
    target = test_fraction * len(signers)
    test, n = set(), 0
    for k in _rng(seed, "signers").permutation(len(names)):
        s = names[k]
        if n >= target:
            break
        if n + counts[s] <= target * 1.1:
            test.add(s)
            n += counts[s]
    return ["test" if s in test else "train" for s in signers]
