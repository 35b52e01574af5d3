"""Typed configuration of a SignAvatar model, saved as ``config.json`` beside its weights.

One frozen dataclass per component; :class:`ModelConfig` bundles them with a format tag so
that a folder written by something else is refused instead of half-loaded. JSON is read
back field by field with type checks (:func:`from_dict`): unknown keys, missing required
keys and wrong types are all named in one error.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass
from pathlib import Path

from ..atomic import write_text
from ..errors import SignAvatarError
from ..semantic.base import EncoderSpec
from ..skeleton import JOINT_INDEX, SIGNING_JOINTS

FORMAT = "signavatar-cvae"
VERSION = 1


@dataclass(frozen=True)
class MotionSpec:
    """What the network sees of a clip.

    Clips are resampled to ``fps`` (quaternion slerp) and clips longer than ``max_frames``
    are centre-cropped to it. Features are the 6D rotations (first two matrix columns) of
    ``joints`` in this order; every other joint (legs, eyes) is output at rest (zero).
    ``trans`` is not modelled: generated clips stand at the origin.
    """

    fps: float = 20.0
    max_frames: int = 80
    joints: tuple[str, ...] = SIGNING_JOINTS
    # > 0: time-normalised ("phase") clips. After the fps resampling and crop, every clip is
    # resampled in time to this many frames before the network sees it, and the decoder's
    # phase_frames output is resampled to the length asked for (linear in 6D, then
    # Gram-Schmidt). Clips of one sign signed faster or slower then line up frame by frame.
    # 0 = the network works on frames at ``fps`` (older models).
    phase_frames: int = 0

    @property
    def feat_dim(self) -> int:
        return 6 * len(self.joints)

    @property
    def joint_indices(self) -> list[int]:
        return [JOINT_INDEX[n] for n in self.joints]


@dataclass(frozen=True)
class NetConfig:
    """Transformer CVAE sizes (ACTOR-style; latent width = ``d_model``)."""

    d_model: int = 256  # token width in encoder and decoder; also the latent size
    cond_dim: int = 64  # width of the projected semantic embedding concatenated to every encoder frame
    mlp_hidden: int = 256  # hidden width of the two 3-layer MLPs on the semantic embedding
    enc_layers: int = 4
    dec_layers: int = 4
    heads: int = 4
    ff_dim: int = 512
    dropout: float = 0.1
    logvar_clamp: float = 8.0  # log-variance clamped to [-c, c]
    mask_token: str = "learned"  # what replaces curriculum-masked input frames: "learned" vector or "zeros"
    # decoder memory: z + bias(embedding) mapped to this many tokens (1 = ACTOR's single token;
    # more let each output frame attend to a different part of the latent)
    memory_tokens: int = 1
    # temporal latent: > 1 splits the clip's duration into this many equal parts, each with its own
    # latent of ``latent_dim`` values (z is their concatenation, K x latent_dim wide), and the decoder
    # reads one memory token per part (then memory_tokens must be 1). 1 = one latent for the whole clip.
    latent_tokens: int = 1
    latent_dim: int = 0  # width of each part's latent; 0 = d_model (the only choice with one latent)
    # one latent: mu and log Sigma through their own Linear(D, D) (identity at initialisation) instead of
    # straight out of the encoder's final LayerNorm, whose gain and offset the two tokens share (see cvae.py)
    posterior_heads: bool = False

    @property
    def z_dim(self) -> int:
        """Width of the latent z the prior samples and the decoder reads."""
        return self.latent_tokens * (self.latent_dim or self.d_model)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (the command line maps onto these fields)."""

    epochs: int = 300
    batch_size: int = 64
    lr: float = 3e-4
    min_lr_ratio: float = 0.1  # cosine decay from lr to lr * min_lr_ratio
    warmup_steps: int = 200
    weight_decay: float = 0.01
    kl_weight: float = 1e-4  # omega_KL; KL summed over latent dims, averaged over clips
    fk_weight: float = 0.0  # weight of the FK joint-position MSE (metres^2), 0 = off
    fk_vel_weight: float = 0.0  # weight of the FK joint-velocity MSE (metres^2 per frame^2), 0 = off
    grad_clip: float = 1.0
    curriculum: bool = True
    seed: int = 0
    split: str = "train"  # dataset split trained on: "train" or "all"
    max_clips_per_gloss: int = 0  # > 0: per epoch, a fresh random subset of at most this many clips per gloss
    save_every: int = 25  # epochs between checkpoints
    save_dtype: str = "float16"  # dtype of model.safetensors ("float16" or "float32")
    # matmul precision of the network's forward pass during training: "float32", or "bfloat16" autocast
    # (losses, FK and the optimiser stay float32; ~1.5x faster steps on AVX-512-BF16 CPUs and on GPUs, 8x
    # slower on AVX2-only CPUs); "auto" = bfloat16 where it measures faster (training/precision.py).
    # config.json of a trained model holds the resolved value, never "auto"
    precision: str = "float32"
    # warm start: a model folder (relative to the working directory) whose weights and normaliser a new
    # run starts from, with a fresh optimiser and schedule; its motion, network and encoder must match. "" = random
    init_from: str = ""


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a trained model (``config.json``)."""

    motion: MotionSpec
    net: NetConfig
    encoder: EncoderSpec
    train: TrainConfig
    match_threshold: float = 0.6  # cosine below which free text is refused
    dataset: dict = field(default_factory=dict)  # provenance: path, clip/gloss counts, composition
    format: str = FORMAT
    version: int = VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=False) + "\n"

    def save(self, path) -> None:
        write_text(path, self.to_json())

    @classmethod
    def load(cls, path) -> "ModelConfig":
        path = Path(path)
        if not path.is_file():
            raise SignAvatarError(f"{path.parent}: not a SignAvatar model folder (no config.json)")
        try:
            raw = json.loads(path.read_text())
        except ValueError as e:
            raise SignAvatarError(f"{path}: not valid JSON ({e})") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            found = raw.get("format") if isinstance(raw, dict) else type(raw).__name__
            raise SignAvatarError(f"{path}: not a SignAvatar model config (format {found!r}, expected {FORMAT!r}); "
                                  "point to a folder written by 'python -m model_runtime train'")
        if raw.get("version") != VERSION:
            raise SignAvatarError(f"{path}: model format version {raw.get('version')!r} is not supported by this "
                                  f"runtime (version {VERSION}); update SignAvatar or retrain")
        cfg = from_dict(cls, raw, str(path))
        problems = validate(cfg)
        if problems:
            raise SignAvatarError(f"{path}: invalid model config: " + "; ".join(problems))
        return cfg


def validate(cfg: ModelConfig) -> list[str]:
    """Problems that would make the config unusable (empty when fine)."""
    out = []
    unknown = [j for j in cfg.motion.joints if j not in JOINT_INDEX]
    if unknown:
        out.append(f"unknown joints {unknown}")
    if len(set(cfg.motion.joints)) != len(cfg.motion.joints) or not cfg.motion.joints:
        out.append("motion.joints must be a non-empty list of distinct SMPL-X joint names")
    if not (cfg.motion.fps > 0 and cfg.motion.max_frames >= 2):
        out.append("motion.fps must be > 0 and motion.max_frames >= 2")
    if cfg.motion.phase_frames != 0 and not 2 <= cfg.motion.phase_frames <= 512:
        out.append(f"motion.phase_frames must be 0 (off) or from 2 to 512, got {cfg.motion.phase_frames}")
    n = cfg.net
    if n.cond_dim >= n.d_model or n.cond_dim < 1:
        out.append(f"net.cond_dim ({n.cond_dim}) must be in [1, d_model={n.d_model})")
    if n.d_model % n.heads:
        out.append(f"net.d_model ({n.d_model}) must be divisible by net.heads ({n.heads})")
    if n.mask_token not in ("learned", "zeros"):
        out.append(f"net.mask_token must be 'learned' or 'zeros', got {n.mask_token!r}")
    if not 1 <= n.memory_tokens <= 64:
        out.append(f"net.memory_tokens must be from 1 to 64, got {n.memory_tokens}")
    if not 1 <= n.latent_tokens <= 64 or n.latent_dim < 0:
        out.append(f"net.latent_tokens must be from 1 to 64 and latent_dim >= 0, got {n.latent_tokens} and "
                   f"{n.latent_dim}")
    elif n.latent_tokens > 1 and n.memory_tokens != 1:
        out.append("net.memory_tokens must be 1 with a temporal latent (latent_tokens > 1: one memory token per part)")
    elif n.latent_tokens == 1 and n.latent_dim not in (0, n.d_model):
        out.append("net.latent_dim is d_model with one latent (latent_tokens 1); set it to 0")
    if min(n.enc_layers, n.dec_layers, n.ff_dim, n.mlp_hidden) < 1 or not 0 <= n.dropout < 1:
        out.append("net layer counts and widths must be >= 1, dropout in [0, 1)")
    if cfg.encoder.kind not in ("minilm", "clip") or cfg.encoder.dim < 1:
        out.append(f"encoder must be minilm or clip with dim >= 1, got {cfg.encoder.kind!r} dim {cfg.encoder.dim}")
    t = cfg.train
    if t.split not in ("train", "all"):
        out.append(f"train.split must be 'train' or 'all', got {t.split!r}")
    if t.precision not in ("float32", "bfloat16", "auto"):
        out.append(f"train.precision must be float32, bfloat16 or auto, got {t.precision!r}")
    if t.save_dtype not in ("float16", "float32"):
        out.append(f"train.save_dtype must be float16 or float32, got {t.save_dtype!r}")
    if t.epochs < 1 or t.batch_size < 1 or t.lr <= 0 or t.save_every < 1:
        out.append("train.epochs, batch_size, save_every must be >= 1 and lr > 0")
    if t.kl_weight < 0 or t.fk_weight < 0 or t.fk_vel_weight < 0:
        out.append("train.kl_weight, fk_weight and fk_vel_weight must be >= 0")
    return out


def _check(value, tp, where: str, problems: list[str]):
    """``value`` converted to ``tp`` (JSON lists -> tuples), or a problem appended."""
    origin = typing.get_origin(tp)
    if is_dataclass(tp):
        return from_dict(tp, value, where, problems)
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    elif origin is tuple:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
    elif tp is dict or origin is dict:
        if isinstance(value, dict):
            return value
    elif origin in (typing.Union, types.UnionType):
        return value
    problems.append(f"{where}: expected {getattr(tp, '__name__', tp)}, got {type(value).__name__} {value!r:.60}")
    return None


def from_dict(cls, data, where: str, problems: list[str] | None = None):
    """Rebuild dataclass ``cls`` from parsed JSON, naming every problem in one error."""
    top = problems is None
    problems = [] if top else problems
    if not isinstance(data, dict):
        problems.append(f"{where}: expected an object, got {type(data).__name__}")
        if top:
            raise SignAvatarError("; ".join(problems))
        return None
    hints = typing.get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    for k in sorted(set(data) - names):
        problems.append(f"{where}: unknown key '{k}'")
    kwargs = {}
    for f in fields(cls):
        if f.name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                problems.append(f"{where}: missing key '{f.name}'")
            continue
        kwargs[f.name] = _check(data[f.name], hints[f.name], f"{where}.{f.name}", problems)
    if top and problems:
        raise SignAvatarError("invalid config: " + "; ".join(problems))
    if problems:
        return None
    return cls(**kwargs)
