"""``clip``: any open_clip architecture, weights from a file the user gives (the paper's encoder).

No CLIP weights ship with SignAvatar. ``weights`` is a path to an open_clip / OpenAI
checkpoint (``.safetensors`` preferred; ``.pt``/``.bin`` are read by open_clip with
``torch.load(weights_only=True)``, which refuses pickled code) or an open_clip pretrained tag
(e.g. ``openai``) already present in open_clip's cache (nothing is downloaded: the hub is
offline unless ``SIGNAVATAR_ALLOW_DOWNLOAD=1``). Architectures open_clip does not ship are
described by an open_clip model-config JSON; its content is stored in the checkpoint's
:class:`EncoderSpec` so the same network can be rebuilt anywhere.

open_clip is imported only after :func:`runtime_env.apply` (offline hub, torchvision fix).
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np

from ..errors import SignAvatarError
from ..safe_paths import inside, safe_stem
from .base import EncoderSpec, SemanticEncoder, l2_normalise, spec_problems

HOW_TO = ("give the open_clip weights file with --clip-weights FILE on the command line, "
          "Generator.load(..., clip_weights=FILE) in Python, the 'CLIP weights file' add-on preference in Blender, "
          "or the SIGNAVATAR_CLIP_WEIGHTS environment variable")


def _open_clip():
    from .. import runtime_env

    runtime_env.apply()
    import open_clip

    return open_clip


def _read_model_cfg(path: Path) -> dict:
    try:
        cfg = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise SignAvatarError(f"cannot read the open_clip model config {path}: {e}") from None
    cfg = cfg.get("model_cfg", cfg) if isinstance(cfg, dict) else cfg
    if not isinstance(cfg, dict) or not {"embed_dim", "vision_cfg", "text_cfg"} <= set(cfg):
        raise SignAvatarError(f"{path} is not an open_clip model config (needs embed_dim, vision_cfg, text_cfg)")
    return cfg


SAFETENSORS_MAX_HEADER = 100_000_000


def check_weights_file(path: Path) -> None:
    """Refuse a weights file that is neither safetensors nor a torch zip archive before anything reads it.

    A bare pickle (``torch.save(..., _use_new_zipfile_serialization=False)`` or a plain pickle) is
    never handed to an unpickler, not even ``torch.load(weights_only=True)``.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError as e:
        raise SignAvatarError(f"cannot read the CLIP weights file {path}: {e.strerror or e}") from None
    if head[:4] == b"PK\x03\x04":  # torch's zip format, read by open_clip with weights_only=True
        return
    if len(head) == 9 and 2 <= int.from_bytes(head[:8], "little") <= SAFETENSORS_MAX_HEADER and head[8:9] == b"{":
        return
    kind = "a pickle file" if head[:1] == b"\x80" else "not a weights file"
    raise SignAvatarError(f"CLIP weights {path}: {kind}; give open_clip weights as .safetensors (or a torch "
                          "zip checkpoint); pickled files are refused for safety")


def weights_from_env():
    return os.environ.get("SIGNAVATAR_CLIP_WEIGHTS") or None


class ClipEncoder(SemanticEncoder):
    def __init__(self, spec: EncoderSpec, weights=None, device: str = "cpu"):
        if spec.kind != "clip":
            raise SignAvatarError(f"not a CLIP encoder spec: {spec.id}")
        self.spec = spec
        self.weights = weights if weights is not None else weights_from_env()
        self.device = device
        self._model = None
        self._preprocess = None
        self._tokenizer = None

    @classmethod
    def from_arch(cls, arch: str, weights=None, device: str = "cpu", text_template: str = "{}") -> "ClipEncoder":
        """An encoder for a built-in open_clip architecture name or an open_clip model-config JSON file."""
        if arch.endswith(".json"):
            path = Path(arch)
            cfg = _read_model_cfg(path)
            name = safe_stem(path.stem, default="clip-model", lower=False)
            spec = EncoderSpec(kind="clip", name=name, dim=int(cfg["embed_dim"]), text_template=text_template,
                               clip_model_cfg=cfg)
        else:
            open_clip = _open_clip()
            cfg = open_clip.get_model_config(arch)
            if cfg is None:
                raise SignAvatarError(f"open_clip has no architecture '{arch}'; known ones include ViT-B-32, ViT-B-16, "
                                      "ViT-L-14 (open_clip.list_models()), or give a model-config JSON file")
            spec = EncoderSpec(kind="clip", name=arch, dim=int(cfg["embed_dim"]), text_template=text_template)
        return cls(spec, weights=weights, device=device)

    @property
    def supports_images(self) -> bool:
        return True

    @property
    def available(self) -> bool:
        """Whether weights were given (the model itself loads on first use)."""
        return bool(self.weights)

    def _load(self) -> None:
        if self._model is not None:
            return
        if not self.weights:
            raise SignAvatarError(f"this model needs the CLIP encoder {self.spec.id}, whose weights are not bundled: "
                                  + HOW_TO)
        w = str(self.weights)
        looks_like_path = os.sep in w or "." in Path(w).name
        if looks_like_path and not Path(w).is_file():
            raise SignAvatarError(f"CLIP weights file not found: {w}; " + HOW_TO)
        name = self.spec.name
        problems = spec_problems(self.spec)
        if problems:
            raise SignAvatarError(f"refusing the CLIP encoder of this model: {'; '.join(problems)}")
        open_clip = _open_clip()
        if self.spec.clip_model_cfg:
            with tempfile.TemporaryDirectory() as tmp:
                # the name is checked by EncoderSpec; the join is checked again, as for every untrusted name
                cfg_path = inside(tmp, f"{name}.json")
                cfg_path.write_text(json.dumps(self.spec.clip_model_cfg))
                open_clip.add_model_config(cfg_path)
        if looks_like_path:
            check_weights_file(Path(w))
        try:
            model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=w, device=self.device)
        except (RuntimeError, ValueError, KeyError, OSError, pickle.UnpicklingError, EOFError) as e:
            raise SignAvatarError(f"cannot load CLIP {name} weights from '{w}': {str(e).splitlines()[0][:300]} "
                                  f"(the file must hold weights of the {name} architecture this model was trained "
                                  "with)") from None
        model.eval().requires_grad_(False)
        self._model = model
        self._preprocess = preprocess
        self._tokenizer = open_clip.get_tokenizer(name)

    def encode_text(self, texts: list[str]) -> np.ndarray:
        import torch

        if isinstance(texts, str):
            raise TypeError("encode_text takes a list of strings")
        self._load()
        out = []
        with torch.no_grad():
            for i in range(0, len(texts), 256):
                tokens = self._tokenizer(list(texts[i:i + 256])).to(self.device)
                out.append(self._model.encode_text(tokens).float().cpu().numpy())
        return l2_normalise(np.concatenate(out)) if out else np.zeros((0, self.spec.dim), np.float32)

    def encode_image(self, paths: list) -> np.ndarray:
        import torch

        from ..imageio import load_image

        images, problems = [], []
        for p in paths:  # bounded decode before the (slow) model load: bad files are named first
            try:  # the one decode (huge, CMYK, 16-bit, animated, rotated files), shared with the offline reader
                images.append(load_image(p).pil())
            except SignAvatarError as e:
                problems.append(str(e))
        if problems:
            raise SignAvatarError("cannot read image(s): " + "; ".join(problems))
        self._load()
        images = [self._preprocess(im) for im in images]
        with torch.no_grad():
            emb = self._model.encode_image(torch.stack(images).to(self.device))
        return l2_normalise(emb.float().cpu().numpy())
