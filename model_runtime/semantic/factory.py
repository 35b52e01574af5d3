"""Build the encoder: from a command-line id (training) or from a checkpoint's stored spec (run time).

The one module that knows the concrete encoders; :mod:`.base` (the interface and the spec)
imports none of them, and each encoder imports only :mod:`.base`, so there is no import cycle.
The encoders' heavy libraries load when an encoder is first used.
"""

from __future__ import annotations

from ..errors import SignAvatarError
from .base import KINDS, EncoderSpec, SemanticEncoder, parse_encoder_id, template_problems


def build_encoder(encoder_id: str, clip_weights=None, device: str = "cpu",
                  text_template: str = "{}") -> SemanticEncoder:
    """A new encoder from a command-line id (training time: the spec is derived from it)."""
    kind, name = parse_encoder_id(encoder_id)
    problems = template_problems(text_template)
    if problems:
        raise SignAvatarError(problems[0].replace("encoder.text_template", "--text-template"))
    if kind == "minilm":
        from .minilm import MiniLMEncoder

        return MiniLMEncoder(device=device, text_template=text_template)
    from .clip import ClipEncoder

    return ClipEncoder.from_arch(name, weights=clip_weights, device=device, text_template=text_template)


def load_encoder(spec: EncoderSpec, clip_weights=None, device: str = "cpu") -> SemanticEncoder:
    """The encoder a checkpoint was trained with (run time: rebuilt from the stored spec)."""
    if spec.kind == "minilm":
        from .minilm import MiniLMEncoder

        return MiniLMEncoder(device=device, text_template=spec.text_template)
    if spec.kind == "clip":
        from .clip import ClipEncoder

        return ClipEncoder(spec, weights=clip_weights, device=device)
    raise SignAvatarError(f"unknown semantic encoder kind '{spec.kind}' (expected one of {', '.join(KINDS)})")
