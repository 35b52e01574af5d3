"""``MODEL_CARD.md`` for a trained run, written from the run folder's own records.

Everything in the card comes from files the run wrote (``config.json``, ``train_log.jsonl``,
``glosses.json``, ``dataset_card.json``) plus the command line and timing of the training
call, so a retrained model gets a truthful card. The section between the evaluation markers
is kept when the card is rewritten: the evaluation fills it in.
"""

from __future__ import annotations

import json
import platform
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..atomic import write_text
from ..errors import SignAvatarError

if TYPE_CHECKING:
    from ..model.config import ModelConfig

EVAL_START = "<!-- evaluation:start -->"
EVAL_END = "<!-- evaluation:end -->"
EVAL_PLACEHOLDER = (f"{EVAL_START}\n_Not evaluated yet: run `python -m model_runtime evaluate --checkpoint "
                    f"<this folder> --data <dataset> --card <name>` to put Table I here._\n{EVAL_END}")


def _table(rows: list[list], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _kept_evaluation(path: Path) -> str:
    if path.is_file():
        text = path.read_text()
        if EVAL_START in text and EVAL_END in text:
            return text[text.index(EVAL_START):text.index(EVAL_END) + len(EVAL_END)]
    return EVAL_PLACEHOLDER


def _build_command(settings: dict, out: str) -> str:
    """The ``data build`` command that reproduces the dataset, from its card's settings."""
    if not settings.get("sources"):
        return ""
    cmd = ["python", "-m", "model_runtime", "data", "build", *settings["sources"]]
    if settings.get("language", "ASL") != "ASL":
        cmd += ["--language", str(settings["language"])]
    if settings.get("keep_unspecified_language") is False:
        cmd.append("--no-unspecified-language")
    for key, flag in (("min_samples", "--min-samples"), ("limit", "--limit"), ("test_fraction", "--test-fraction"),
                      ("seed", "--seed")):
        if settings.get(key) not in (None, 0) or key == "min_samples":
            cmd += [flag, str(settings.get(key))]
    if settings.get("qc") is False:
        cmd.append("--no-qc")
    if settings.get("signer_split"):
        cmd.append("--signer-split")
    for g in settings.get("glosses") or []:
        cmd += ["--gloss", g]
    return shlex.join(cmd + ["--out", out])


@dataclass(frozen=True)
class _Run:
    """What a card is written from: the run folder's own records."""

    path: Path
    cfg: ModelConfig
    log: list[dict]
    glosses: list[dict]
    dataset_card: dict


def _read_run(run: Path) -> _Run:
    from ..model.checkpoint import CONFIG_FILE, LOG_FILE
    from ..model.config import ModelConfig

    log = [json.loads(ln) for ln in (run / LOG_FILE).read_text().splitlines() if ln.strip()]
    card_file = run / "dataset_card.json"
    return _Run(path=run, cfg=ModelConfig.load(run / CONFIG_FILE), log=log,
                glosses=json.loads((run / "glosses.json").read_text()),
                dataset_card=json.loads(card_file.read_text()) if card_file.is_file() else {})


def _parameter_count(run: Path) -> int | None:
    """Weights in ``model.safetensors``, or None when it cannot be read (the card is informative)."""
    try:
        import numpy as np
        from safetensors import safe_open

        with safe_open(str(run / "model.safetensors"), framework="np") as f:
            return sum(int(np.prod(f.get_slice(k).get_shape())) for k in f.keys())
    except Exception:  # the card is informative; a missing count is not an error
        return None


def _summary(r: _Run) -> list[str]:
    m = r.cfg.motion
    return [f"# Model card: {r.path.name}", "",
            f"SignAvatar transformer CVAE (ACTOR-style, as in Dong et al.'s SignAvatar) over SMPL-X pose sequences, "
            f"conditioned on the `{r.cfg.encoder.id}` text embedding of the gloss. "
            f"{len(r.glosses)} glosses, {m.fps:g} fps, up to {m.max_frames} frames ({m.max_frames / m.fps:.1f} s)."]


def _reproduce(r: _Run, command: list[str], seconds: float, device: str, threads: int) -> list[str]:
    cpu = sum(rec.get("cpu_seconds", 0.0) for rec in r.log)
    cpu_note = f" ({cpu / 60:.1f} CPU-minutes in the training loop)" if cpu else ""
    build = _build_command(r.dataset_card.get("settings", {}), r.cfg.dataset.get("path", "DATA"))
    return ["", "## Reproduce", "", "```bash"] + ([build] if build else []) + _warm_start_command(r) + [
        shlex.join(command), "```", "",
            f"Trained in {seconds / 60:.1f} min wall{cpu_note} on {device} ({threads} torch threads, "
            f"{platform.processor() or 'cpu'}, "
            f"Python {platform.python_version()}); seed {r.cfg.train.seed}. Same data + command + seed -> the same "
            "weights on the same hardware and torch build."]


def _warm_start_command(r: _Run) -> list[str]:
    """The training commands of the models this run was warm-started from, earliest first (each read from that
    folder's own config), so the card reproduces every stage; nothing when the run started from random weights."""
    from .cli import command_from_config

    lines: list[str] = []
    cfg, label = r.cfg, "this one"
    for _ in range(8):  # a chain of warm starts; the bound only guards against a folder that starts from itself
        t = cfg.train
        if not t.init_from:
            break
        first = _start_config(cfg)
        if first is None:
            lines[:0] = [f"# (warm start from {t.init_from}: that folder is not here to read its own command)"]
            break
        cmd = command_from_config(first, first.dataset.get("path", r.cfg.dataset.get("path", "DATA")), t.init_from)
        lines[:0] = [f"# the model {label} starts from (--init-from {t.init_from}):", shlex.join(cmd)]
        cfg, label = first, "that one"
    return lines


def sampling_text(folder: Path) -> str:
    """The card's 'sampling' row: the latent prior the folder holds (kernel and bandwidth), or N(0, I)."""
    from ..model.latent_prior import PRIOR_FILE, kernel_summary

    path = Path(folder) / PRIOR_FILE
    if not path.is_file():
        return "z ~ N(0, I)"
    kind, bandwidth = kernel_summary(path)
    kernel = "correlated kernel (pooled within-gloss correlation)" if kind == "correlated" else "diagonal kernel"
    return ("per-gloss latent prior (`latent_prior.safetensors`: a kernel density estimate of the training "
            f"posteriors of each gloss, {kernel}, bandwidth {bandwidth}) by default; z ~ N(0, I), the paper's, "
            "with `--prior normal`")


def refresh_sampling_row(folder) -> None:
    """Rewrite the 'sampling' row of the folder's model card (after its prior was refitted)."""
    card = Path(folder) / "MODEL_CARD.md"
    if not card.is_file():
        return
    lines = card.read_text().splitlines(keepends=True)
    row = f"| sampling | {sampling_text(Path(folder))} |\n"
    new = [row if line.startswith("| sampling |") else line for line in lines]
    if new != lines:
        write_text(card, "".join(new))


def _model(r: _Run) -> list[str]:
    t, n, m, enc = r.cfg.train, r.cfg.net, r.cfg.motion, r.cfg.encoder
    files = [p for p in r.path.iterdir() if p.is_file() and p.suffix in (".safetensors", ".json")]
    size = sum(p.stat().st_size for p in files) / 2**20
    n_params = _parameter_count(r.path)
    rows = [["signing joints", f"{len(m.joints)} (pelvis, spine, neck, head, jaw, collars, arms, 30 finger "
                               "joints); legs and eyes output at rest, translation zero"],
            ["input", f"6D rotations (first two matrix columns), {m.feat_dim} values per frame, normalised by "
                      "the training mean/std (`normalizer.safetensors`)"],
            ["clips", f"resampled to {m.fps:g} fps (slerp), centre-cropped to {m.max_frames} frames"
                      + (f", then time-normalised to {m.phase_frames} frames" if m.phase_frames else "")],
            ["network", f"d_model {n.d_model}, {n.enc_layers} encoder + {n.dec_layers} decoder "
                        f"layers, {n.heads} heads, FF {n.ff_dim}, dropout {n.dropout}, semantic MLP "
                        f"{enc.dim}->{n.mlp_hidden}->{n.mlp_hidden}->{n.cond_dim} (encoder) / "
                        f"->{n.d_model} (decoder bias); " + _latent(n)],
            ["parameters", f"{n_params:,}" if n_params else "?"],
            ["weights", f"`model.safetensors` ({t.save_dtype}); folder {size:.1f} MiB"],
            ["loss", f"6D MSE (mean over valid frames x features) + {t.fk_weight:g} x FK joint-position MSE "
                     f"(m^2) + {t.fk_vel_weight:g} x FK joint-velocity MSE (m^2 per frame^2) + "
                     f"{t.kl_weight:g} x KL (sum over latent dims, mean over clips)"],
            ["sampling", sampling_text(r.path)],
            ["curriculum", ("mask_ratio = min(0.1 * floor(10 * epoch / epochs), 0.6) of the input frames "
                            f"replaced by a {n.mask_token} mask vector") if t.curriculum else "off"],
            ["optimiser", f"AdamW lr {t.lr:g} (warm-up {t.warmup_steps} steps, cosine to x{t.min_lr_ratio:g}), "
                          f"weight decay {t.weight_decay:g}, batch {t.batch_size}, grad clip {t.grad_clip:g}, "
                          f"{t.epochs} epochs"
                          + (", bfloat16 autocast forward pass" if t.precision == "bfloat16" else "")
                          + (f", at most {t.max_clips_per_gloss} clips per gloss per epoch"
                             if t.max_clips_per_gloss else "")],
            ["initial weights", _initial_weights(r.cfg)],
            ["free text", f"spelling normalisation, else {enc.id} cosine >= {r.cfg.match_threshold:g} "
                          "to a known gloss, else refused with suggestions"]]
    return ["", "## Model", "", _table(rows, ["", ""])]


def _latent(n) -> str:
    if n.latent_tokens > 1:
        return (f"temporal latent: {n.latent_tokens} parts of the clip's duration x {n.latent_dim or n.d_model} "
                f"values (z {n.z_dim} wide), one decoder memory token per part")
    return f"latent z of {n.d_model} values" + (" (own mu / log Sigma heads)" if n.posterior_heads else "") + \
        "; decoder memory " + (f"{n.memory_tokens} tokens mapped from z + bias" if n.memory_tokens > 1
                               else "one token z + bias")


def _start_config(cfg) -> ModelConfig | None:
    """The config of the model ``cfg`` was warm-started from, or None when that folder is not here."""
    from ..model.checkpoint import CONFIG_FILE
    from ..model.config import ModelConfig
    from .setup import init_folder

    try:
        return ModelConfig.load(init_folder(cfg) / CONFIG_FILE)
    except SignAvatarError:
        return None


def _initial_weights(cfg) -> str:
    from .setup import same_tensors

    t = cfg.train
    if not t.init_from:
        return "random"
    what = "its weights and normaliser"
    first = _start_config(cfg)
    if first is None:
        what += " (that folder is no longer there to compare)"
    elif not same_tensors(first.net, cfg.net):
        what = ("its normaliser and every tensor of the same name and shape; the new latent's layers at their "
                "initialisation")
    return f"warm start from `{t.init_from}` ({what}; fresh optimiser, schedule and curriculum)"


def _losses(r: _Run) -> list[str]:
    if not r.log:
        return []
    first, last = r.log[0], r.log[-1]
    vals = [rec for rec in r.log if "val_joint_mm" in rec]
    rows = [[rec["epoch"], f"{rec['loss']:.5f}", f"{rec['recon']:.5f}", f"{rec['kl']:.2f}", f"{rec['fk']:.5f}",
             f"{rec['mask_ratio']:.1f}", f"{rec['val_recon']:.5f}" if "val_recon" in rec else "",
             f"{rec['val_joint_mm']:.1f}" if "val_joint_mm" in rec else ""]
            for rec in [first] * (first not in vals) + vals]
    out = ["", "## Training losses", "",
           "From `train_log.jsonl` (one line per epoch). `val_*`: held-out test clips reconstructed from the "
           "posterior mean (6D MSE; mean joint-position error in mm by FK on the neutral skeleton, signing "
           "joints and fingertips).", "",
           _table(rows, ["epoch", "loss", "recon", "KL", "FK", "mask", "val recon", "val joint mm"])]
    if last is not first and not vals:
        out.append(f"\nlast epoch {last['epoch']}: loss {last['loss']:.5f}")
    return out


def _composition(card: dict) -> list[str]:
    """The dataset's clips by source and licence, from its card."""
    out = []
    if card.get("per_source"):
        rows = [[k, v.get("clips", ""), v.get("frames", ""), v.get("glosses", ""), v.get("signers", "")]
                for k, v in sorted(card["per_source"].items())]
        out += ["", "Whole dataset by source (from its card; the model trained on the train split):", "",
                _table(rows, ["source", "clips", "frames", "glosses", "signers"])]
    if card.get("per_licence"):
        rows = [[k, v.get("clips", v) if isinstance(v, dict) else v] for k, v in sorted(card["per_licence"].items())]
        out += ["", "By licence as the sources state it:", "", _table(rows, ["licence", "clips"])]
    if card.get("per_source_licence"):
        psl = card["per_source_licence"]
        rows = ([[k, v] for k, v in sorted(psl.items())] if all(not isinstance(v, dict) for v in psl.values())
                else [[f"{s} / {lic}", c if not isinstance(c, dict) else c.get("clips", "")]
                      for s, d in sorted(psl.items()) for lic, c in sorted(d.items())])
        out += ["", _table(rows, ["source / licence", "clips"])]
    return out


def _training_data(r: _Run) -> list[str]:
    ds, m = r.cfg.dataset, r.cfg.motion
    return (["", "## Training data", "",
             f"Dataset `{ds.get('path', '?')}`, split `{ds.get('split', '?')}`: {ds.get('clips', '?')} clips, "
             f"{ds.get('glosses', '?')} glosses, {ds.get('frames', '?')} frames at {m.fps:g} fps."]
            + _composition(r.dataset_card)
            + ["", "Research and evaluation material: most of it states no licence (third-party footage); the "
                   "composition above is what a user of this model inherits. See `../shared/*/README.md`."])


def _vocabulary(r: _Run) -> list[str]:
    counts = sorted(r.glosses, key=lambda g: (-g["samples"], g["gloss"]))
    one = sum(g["samples"] == 1 for g in r.glosses)
    return ["", "## Vocabulary", "",
            f"{len(r.glosses)} glosses; {one} have a single training clip. Clips per gloss (most first):", "",
            ", ".join(f"{g['gloss']} ({g['samples']})" for g in counts)]


def _limits(r: _Run) -> list[str]:
    m = r.cfg.motion
    return ["", "## Limits", "",
            "- Motions come from MediaPipe landmarks lifted to SMPL-X by our IK, not motion capture: depth, wrist "
            "twist and finger detail are only as good as that path; faces are reduced to jaw opening (no mouthing, "
            "eyebrows or gaze).",
            "- Glosses with one training clip (most dictionary signs) are reproduced, not generalised: the latent "
            "prior keeps their samples around their own clip, so variations are small.",
            "- English gloss labels; the ASL filter relies on what each source states. Free text is matched to a "
            "known gloss by meaning, never signed from an unknown embedding: unknown words are refused.",
            f"- One clip is at most {m.max_frames} frames ({m.max_frames / m.fps:.1f} s); no body translation, legs at "
            "rest.",
            "- Not a substitute for a signer: check signs with Deaf signers before publishing anything."]


def write_model_card(run, command: list[str], seconds: float, device: str, threads: int) -> Path:
    """Write ``run/MODEL_CARD.md`` from the run's records, keeping its evaluation section."""
    r = _read_run(Path(run))
    path = r.path / "MODEL_CARD.md"
    out = (_summary(r) + _reproduce(r, command, seconds, device, threads) + _model(r) + _losses(r)
           + _training_data(r) + ["", "## Evaluation", "", _kept_evaluation(path)] + _vocabulary(r) + _limits(r))
    write_text(path, "\n".join(out) + "\n")
    return path
