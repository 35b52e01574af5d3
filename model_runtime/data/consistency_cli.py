"""``data consistency``: do the clips of each gloss show the same sign? (stdlib-only imports at top level)"""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "consistency", help="report clips and sources that disagree with the rest of their gloss",
        description="Compare the clips of each gloss of a built dataset (arms and hands in the chest frame, "
                    "time-normalised): outliers far from the gloss's medoid clip, sources whose clips disagree with "
                    "the other sources', clips whose dominant hand was mostly lost. Nothing is dropped.")
    p.add_argument("--data", required=True, help="dataset folder from 'data build'")
    p.add_argument("--gloss", action="append", default=[], help="only this gloss (repeatable)")
    p.add_argument("--min-clips", type=int, default=5, help="judge glosses with at least N clips (default 5)")
    p.add_argument("--outlier-mads", type=float, default=3.0, help="outlier: > median + K x 1.4826 x MAD (default 3)")
    p.add_argument("--disagree-ratio", type=float, default=1.5,
                   help="a source disagrees when its clips are this much farther from the others' medoid (1.5)")
    p.add_argument("--out", default="", help="folder for report.md and flagged.csv (default: print only)")
    p.add_argument("--top", type=int, default=40, help="glosses listed in the report (default 40)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from ..errors import SignAvatarError
    from ..atomic import write_csv, write_text
    from .consistency import ConsistencyConfig, check_dataset, flagged_rows, report_markdown
    from .dataset import SignDataset
    from .glosses import normalize_gloss

    if args.min_clips < 2 or args.outlier_mads <= 0 or args.disagree_ratio <= 1 or args.top < 1:
        raise SignAvatarError("--min-clips must be >= 2, --outlier-mads > 0, --disagree-ratio > 1, --top >= 1")
    ds = SignDataset.open(args.data)
    cfg = ConsistencyConfig(min_clips=args.min_clips, outlier_mads=args.outlier_mads,
                            disagree_ratio=args.disagree_ratio)
    glosses = [normalize_gloss(g) for g in args.gloss]
    results = check_dataset(ds, glosses or None, cfg, progress=not args.quiet)
    if not results:
        raise SignAvatarError(f"{args.data}: no gloss has {args.min_clips} or more clips")
    text = report_markdown(results, Path(args.data).name, cfg, args.top)
    print(text, end="")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        write_csv(out / "flagged.csv", ["gloss", "clip_id", "reason"], flagged_rows(results))
        write_text(out / "report.md", text)
        print(f"wrote {out / 'report.md'} and {out / 'flagged.csv'}")
    return 0
