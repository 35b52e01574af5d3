"""Frozen semantic encoders that condition the model: ``minilm`` (text) and ``clip`` (text + image).

See :mod:`.base` for the interface; the concrete encoders import their heavy libraries
(transformers, open_clip) only when first used.
"""

from .base import EncoderSpec, SemanticEncoder, parse_encoder_id
from .factory import build_encoder, load_encoder

__all__ = ["EncoderSpec", "SemanticEncoder", "build_encoder", "load_encoder", "parse_encoder_id"]
