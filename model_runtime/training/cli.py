"""``train``: fit the SignAvatar CVAE on a built dataset.

    python -m model_runtime train --data DATASET_DIR --out RUN_DIR [options]
    torchrun --nproc_per_node=4 -m model_runtime train --data ... --out ...   # several GPUs (DDP)

Every option maps onto a field of :class:`ModelConfig` (``--epochs`` -> ``train.epochs``,
``--d-model`` -> ``net.d_model`` ...); the resolved config is written to ``RUN/config.json``.
"""

from __future__ import annotations

import argparse

# (flag, section, field) for every option that maps 1:1 onto a config field
_FIELDS = [
    ("--fps", "motion", "fps"), ("--max-frames", "motion", "max_frames"), ("--phase-frames", "motion", "phase_frames"),
    ("--memory-tokens", "net", "memory_tokens"), ("--fk-vel-weight", "train", "fk_vel_weight"),
    ("--latent-tokens", "net", "latent_tokens"), ("--latent-dim", "net", "latent_dim"),
    ("--posterior-heads", "net", "posterior_heads"),
    ("--d-model", "net", "d_model"), ("--cond-dim", "net", "cond_dim"), ("--mlp-hidden", "net", "mlp_hidden"),
    ("--enc-layers", "net", "enc_layers"), ("--dec-layers", "net", "dec_layers"), ("--heads", "net", "heads"),
    ("--ff-dim", "net", "ff_dim"), ("--dropout", "net", "dropout"), ("--mask-token", "net", "mask_token"),
    ("--epochs", "train", "epochs"), ("--batch-size", "train", "batch_size"), ("--lr", "train", "lr"),
    ("--min-lr-ratio", "train", "min_lr_ratio"), ("--warmup-steps", "train", "warmup_steps"),
    ("--weight-decay", "train", "weight_decay"), ("--kl-weight", "train", "kl_weight"),
    ("--fk-weight", "train", "fk_weight"), ("--grad-clip", "train", "grad_clip"), ("--seed", "train", "seed"),
    ("--split", "train", "split"), ("--max-clips-per-gloss", "train", "max_clips_per_gloss"),
    ("--save-every", "train", "save_every"), ("--save-dtype", "train", "save_dtype"),
    ("--precision", "train", "precision"), ("--init-from", "train", "init_from"),
]


def _yes_no(text: str) -> bool:
    """A true/false option's value: true/false, yes/no, on/off or 1/0."""
    value = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}
    if text.lower() not in value:
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return value[text.lower()]


def command_from_config(cfg, data, out, device: str = "auto", threads: int = 2,
                        clip_weights=None, encoder: str | None = None) -> list[str]:
    """A ``train`` command that reproduces the run whose resolved config is ``cfg`` (non-default fields only).

    Built from the saved config rather than from this call's options, so a run continued with
    ``--resume`` (whose own command line holds only the run folder) gets the whole run's command.
    ``encoder``: the ``--encoder`` value as given (a CLIP config file keeps only its stem in ``cfg``).
    """
    from ..model.config import MotionSpec, NetConfig, TrainConfig

    defaults = {"motion": MotionSpec(), "net": NetConfig(), "train": TrainConfig()}
    cmd = ["python", "-m", "model_runtime", "train", "--data", str(data), "--out", str(out)]
    enc = cfg.encoder
    encoder = encoder or (f"{enc.kind}:{enc.name}" if enc.kind != "minilm" else "minilm")
    if encoder != "minilm":
        cmd += ["--encoder", encoder]
    if clip_weights:
        cmd += ["--clip-weights", str(clip_weights)]
    if enc.text_template != "{}":
        cmd += ["--text-template", enc.text_template]
    if cfg.match_threshold != (0.6 if enc.kind == "minilm" else 0.8):
        cmd += ["--match-threshold", str(cfg.match_threshold)]
    if not cfg.train.curriculum:
        cmd.append("--no-curriculum")
    for flag, section, name in _FIELDS:
        value = getattr(getattr(cfg, section), name)
        if isinstance(value, (list, tuple)):
            continue  # joint sets are not a command-line option
        if value != getattr(defaults[section], name):
            cmd += [flag, str(value)]
    if device != "auto":
        cmd += ["--device", device]
    return cmd + ["--threads", str(threads)]


