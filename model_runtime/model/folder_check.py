"""Checks of an untrusted model folder that run before anything large is read or allocated.

A model folder may come from anywhere, so the loader calls :func:`check_files` before it
parses ``config.json`` and :func:`check_config` before it builds the network:

* file sizes: a JSON file above :data:`MAX_JSON_BYTES` is refused unread;
* names: the encoder name becomes a file name and its text template is filled in, so
  both are checked (:func:`..semantic.base.spec_problems`);
* sizes: ``motion.max_frames`` is bounded by the motion limits, and the network the config
  describes is built on torch's ``meta`` device (no memory) and every tensor's shape is
  compared with the ``model.safetensors`` header (read without loading any weights). So a
  config asking for ``ff_dim`` 1e8 is refused with the shapes that disagree, generically:
  whatever tensors the network has, not a list kept here.

Before the meta build, every whole number in the ``net`` section must be at most the
largest dimension or the tensor count found in the weights header: a layer count or a
width larger than both cannot match the weights, and this keeps even the meta build small.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from pathlib import Path

from ..errors import SignAvatarError
from ..limits import MAX_MOTION_FRAMES
from ..semantic.base import spec_problems

MAX_JSON_BYTES = 64 * 1024 * 1024  # config.json, glosses.json (the shipped model's glosses.json: 0.2 MB)
JSON_FILES = ("config.json", "glosses.json")


def check_files(folder) -> None:
    """Refuse JSON files too large to be a model's (before they are read)."""
    folder = Path(folder)
    for name in JSON_FILES:
        p = folder / name
        if p.is_file() and p.stat().st_size > MAX_JSON_BYTES:
            raise SignAvatarError(f"{p}: {p.stat().st_size / 2**20:.0f} MB is too large for a model's {name} "
                                  f"(at most {MAX_JSON_BYTES // 2**20} MB)")


def weight_shapes(path) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape from a safetensors header (no tensor data is read)."""
    from safetensors import SafetensorError, safe_open

    from .config import FORMAT

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as e:
        raise SignAvatarError(f"{path}: not a readable safetensors file ({e})") from None
    if meta.get("format") != FORMAT:
        raise SignAvatarError(f"{path}: weights were not written by SignAvatar (format {meta.get('format')!r})")
    return shapes


def _ints(obj, prefix: str):
    for f in fields(obj):
        v = getattr(obj, f.name)
        if is_dataclass(v):
            yield from _ints(v, f"{prefix}{f.name}.")
        elif isinstance(v, int) and not isinstance(v, bool):
            yield f"{prefix}{f.name}", v


def check_config(cfg, weights_path, build_net) -> None:
    """Refuse ``cfg`` when its names are unsafe or its sizes disagree with the weights' header.

    ``build_net(cfg)`` builds the network (called on the ``meta`` device here, so it allocates nothing).
    """
    import torch

    problems = spec_problems(cfg.encoder)
    if not 2 <= cfg.motion.max_frames <= MAX_MOTION_FRAMES:
        problems.append(f"motion.max_frames must be from 2 to {MAX_MOTION_FRAMES}, got {cfg.motion.max_frames}")
    shapes = weight_shapes(weights_path)
    bound = max([len(shapes)] + [d for s in shapes.values() for d in s] + [1])
    too_big = [f"{k} = {v}" for k, v in _ints(cfg.net, "net.") if v > bound]
    if cfg.encoder.dim > bound:
        too_big.append(f"encoder.dim = {cfg.encoder.dim}")
    if too_big:
        problems.append(f"sizes larger than anything in the weights (largest dimension or tensor count {bound}): "
                        + ", ".join(too_big[:5]))
    if problems:
        raise SignAvatarError(f"{Path(weights_path).parent}: refusing this model folder: " + "; ".join(problems))
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in build_net(cfg).state_dict().items()}
    missing = sorted(set(expected) - set(shapes))
    unexpected = sorted(set(shapes) - set(expected))
    wrong = [f"{k} {shapes[k]} != {expected[k]}" for k in expected if k in shapes and shapes[k] != expected[k]]
    if missing:
        problems.append(f"missing tensors {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    if unexpected:
        problems.append(f"unexpected tensors {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}")
    if wrong:
        problems.append(f"wrong shapes: {', '.join(wrong[:5])}{' ...' if len(wrong) > 5 else ''}")
    if problems:
        raise SignAvatarError(f"{weights_path}: weights do not match config.json: " + "; ".join(problems))
