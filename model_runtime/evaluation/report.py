"""Report files: ``report.json`` (everything), ``report.md`` (tables) and the plot.

Table I (one model): rows Raw / Rec / Gen, for the train and the test split the columns
Acc. (higher is better), FID (lower), Div. (closer to Raw) and MM. (closer to Raw), each
as ``mean ± 95 % half-width`` over the seeds. Table II (ablation): one row per variant,
the same columns for the Rec and Gen groups of the test split.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..atomic import write_json, write_text
from .protocol import GROUPS, SPLITS

NAMES = {"raw": "Raw", "rec": "Rec", "gen": "Gen"}
COLUMNS = (("accuracy", "Acc. ↑"), ("fid", "FID ↓"), ("diversity", "Div. →"), ("multimodality", "MM. →"))


def fmt(summary: dict | None, digits: int = 3) -> str:
    if not summary or summary.get("mean") is None or not math.isfinite(summary["mean"]):
        return "–"
    mean, half = summary["mean"], summary.get("ci95")
    if half is None or not math.isfinite(half):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {half:.{digits}f}"


def table_i(result: dict) -> str:
    """Markdown table shaped like the paper's Table I."""
    groups = result["groups"]
    head = "| Group | " + " | ".join(f"{name} ({split})" for split in SPLITS for _, name in COLUMNS) + " |"
    rows = [head, "|---" * (1 + len(SPLITS) * len(COLUMNS)) + "|"]
    for g in GROUPS:
        if not any(f"{g}_{s}" in groups for s in SPLITS):
            continue
        cells = [fmt(groups.get(f"{g}_{s}", {}).get(m)) for s in SPLITS for m, _ in COLUMNS]
        rows.append(f"| {NAMES[g]} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def table_ii(variants: dict[str, dict], split: str = "test") -> str:
    """Markdown ablation table: one row per variant, Rec and Gen of ``split``."""
    head = "| Variant | " + " | ".join(f"{name} {NAMES[g]}" for g in ("rec", "gen") for _, name in COLUMNS) + " |"
    rows = [head, "|---" * (1 + 2 * len(COLUMNS)) + "|"]
    for label, result in variants.items():
        cells = [fmt(result["groups"].get(f"{g}_{split}", {}).get(m)) for g in ("rec", "gen") for m, _ in COLUMNS]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def targets(result: dict) -> list[tuple[str, bool | None, str]]:
    """The issue's targets checked on one result: (target, met or None when not measurable, figures)."""
    g = result["groups"]
    out = []

    def mean(key, metric):
        return g.get(key, {}).get(metric, {}).get("mean")

    raw, rec, gen = mean("raw_test", "accuracy"), mean("rec_test", "accuracy"), mean("gen_test", "accuracy")
    if raw is not None and rec is not None:
        out.append(("Rec_test accuracy ≥ Raw_test accuracy", rec >= raw, f"{rec:.3f} vs {raw:.3f}"))
    if raw is not None and gen is not None:
        out.append(("Gen_test accuracy ≥ 0.9 × Raw_test accuracy", gen >= 0.9 * raw, f"{gen:.3f} vs {0.9 * raw:.3f}"))
    for split in SPLITS:
        d_raw, d_gen = mean(f"raw_{split}", "diversity"), mean(f"gen_{split}", "diversity")
        if d_raw and d_gen is not None:
            rel = d_gen / d_raw - 1
            out.append((f"Gen_{split} diversity within 10 % of Raw_{split}", abs(rel) <= 0.10,
                        f"{d_gen:.3f} vs {d_raw:.3f} ({rel:+.1%})"))
    return out


def markdown(result: dict, title: str) -> str:
    rec = result["recognizer"]
    p = result["protocol"]
    lines = [f"# {title}", ""]
    if result.get("checkpoint"):
        lines.append(f"Model: `{result['checkpoint']}`  ")
    lines += [
        f"Data: `{result.get('data', '?')}` — split: {'signer-disjoint' if p['split_kind'] == 'signer' else 'per-gloss 8:2'}, "
        f"{result['clips']['train']} train / {result['clips']['test']} test clips, {result.get('glosses', '?')} glosses"
        + (f" (those with ≥ {p['min_samples']} clips)" if p.get("min_samples") else "")
        + (f" (those recorded by ≥ {p['min_signers']} signers)" if p.get("min_signers") else "") + "  ",
        f"Recognizer: STGCN ({rec['config']['joint_set']} joints, {rec['glosses']} glosses, "
        f"{rec.get('epochs', '?')} epochs on Raw train); Raw test accuracy **{rec['raw_test_accuracy']:.3f}**  ",
        f"Seeds: {len(result['seeds'])}; values are mean ± 95 % CI (Student t); diversity S_d = {p['diversity_pairs']} "
        f"pairs; multimodality S_l = {p['multimodality_pairs']} pairs per gloss with ≥ "
        f"{p['multimodality_min_samples']} clips"
        + (f"; Gen sampled at temperature {p['temperature']:g} (latent scale)" if p.get("temperature", 1.0) != 1.0
           else "")
        + ({"gloss": "; Gen latent prior: per-gloss (the model's default)",
            "normal": "; Gen latent prior: N(0, I) (the paper's)"}.get(p.get("prior", ""), "")), "",
        table_i(result), "",
        "FID: train groups against Raw train, test groups against Raw test features. The Raw row's FID is the "
        "noise floor: two random halves of the Raw set against each other.", "",
    ]
    h = result.get("held_out")
    if h:
        if h["overlap"] is None:
            lines += [f"Held-out check: the model's training data (`{h['trained_on']}`) could not be opened, so "
                      "whether it saw the test clips is unknown.", ""]
        else:
            verdict = ("none of them were in its training data" if h["overlap"] == 0 else
                       f"**{h['overlap']} of them were in its training data: Rec/Gen test figures are not held-out**")
            lines += [f"Held-out check: the model was trained on the `{h['trained_split']}` split of "
                      f"`{h['trained_on']}`; of the {h['test_clips']} test clips {verdict}.", ""]
    checks = targets(result)
    if checks:
        lines += ["| Target | Met | Figures |", "|---|---|---|"]
        lines += [f"| {t} | {'yes' if ok else 'no'} | {fig} |" for t, ok, fig in checks]
        lines.append("")
    return "\n".join(lines)


def write_report(result: dict, out_dir, title: str = "SignAvatar evaluation") -> tuple[Path, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "report.json", result, indent=2, allow_nan=True)
    write_text(out / "report.md", markdown(result, title))
    return out / "report.json", out / "report.md"


def write_ablation_report(name: str, variants: dict[str, dict], out_dir, notes: str = "") -> tuple[Path, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "report.json", {"ablation": name, "variants": variants}, indent=2)
    lines = [f"# Ablation: {name}", "", notes, "", "## Test split", "", table_ii(variants, "test"), "",
             "## Train split", "", table_ii(variants, "train"), ""]
    for label, result in variants.items():
        lines += [markdown(result, f"Variant: {label}").replace("# Variant", "## Variant"), ""]
    write_text(out / "report.md", "\n".join(lines))
    return out / "report.json", out / "report.md"


def plot(results: dict[str, dict], path, title: str = "") -> Path:
    """Bar chart of accuracy and FID per group (Raw/Rec/Gen x train/test) for one or more results."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    keys = [f"{g}_{s}" for s in SPLITS for g in GROUPS]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    width = 0.8 / max(1, len(results))
    for ax, metric, label in ((axes[0], "accuracy", "recognition accuracy ↑"), (axes[1], "fid", "FID ↓")):
        for k, (name, result) in enumerate(results.items()):
            g = result["groups"]
            means = [g.get(key, {}).get(metric, {}).get("mean", np.nan) for key in keys]
            errs = [g.get(key, {}).get(metric, {}).get("ci95", 0.0) for key in keys]
            errs = [e if e is not None and np.isfinite(e) else 0.0 for e in errs]
            x = np.arange(len(keys)) + (k - (len(results) - 1) / 2) * width
            ax.bar(x, means, width, yerr=errs, capsize=2, label=name)
        ax.set_xticks(np.arange(len(keys)))
        ax.set_xticklabels([f"{NAMES[k.split('_')[0]]}\n{k.split('_')[1]}" for k in keys])
        ax.set_title(label)
        ax.grid(axis="y", alpha=0.3)
    if len(results) > 1:
        axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def card_block(result: dict, name: str) -> str:
    """One evaluation as a model-card block: how it was run, Table I and the targets."""
    md = markdown(result, name)
    body = md.split("\n", 2)[2]  # drop the report's own title
    command = result.get("command")
    lines = [f"<!-- eval:{name} -->", f"### {name}", ""]
    if command:
        lines += ["```bash", command, "```", ""]
    return "\n".join(lines + [body.strip(), f"<!-- /eval:{name} -->"])


def check_card(card: Path) -> str:
    """The text of a model card that has an evaluation section; a clear error otherwise."""
    from ..errors import SignAvatarError
    from ..training.card import EVAL_END, EVAL_START

    card = Path(card)
    if not card.is_file():
        raise SignAvatarError(f"no model card to update: {card} (a model trained by 'train' has one)")
    text = card.read_text()
    if EVAL_START not in text or EVAL_END not in text:
        raise SignAvatarError(f"{card} has no evaluation section ({EVAL_START} ... {EVAL_END})")
    return text


def update_model_card(card: Path, name: str, block: str) -> Path:
    """Put ``block`` into the card's evaluation section, replacing an earlier block of the same name.

    The section lies between the card's evaluation markers (``training.card``), which a
    retrained model's card keeps; other evaluations' blocks stay as they are.
    """
    from ..errors import SignAvatarError
    from ..training.card import EVAL_END, EVAL_START

    card = Path(card)
    text = check_card(card)
    head, rest = text.split(EVAL_START, 1)
    section, tail = rest.split(EVAL_END, 1)
    blocks, pos = [], 0
    while (start := section.find("<!-- eval:", pos)) >= 0:
        label = section[start + len("<!-- eval:"):section.index(" -->", start)]
        end_marker = f"<!-- /eval:{label} -->"
        end = section.find(end_marker, start)
        if end < 0:
            raise SignAvatarError(f"{card}: evaluation block '{label}' has no end marker")
        blocks.append((label, section[start:end + len(end_marker)]))
        pos = end + len(end_marker)
    if any(label == name for label, _ in blocks):
        blocks = [(label, block if label == name else b) for label, b in blocks]
    else:
        blocks.append((name, block))
    new = head + EVAL_START + "\n" + "\n\n".join(b for _, b in blocks) + "\n" + EVAL_END + tail
    write_text(card, new)
    return card
