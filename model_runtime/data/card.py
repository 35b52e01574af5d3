"""The dataset card: what went in (sources, licences, signers, glosses), what was dropped and why,
and the quality figures of what was kept. ``card.json`` for programs, ``card.md`` for people."""

from __future__ import annotations

import datetime as _dt
import math
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from ..atomic import write_text

QUALITY_KEYS = ("reproj_body", "reproj_hand", "limit_violation_frac", "jerk_raw", "jerk_smooth")


def _num(v) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return math.nan
    return x


def _summary(values) -> dict:
    v = np.array([x for x in map(_num, values) if math.isfinite(x)])
    if not len(v):
        return {"n": 0}
    return {"n": int(len(v)), "mean": round(float(v.mean()), 5), "median": round(float(np.median(v)), 5),
            "p90": round(float(np.percentile(v, 90)), 5)}


def make_card(records: list[dict], motions: list, drops: Counter, settings: dict) -> dict:
    frames = [m.num_frames for m in motions]
    seconds = [m.duration for m in motions]
    per_gloss = defaultdict(lambda: {"train": 0, "test": 0, "signers": set()})
    per_signer = Counter()
    per_source = defaultdict(lambda: {"clips": 0, "frames": 0, "seconds": 0.0, "glosses": set(), "signers": set()})
    per_licence = defaultdict(lambda: {"clips": 0, "frames": 0, "seconds": 0.0})
    per_source_licence = Counter()
    per_language = Counter()
    for r, n, s in zip(records, frames, seconds):
        g = per_gloss[r["gloss"]]
        g[r["split"]] += 1
        g["signers"].add(r["signer"])
        per_signer[r["signer"]] += 1
        src = per_source[r["source"]]
        src["clips"] += 1
        src["frames"] += n
        src["seconds"] += s
        src["glosses"].add(r["gloss"])
        src["signers"].add(r["signer"])
        lic = per_licence[r["licence"]]
        lic["clips"] += 1
        lic["frames"] += n
        lic["seconds"] += s
        per_source_licence[f"{r['source']} / {r['licence']}"] += 1
        per_language[r["sign_language"]] += 1
    dropped = Counter()
    dropped_by_source = defaultdict(Counter)
    for (source, reason), n in drops.items():
        dropped[reason] += n
        dropped_by_source[source][reason] += n
    quality = {k: _summary(r.get(k) for r in records) for k in QUALITY_KEYS}
    quality_by_source = {src: {k: _summary(r.get(k) for r in records if r["source"] == src) for k in QUALITY_KEYS}
                         for src in per_source}
    splits = Counter(r["split"] for r in records)
    card = {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "counts": {"clips": len(records), "frames": int(sum(frames)), "hours": round(sum(seconds) / 3600, 3),
                   "glosses": len(per_gloss), "signers": len(per_signer), "train": splits.get("train", 0),
                   "test": splits.get("test", 0),
                   "hands_relabelled": sum(int(r.get("hand_labels_swapped") or 0) for r in records),
                   "mirrored_to_right_handed": sum(int(r.get("mirrored") or 0) for r in records)},
        "per_gloss": {g: {"train": v["train"], "test": v["test"], "signers": len(v["signers"])}
                      for g, v in sorted(per_gloss.items())},
        "per_signer": dict(sorted(per_signer.items())),
        "per_source": {s: {"clips": v["clips"], "frames": v["frames"], "hours": round(v["seconds"] / 3600, 3),
                           "glosses": len(v["glosses"]), "signers": len(v["signers"])}
                       for s, v in sorted(per_source.items())},
        "per_licence": {k: {"clips": v["clips"], "frames": v["frames"], "hours": round(v["seconds"] / 3600, 3)}
                        for k, v in sorted(per_licence.items())},
        "per_source_licence": dict(sorted(per_source_licence.items())),
        "per_sign_language": dict(sorted(per_language.items())),
        "dropped": dict(dropped.most_common()),
        "dropped_by_source": {s: dict(c.most_common()) for s, c in sorted(dropped_by_source.items())},
        "quality": quality,
        "quality_by_source": quality_by_source,
        "settings": settings,
    }
    if any(r.get("signer_split") for r in records):
        sp = Counter(r["signer_split"] for r in records)
        card["signer_split"] = {"train": sp.get("train", 0), "test": sp.get("test", 0),
                                "test_signers": sorted({r["signer"] for r in records if r["signer_split"] == "test"})}
    return card


def _table(header: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out + [""]


def write_card_md(path, card: dict) -> Path:
    c = card["counts"]
    lines = [f"# Dataset card: {Path(card['settings']['out']).name}", "",
             f"{c['clips']} clips, {c['frames']} frames ({c['hours']} h), {c['glosses']} glosses, {c['signers']} "
             f"signers; split {c['train']} train / {c['test']} test (per gloss 8:2, seed {card['settings']['seed']}).",
             f"Hands relabelled from the data: {c['hands_relabelled']} clips; mirrored to a right-handed signer: "
             f"{c['mirrored_to_right_handed']} clips. Built {card['created']}; sources: "
             f"{', '.join(card['settings']['sources'])}; quality control "
             f"{'on' if card['settings']['qc'] else 'OFF (ablation)'}.", "",
             "Research and evaluation material: the licence column is what each source states; see each source's "
             "README before using a model trained on it.", "", "## Composition by source", ""]
    lines += _table(["source", "clips", "frames", "hours", "glosses", "signers"],
                    [[s, v["clips"], v["frames"], v["hours"], v["glosses"], v["signers"]]
                     for s, v in card["per_source"].items()])
    lines += ["## Composition by licence", ""]
    lines += _table(["licence", "clips", "frames", "hours"],
                    [[k, v["clips"], v["frames"], v["hours"]] for k, v in card["per_licence"].items()])
    lines += _table(["source / licence", "clips"], [[k, v] for k, v in card["per_source_licence"].items()])
    lines += ["## Sign language (as the sources state it)", ""]
    lines += _table(["sign language", "clips"], [[k, v] for k, v in card["per_sign_language"].items()])
    lines += ["## Quality of the kept clips", "", "Re-projection errors in shoulder widths; jerk before/after "
              "smoothing as the IK reports it.", ""]
    lines += _table(["figure", "n", "mean", "median", "p90"],
                    [[k, v.get("n", 0), v.get("mean", ""), v.get("median", ""), v.get("p90", "")]
                     for k, v in card["quality"].items()])
    lines += ["## Dropped", ""]
    lines += _table(["reason", "clips"], [[k, v] for k, v in card["dropped"].items()]) if card["dropped"] else \
        ["nothing was dropped", ""]
    if card.get("errors"):
        lines += ["## Clips that failed to load or solve (first 30)", ""]
        lines += _table(["clip", "error"], [[k, v.replace("|", "/")[:160]] for k, v in list(card["errors"].items())[:30]])
    if "signer_split" in card:
        s = card["signer_split"]
        lines += ["## Signer-disjoint split", "", f"{s['train']} train / {s['test']} test clips; test signers: "
                  f"{', '.join(s['test_signers'])}", ""]
    lines += ["## Clips per gloss", ""]
    lines += _table(["gloss", "train", "test", "signers"],
                    [[g, v["train"], v["test"], v["signers"]] for g, v in card["per_gloss"].items()])
    lines += ["## Clips per signer", ""]
    lines += _table(["signer", "clips"], [[k, v] for k, v in card["per_signer"].items()])
    path = Path(path)
    write_text(path, "\n".join(lines))
    return path
