"""The generation API the Blender add-on, the CLI and the evaluation call.

>>> gen = Generator.load()                       # the shipped default model (CPU)
>>> gen.match("thank you")                       # GlossMatch(gloss='thankyou', score=1.0, exact=True, ...)
>>> [motion] = gen.generate("drink", seed=0)     # SignMotion at the model's fps

Text -> gloss: the normalised spelling first (case, spaces/hyphens/underscores, plural "s"),
then, for anything else, the semantic encoder ranks the known glosses by cosine similarity;
the best is used when it reaches the model's ``match_threshold`` and otherwise the request
is refused with suggestions. Motions are always generated from the *stored* embedding of a
known gloss, never from the embedding of unrelated text. Same inputs and seed -> identical
output (CPU). Generated clips: (T, 55, 3) axis-angle, legs and eyes at rest, ``trans`` zero.

Latents: ``prior="gloss"`` (the default for a model folder with ``latent_prior.safetensors``)
samples z near the posteriors of that sign's training clips (:mod:`..model.latent_prior`);
``prior="normal"`` samples z ~ N(0, I), the paper's generation (the only option for older
model folders). ``temperature`` scales the noise of either.

:class:`Generator` is the one public face; its jobs beyond text live beside it: ``images.py``
(signs for an image), ``reconstruction.py`` (encode a clip and decode it again) and
``decoding.py`` (the network calls all of them share).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SignAvatarError, UnknownSignError
from ..model.checkpoint import LoadedModel, load_model
from ..model.gloss_table import gloss_words
from ..motion import SignMotion
from .decoding import decode

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "checkpoints" / "default"
MAX_SAMPLES = 256
PRIORS = ("gloss", "normal")


@dataclass(frozen=True)
class GlossMatch:
    """What a request was resolved to: ``exact`` = by spelling, else by embedding similarity ``score``."""

    gloss: str
    score: float
    exact: bool
    suggestions: tuple[str, ...] = ()


class Generator:
    def __init__(self, loaded: LoadedModel, device: str = "cpu", clip_weights=None):
        self._m = loaded
        self.device = device
        self.clip_weights = clip_weights
        self._encoder = None
        self._encoder_checked = False

    @classmethod
    def load(cls, folder=None, device: str = "cpu", clip_weights=None) -> "Generator":
        """Load a model folder (default: the shipped model). ``clip_weights``: file for CLIP-conditioned models."""
        return cls(load_model(DEFAULT_MODEL if folder is None else folder, device=device), device=device,
                   clip_weights=clip_weights)

    # ---- facts -----------------------------------------------------------------------------------
    @property
    def config(self):
        return self._m.config

    @property
    def folder(self) -> Path:
        return self._m.folder

    @property
    def vocabulary(self) -> list[str]:
        return list(self._m.table.glosses)

    @property
    def fps(self) -> float:
        return self._m.config.motion.fps

    @property
    def max_frames(self) -> int:
        return self._m.config.motion.max_frames

    @property
    def encoder_id(self) -> str:
        return self._m.config.encoder.id

    @property
    def has_image_encoder(self) -> bool:
        """True for a CLIP-conditioned model whose CLIP weights were given (argument or SIGNAVATAR_CLIP_WEIGHTS)."""
        if self._m.config.encoder.kind != "clip":
            return False
        from ..semantic.clip import weights_from_env

        return bool(self.clip_weights or weights_from_env())

    def info(self, gloss: str) -> dict:
        """Training facts about a known gloss: samples, typical length (frames at :attr:`fps`), sources."""
        t = self._m.table
        i = t.index(self._known(gloss))
        return dict(gloss=t.glosses[i], text=t.texts[i], samples=t.samples[i], frames=t.frames[i],
                    frames_min=t.frames_min[i], frames_max=t.frames_max[i], sources=t.sources[i])

    # ---- text -> gloss ---------------------------------------------------------------------------
    def encoder(self):
        """The model's semantic encoder, loaded on first use and checked against the stored gloss embeddings."""
        from ..semantic.factory import load_encoder

        if self._encoder is None:
            self._encoder = load_encoder(self._m.config.encoder, clip_weights=self.clip_weights, device=self.device)
        if not self._encoder_checked:
            t = self._m.table
            k = min(8, len(t))
            got = self._encoder.encode_text([self._m.config.encoder.text_for(x) for x in t.texts[:k]])
            cos = float(np.min(np.sum(got * t.embeddings[:k], axis=1)))
            if cos < 0.98:
                raise SignAvatarError(f"the {self.encoder_id} encoder here does not reproduce the embeddings this "
                                      f"model was trained with (cosine {cos:.3f} on known glosses): give the same "
                                      "weights file the model was trained with")
            self._encoder_checked = True
        return self._encoder

    def match(self, text: str, threshold: float | None = None) -> GlossMatch:
        """Resolve a gloss or free text to a known gloss; else :class:`UnknownSignError` (``.suggestions``)."""
        if not isinstance(text, str) or not text.strip():
            raise SignAvatarError("type a sign (a gloss such as 'drink' or a word or phrase)")
        t = self._m.table
        exact = t.lookup(text.strip())
        if exact is not None:
            return GlossMatch(gloss=exact, score=1.0, exact=True)
        threshold = self._m.config.match_threshold if threshold is None else float(threshold)
        spelled = difflib.get_close_matches(text.strip().lower(), t.glosses, n=5, cutoff=0.6)
        try:
            encoder = self.encoder()
        except SignAvatarError as e:
            hint = f" close spellings: {', '.join(spelled)};" if spelled else ""
            raise UnknownSignError(f"'{text}' is not a sign this model knows;{hint} matching free text by meaning "
                                   f"needs the model's text encoder, which is unavailable: {e}", spelled) from None
        emb = encoder.encode_text([self._m.config.encoder.text_for(gloss_words(text))])[0]
        ranked = t.rank(emb, k=6)
        best, score = ranked[0]
        if score >= threshold:
            return GlossMatch(gloss=best, score=score, exact=False, suggestions=tuple(g for g, _ in ranked[1:]))
        suggestions = list(dict.fromkeys(spelled + [g for g, _ in ranked[:5]]))[:6]
        raise UnknownSignError(f"no sign close enough to '{text}' (best: '{best}', similarity {score:.2f} < "
                               f"{threshold:.2f}); did you mean: {', '.join(suggestions)}? "
                               f"The model knows {len(t)} signs (see its vocabulary)", suggestions)

    def _rows(self, glosses: list[str]) -> list[int]:
        """The gloss-table rows of ``glosses``; one error naming the unknown ones."""
        t = self._m.table
        unknown = sorted({g for g in glosses if t.lookup(g) is None})
        if unknown:
            raise SignAvatarError(f"glosses not in this model's vocabulary: {unknown[:20]}")
        return [t.index(t.lookup(g)) for g in glosses]

    def _known(self, gloss: str) -> str:
        g = self._m.table.lookup(gloss) if isinstance(gloss, str) else None
        if g is None:
            raise SignAvatarError(f"'{gloss}' is not in this model's vocabulary")
        return g

    # ---- core ------------------------------------------------------------------------------------
    def _decode(self, z, emb, lengths: list[int]) -> list[np.ndarray]:
        return decode(self._m, z, emb, lengths)

    def _frames(self, frames, default: int) -> int:
        frames = default if frames is None else frames
        if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or not 2 <= frames <= self.max_frames:
            raise SignAvatarError(f"frames must be a whole number from 2 to {self.max_frames} (this model generates "
                                  f"at most {self.max_frames / self.fps:.1f} s at {self.fps:g} fps), got {frames!r}")
        return int(frames)

    @property
    def default_prior(self) -> str:
        """'gloss' when the model folder has a latent prior, else 'normal' (z ~ N(0, I))."""
        return "gloss" if self._m.prior is not None else "normal"

    def _latents(self, n: int, seed: int, temperature: float = 1.0, rows=None, prior: str | None = None):
        """``n`` latents and their default lengths (None for the normal prior).

        ``prior="normal"``: z ~ N(0, temperature^2 I) (temperature 1 samples the prior the model was
        trained towards, the paper's generation). ``prior="gloss"``: z from the per-gloss prior of the
        gloss rows ``rows`` (n,), noise scaled by ``temperature``.
        """
        import torch

        if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.integer, np.floating)) \
                or not 0.0 <= float(temperature) <= 2.0:
            raise SignAvatarError(f"temperature must be a number from 0 to 2, got {temperature!r}")
        prior = self.default_prior if prior is None else prior
        if prior not in PRIORS:
            raise SignAvatarError(f"prior must be one of {', '.join(PRIORS)}, got {prior!r}")
        if prior == "gloss" and self._m.prior is None:
            raise SignAvatarError(f"{self.folder}: this model folder has no latent prior "
                                  "(latent_prior.safetensors); use prior 'normal' or retrain")
        g = torch.Generator().manual_seed(int(seed))
        if prior == "gloss" and rows is not None:
            z, frames = self._m.prior.sample(rows, g, float(temperature))
            return z.to(self.device), np.clip(frames, 2, self.max_frames)
        return (torch.randn((n, self._m.config.net.z_dim), generator=g) * float(temperature)).to(self.device), None

    def _motions(self, poses: list[np.ndarray], gloss: str, source: str) -> list[SignMotion]:
        return [SignMotion(poses=p, trans=np.zeros((len(p), 3), np.float32), fps=self.fps, gloss=gloss,
                           source=f"{source}:sample={k}") for k, p in enumerate(poses)]

    # ---- generation ------------------------------------------------------------------------------
    def generate(self, gloss_or_text: str, seed: int = 0, n: int = 1, frames: int | None = None,
                 temperature: float = 1.0, prior: str | None = None) -> list[SignMotion]:
        """``n`` variations of a sign, each ``frames`` long.

        Default length: with the gloss prior, the length of the training clip each sample was drawn
        near; with the normal prior, the gloss's median training length. ``temperature`` scales the
        latent noise: 1 samples the prior, lower values give clearer, less varied signs (with the
        normal prior 0 is the one most typical motion; with the gloss prior 0 decodes the posterior
        mean of one training clip, picked by the seed).
        """
        import torch

        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_SAMPLES:
            raise SignAvatarError(f"n must be a whole number from 1 to {MAX_SAMPLES}, got {n!r}")
        m = self.match(gloss_or_text)
        t = self._m.table
        i = t.index(m.gloss)
        T = self._frames(frames, t.frames[i])
        emb = torch.as_tensor(t.embeddings[i], device=self.device).expand(n, -1)
        z, own = self._latents(n, seed, temperature, rows=[i] * n, prior=prior)
        lengths = [T] * n if frames is not None or own is None else [int(x) for x in own]
        poses = self._decode(z, emb, lengths)
        return self._motions(poses, m.gloss, f"signavatar:{self.folder.name}:seed={seed}")

    def generate_batch(self, glosses: list[str], lengths: list[int], seed: int = 0,
                       temperature: float = 1.0, prior: str | None = None) -> list[np.ndarray]:
        """One clip per (gloss, length): (T_i, 55, 3) float32 axis-angle at :attr:`fps`. Glosses must be known.

        Lengths are in the model's frames and clamped to [2, ``max_frames``] (a batch API for evaluation:
        a real clip longer than the model's window gets a ``max_frames`` clip). Latents are drawn for the
        whole list from one generator seeded with ``seed``.
        """
        import torch

        if len(glosses) != len(lengths):
            raise SignAvatarError(f"{len(glosses)} glosses but {len(lengths)} lengths")
        idx = self._rows(glosses)
        if not glosses:
            return []
        ls = [min(max(int(x), 2), self.max_frames) for x in lengths]
        emb = torch.as_tensor(self._m.table.embeddings[idx], device=self.device)
        z, _ = self._latents(len(glosses), seed, temperature, rows=idx, prior=prior)
        return self._decode(z, emb, ls)

    # ---- images (images.py) ----------------------------------------------------------------------
    def match_image(self, path) -> GlossMatch:
        """The known gloss closest to an image (:func:`.images.match_image`)."""
        from . import images

        return images.match_image(self, path)

    def generate_from_image(self, path, seed: int = 0, n: int = 1, frames: int | None = None,
                            mode: str = "nearest_gloss", temperature: float = 1.0,
                            prior: str | None = None) -> list[SignMotion]:
        """Signs for an image, ``mode`` "nearest_gloss" or "embedding" (:func:`.images.generate_from_image`)."""
        from . import images

        return images.generate_from_image(self, path, seed=seed, n=n, frames=frames, mode=mode,
                                          temperature=temperature, prior=prior)

    # ---- reconstruction (reconstruction.py) ------------------------------------------------------
    def reconstruct_batch(self, clips: list[np.ndarray], glosses: list[str] | None = None, sample: bool = False,
                          seed: int = 0, fps=None) -> list[np.ndarray]:
        """Reconstruct many clips at once, as prepared in training (:func:`.reconstruction.reconstruct_batch`)."""
        from . import reconstruction

        return reconstruction.reconstruct_batch(self, clips, glosses=glosses, sample=sample, seed=seed, fps=fps)

    def reconstruct(self, motion: SignMotion, sample: bool = False, seed: int = 0,
                    gloss: str | None = None) -> SignMotion:
        """Encode a clip of any length and decode it again (:func:`.reconstruction.reconstruct`)."""
        from . import reconstruction

        return reconstruction.reconstruct(self, motion, sample=sample, seed=seed, gloss=gloss)
