"""Signs for an image (:meth:`Generator.generate_from_image`, :meth:`Generator.match_image`): the nearest known
gloss, or (CLIP-conditioned models) the image's own embedding."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import SignAvatarError
from ..motion import SignMotion
from .decoding import decode
from .generator import MAX_SAMPLES, GlossMatch

if TYPE_CHECKING:
    from .generator import Generator


def match_image(gen: Generator, path) -> GlossMatch:
    """The known gloss whose text embedding is closest to the image's CLIP embedding (zero-shot).

    Text-conditioned models (the shipped MiniLM model): read text / recognise the object offline
    (:func:`model_runtime.vision.understand_image`, an ``ImageMatch`` with evidence)."""
    if gen._m.config.encoder.kind != "clip":
        from ..vision.understand import understand_image
        return understand_image(path, gen)
    emb = image_embedding(gen, path)
    ranked = gen._m.table.rank(emb, k=6)
    return GlossMatch(gloss=ranked[0][0], score=ranked[0][1], exact=False,
                      suggestions=tuple(g for g, _ in ranked[1:]))


def image_embedding(gen: Generator, path) -> np.ndarray:
    """The image's CLIP embedding; refused for text-only models and missing files."""
    if gen._m.config.encoder.kind != "clip":
        raise SignAvatarError(f"this model is conditioned on the text-only {gen.encoder_id} encoder, so it cannot "
                              "sign an image's own embedding (use the nearest-gloss mode); use a model trained "
                              "with a CLIP encoder "
                              "('python -m model_runtime train --encoder clip:ViT-B-32 --clip-weights FILE')")
    if not Path(path).is_file():
        raise SignAvatarError(f"image not found: {path}")
    return gen.encoder().encode_image([path])[0]


def generate_from_image(gen: Generator, path, seed: int = 0, n: int = 1, frames: int | None = None,
                        mode: str = "nearest_gloss", temperature: float = 1.0,
                        prior: str | None = None) -> list[SignMotion]:
    """Signs for an image (CLIP models only).

    ``mode="nearest_gloss"``: the known gloss closest to the image (see :func:`match_image`);
    ``mode="embedding"``: condition directly on the image's CLIP embedding (the paper's zero-shot
    use; length defaults to the median over all glosses).
    """
    import torch

    if mode not in ("nearest_gloss", "embedding"):
        raise SignAvatarError(f"image mode must be 'nearest_gloss' or 'embedding', got {mode!r}")
    if mode == "nearest_gloss":
        m = match_image(gen, path)
        motions = gen.generate(m.gloss, seed=seed, n=n, frames=frames, temperature=temperature, prior=prior)
        return [replace(x, source=f"{x.source}:image={Path(path).name}:score={m.score:.3f}") for x in motions]
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_SAMPLES:
        raise SignAvatarError(f"n must be a whole number from 1 to {MAX_SAMPLES}, got {n!r}")
    emb = torch.as_tensor(image_embedding(gen, path), device=gen.device).expand(n, -1)
    T = gen._frames(frames, int(np.median(gen._m.table.frames)))
    z, _ = gen._latents(n, seed, temperature, prior="normal")  # no gloss: the paper's N(0, I)
    poses = decode(gen._m, z, emb, [T] * n)
    return gen._motions(poses, f"image:{Path(path).stem}", f"signavatar:{gen.folder.name}:seed={seed}")