def register(sub) -> None:
    p = sub.add_parser("train", help="train the sign-motion model on a built dataset",
                       description="Train the SignAvatar transformer CVAE on a dataset built with 'data build'. "
                                   "Writes a loadable model folder (config.json, model.safetensors, normaliser, "
                                   "gloss table, train_log.jsonl) to --out.")
    p.add_argument("--data", required=True, help="dataset folder (from 'python -m model_runtime data build')")
    p.add_argument("--out", required=True, help="run folder to write the model into")
    p.add_argument("--encoder", default="minilm",
                   help="semantic encoder: 'minilm' (offline, text only; default) or 'clip:ARCH' with an open_clip "
                        "architecture (ViT-B-32 ...) or an open_clip model-config JSON file")
    p.add_argument("--clip-weights", default=None,
                   help="open_clip weights file (or cached pretrained tag) for clip:ARCH")
    p.add_argument("--text-template", default="{}", help="encoder input for a gloss, '{}' = its words")
    p.add_argument("--match-threshold", type=float, default=None,
                   help="cosine below which free text is refused (default 0.6 for minilm, 0.8 for clip)")
    p.add_argument("--no-curriculum", dest="curriculum", action="store_false",
                   help="never mask input frames (the ablation of the paper's curriculum)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for torch (default 2; 0 = torch's default)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last checkpoint with its saved settings "
                        "(only --epochs may be changed)")
    p.add_argument("--force", action="store_true", help="overwrite a model already in --out")
    p.add_argument("--keep-state", action="store_true",
                   help="keep train_state/ (optimiser, fp32 weights) after the run finishes")
    p.add_argument("--stop-after", type=int, default=0, metavar="N",
                   help="stop after N epochs of this invocation, saving a resumable state (continue with --resume)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    from ..model.config import MotionSpec, NetConfig, TrainConfig

    defaults = {"motion": MotionSpec(), "net": NetConfig(), "train": TrainConfig()}
    for flag, section, name in _FIELDS:
        default = getattr(defaults[section], name)
        kind = _yes_no if isinstance(default, bool) else type(default)
        p.add_argument(flag, type=kind, default=None, help=f"{section}.{name} (default {default})")
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace):
    from ..errors import SignAvatarError
    from ..model.config import ModelConfig, MotionSpec, NetConfig, TrainConfig, validate
    from ..semantic.base import EncoderSpec, parse_encoder_id

    parts = {"motion": {}, "net": {}, "train": {"curriculum": args.curriculum}}
    for flag, section, name in _FIELDS:
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is not None:
            parts[section][name] = value
    kind, name = parse_encoder_id(args.encoder)
    threshold = args.match_threshold if args.match_threshold is not None else (0.6 if kind == "minilm" else 0.8)
    cfg = ModelConfig(motion=MotionSpec(**parts["motion"]), net=NetConfig(**parts["net"]),
                      encoder=EncoderSpec(kind=kind, name=name or "all-MiniLM-L6-v2", dim=1,
                                          text_template=args.text_template),
                      train=TrainConfig(**parts["train"]), match_threshold=threshold)
    problems = [p for p in validate(cfg) if not p.startswith("encoder")]
    if problems:
        raise SignAvatarError("invalid training options: " + "; ".join(problems))
    return cfg


def run(args) -> int:
    import os
    import time

    import torch

    from .loop import train

    t0 = time.time()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    cfg = config_from_args(args)
    result = train(args.data, args.out, cfg, encoder_id=args.encoder, clip_weights=args.clip_weights,
                   device=args.device, resume=args.resume, force=args.force, keep_state=args.keep_state,
                   progress=not args.quiet, stop_after=args.stop_after, resume_epochs=args.epochs)
    last = result.last
    if result.finished and os.environ.get("RANK", "0") == "0" and last:
        from .card import write_model_card
        from .loop import resolve_device

        from ..model.checkpoint import CONFIG_FILE
        from ..model.config import ModelConfig
        from .loop import read_log

        command = command_from_config(ModelConfig.load(result.run / CONFIG_FILE), args.data, args.out, args.device,
                                      args.threads, args.clip_weights, None if args.resume else args.encoder)
        # the whole run's time, also when this call only continued it (--resume)
        seconds = sum(r.get("seconds", 0.0) for r in read_log(result.run)) or time.time() - t0
        write_model_card(result.run, command, seconds, resolve_device(args.device), torch.get_num_threads())
    if last and os.environ.get("RANK", "0") == "0":
        extra = "".join(f", {k} {last[k]:.4g}" for k in ("val_recon", "val_joint_mm") if k in last)
        print(f"trained {result.epochs} epochs in {(time.time() - t0) / 60:.1f} min: loss {last['loss']:.4g} "
              f"(recon {last['recon']:.4g}, kl {last['kl']:.4g}){extra} -> {result.run}")
    return 0
