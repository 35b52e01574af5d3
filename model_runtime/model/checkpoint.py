"""A trained model on disk: a folder, never a pickle.

=============================  ===============================================================
file                           what
=============================  ===============================================================
``config.json``                :class:`ModelConfig` (format tag, motion spec, net sizes, encoder
                               spec, training settings, dataset provenance)
``model.safetensors``          network weights (float16 or float32; loaded as float32)
``normalizer.safetensors``     feature ``mean`` / ``std``
``glosses.json``               the gloss table (see :mod:`.gloss_table`)
``gloss_embeddings.safetensors``  one semantic embedding per gloss
``latent_prior.safetensors``   optional: the per-gloss latent prior (:mod:`.latent_prior`);
                               without it the model samples z ~ N(0, I)
``train_log.jsonl``            one JSON line of losses per epoch (not needed to load)
``dataset_card.json``          the training dataset's card (provenance; not needed to load)
=============================  ===============================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..atomic import write_text, write_with
from ..errors import SignAvatarError
from .config import FORMAT, ModelConfig
from .folder_check import check_config, check_files
from .gloss_table import EMBED_FILE, GLOSS_FILE, GlossTable
from .latent_prior import PRIOR_FILE, GlossPrior
from .normalizer import Normalizer

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
NORMALIZER_FILE = "normalizer.safetensors"
LOG_FILE = "train_log.jsonl"
REQUIRED_FILES = (CONFIG_FILE, WEIGHTS_FILE, NORMALIZER_FILE, GLOSS_FILE, EMBED_FILE)


@dataclass
class LoadedModel:
    config: ModelConfig
    net: "SignCVAE"  # noqa: F821
    normalizer: Normalizer
    table: GlossTable
    folder: Path
    prior: GlossPrior | None = None  # the per-gloss latent prior, when the folder has one


def build_net(cfg: ModelConfig):
    from .cvae import SignCVAE

    m = cfg.motion
    return SignCVAE(feat_dim=m.feat_dim, sem_dim=cfg.encoder.dim, max_frames=max(m.max_frames, m.phase_frames),
                    cfg=cfg.net)


def save_weights(net, path, dtype: str = "float32") -> None:
    import torch
    from safetensors.torch import save_file

    dt = {"float16": torch.float16, "float32": torch.float32}[dtype]
    state = {k: v.detach().to("cpu", dt).contiguous() for k, v in net.state_dict().items()}
    write_with(path, lambda p: save_file(state, str(p), metadata={"format": FORMAT}))


def save_model(folder, cfg: ModelConfig, net, normalizer: Normalizer, table: GlossTable,
               prior: GlossPrior | None = None) -> Path:
    """Write (or overwrite) the loadable part of a model folder (a stale latent prior is removed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / CONFIG_FILE, cfg.to_json())
    save_weights(net, folder / WEIGHTS_FILE, cfg.train.save_dtype)
    write_with(folder / NORMALIZER_FILE, normalizer.save)
    table.save(folder)
    if prior is not None:
        prior.save(folder / PRIOR_FILE)
    else:
        (folder / PRIOR_FILE).unlink(missing_ok=True)
    return folder


def _read_weights(path: Path) -> dict:
    """Every tensor of a ``model.safetensors`` written by SignAvatar (one error for anything else)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            state = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as e:
        raise SignAvatarError(f"{path}: not a readable safetensors file ({e})") from None
    if meta.get("format") != FORMAT:
        raise SignAvatarError(f"{path}: weights were not written by SignAvatar (format {meta.get('format')!r})")
    return state


def load_state_dict(path, net) -> dict:
    """Read ``model.safetensors`` and check it against ``net``: every problem named at once."""
    import torch

    path = Path(path)
    state = _read_weights(path)
    expected = net.state_dict()
    problems = []
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing:
        problems.append(f"missing tensors {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    if unexpected:
        problems.append(f"unexpected tensors {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}")
    wrong = [f"{k} {tuple(state[k].shape)} != {tuple(v.shape)}" for k, v in expected.items()
             if k in state and state[k].shape != v.shape]
    if wrong:
        problems.append(f"wrong shapes: {', '.join(wrong[:5])}{' ...' if len(wrong) > 5 else ''}")
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        problems.append(f"non-finite values in {bad[:5]}")
    if problems:
        raise SignAvatarError(f"{path}: weights do not match config.json: " + "; ".join(problems))
    return {k: v.to(expected[k].dtype) for k, v in state.items()}


def load_matching(path, net) -> list[str]:
    """Copy into ``net`` every tensor of ``model.safetensors`` whose name and shape ``net`` also has (a
    warm start into a network that differs from the saved one only in its latent); returns the names of
    ``net``'s tensors that kept their fresh initialisation."""
    import torch

    path = Path(path)
    state = _read_weights(path)
    own = net.state_dict()
    keep = {k: v.to(own[k].dtype) for k, v in state.items() if k in own and v.shape == own[k].shape}
    bad = [k for k, v in keep.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise SignAvatarError(f"{path}: non-finite values in {bad[:5]}")
    net.load_state_dict(keep, strict=False)
    return sorted(set(own) - set(keep))


def load_model(folder, device: str = "cpu") -> LoadedModel:
    """Load a model folder for inference (``eval()`` mode); bad folders are refused with what is wrong."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SignAvatarError(f"model folder not found: {folder}")
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if missing:
        hint = "" if (folder / CONFIG_FILE).is_file() else " (is this a SignAvatar model folder?)"
        raise SignAvatarError(f"{folder}: incomplete model folder, missing {', '.join(missing)}{hint}; "
                              "copy the whole folder or retrain with 'python -m model_runtime train'")
    check_files(folder)  # untrusted folder: sizes and names checked before anything large is built
    cfg = ModelConfig.load(folder / CONFIG_FILE)
    check_config(cfg, folder / WEIGHTS_FILE, build_net)
    net = build_net(cfg)
    net.load_state_dict(load_state_dict(folder / WEIGHTS_FILE, net))
    net.to(device).eval().requires_grad_(False)
    normalizer = Normalizer.load(folder / NORMALIZER_FILE, cfg.motion.feat_dim)
    table = GlossTable.load(folder, cfg.encoder.dim)
    prior = None
    if (folder / PRIOR_FILE).is_file():
        prior = GlossPrior.load(folder / PRIOR_FILE, cfg.net.z_dim, len(table), cfg.motion.max_frames)
    return LoadedModel(config=cfg, net=net, normalizer=normalizer, table=table, folder=folder, prior=prior)
