"""``data build`` and ``data sources`` (stdlib-only imports at top level)."""

from __future__ import annotations

import argparse

from .segment_cli import add_segment_options, segment_config, segmented_source


def register(sub) -> None:
    p = sub.add_parser(
        "build", help="build a training dataset from videos and landmark sets",
        description="Landmarks -> SMPL-X (inverse kinematics) -> quality control -> per-gloss 8:2 split -> "
                    "dataset folder (index.csv, poses.npy, trans.npy, clips/, card.json, card.md). "
                    "Resumable: every clip's IK result is cached.")
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="shared dataset name (gislr, mpdata, dictvideo, aslapp, videos, gislr-parquet), a dataset "
                        "folder, or a video / .parquet / .json file")
    p.add_argument("--out", required=True, help="dataset folder to write (replaced when complete)")
    p.add_argument("--workers", type=int, default=2, help="IK worker processes (default 2; 1 = in-process)")
    p.add_argument("--cache-dir", default="", help="per-clip IK cache (default $SIGNAVATAR_CACHE/build or "
                                                   "~/.cache/signavatar/build)")
    p.add_argument("--gender", default="neutral", choices=("neutral", "female", "male"))
    p.add_argument("--dominant-hand", default="right", choices=("right", "keep"),
                   help="right: mirror left-handed / mirrored-webcam clips so every clip is right-handed (default)")
    p.add_argument("--language", default="ASL", help="keep this sign language; 'any' keeps all (default ASL)")
    p.add_argument("--unspecified-language", action=argparse.BooleanOptionalAction, default=True,
                   help="keep rows whose source does not state the sign language (default: keep)")
    p.add_argument("--gloss", action="append", default=[], help="only this gloss (any spelling; repeatable)")
    p.add_argument("--limit", type=int, default=0, help="at most N clips per source (quick builds)")
    p.add_argument("--min-samples", type=int, default=18,
                   help="keep glosses with at least N clips (paper: 18; 1 keeps single-clip dictionary glosses)")
    p.add_argument("--no-qc", dest="qc", action="store_false",
                   help="skip quality control (the ablation set): no trimming, no drops by quality")
    p.add_argument("--max-reproj-body", type=float, default=0.10, help="drop clips above (shoulder widths)")
    p.add_argument("--max-reproj-hand", type=float, default=0.15, help="drop clips above (shoulder widths)")
    p.add_argument("--max-hands-lost", type=float, default=0.5, help="seconds without either hand inside a clip")
    p.add_argument("--min-frames", type=int, default=8, help="shortest clip kept after trimming")
    p.add_argument("--test-fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--signer-split", action="store_true", help="also compute a signer-disjoint split")
    p.add_argument("--no-clips", dest="write_clips", action="store_false", help="skip the per-clip .npz files")
    p.add_argument("--retry-failed", action="store_true", help="recompute clips whose failure is cached")
    p.add_argument("--batch-size", type=int, default=16, help="clips the IK refines together (default 16)")
    p.add_argument("--segment-glosses", default="", metavar="FILE",
                   help="the one SOURCE is a long video of several signs: cut it at motion pauses (as 'data "
                        "segment') and label the signs with FILE's glosses, one per line in signing order; refused "
                        "when the number of signs found differs")
    p.add_argument("--mirrored", action="store_true", help="with --segment-glosses: the video is a mirror image")
    add_segment_options(p)
    p.set_defaults(func=run_build)

    s = sub.add_parser("sources", help="list the landmark sources found (clips, glosses, licences)")
    s.add_argument("sources", nargs="*", metavar="SOURCE", help="sources to describe (default: the shared ones)")
    s.set_defaults(func=run_sources)


def run_build(args) -> int:
    from .build import BuildConfig, build_dataset
    from .qc import QCConfig

    sources = tuple(args.sources)
    if args.segment_glosses:
        if len(sources) != 1:
            from ..errors import SignAvatarError

            raise SignAvatarError(f"--segment-glosses takes exactly one SOURCE, the long video; got {len(sources)}")
        sources = (segmented_source(sources[0], args.segment_glosses, args.cache_dir, segment_config(args),
                                    args.mirrored, workers=max(1, args.workers)),)
    qc = QCConfig(max_reproj_body=args.max_reproj_body, max_reproj_hand=args.max_reproj_hand,
                  max_hands_lost_s=args.max_hands_lost, min_frames=args.min_frames)
    cfg = BuildConfig(out=args.out, sources=sources, workers=args.workers, cache_dir=args.cache_dir,
                      gender=args.gender, dominant_hand=args.dominant_hand, language=args.language,
                      keep_unspecified_language=args.unspecified_language, glosses=tuple(args.gloss),
                      limit=args.limit, min_samples=args.min_samples, qc=args.qc, qc_config=qc,
                      test_fraction=args.test_fraction, seed=args.seed, signer_split=args.signer_split,
                      write_clips=args.write_clips, retry_failed=args.retry_failed, batch_size=args.batch_size)
    card = build_dataset(cfg)
    c = card["counts"]
    print(f"wrote {args.out}: {c['clips']} clips ({c['train']} train / {c['test']} test), {c['glosses']} glosses, "
          f"{c['signers']} signers, {c['hours']} h")
    for reason, n in card["dropped"].items():
        print(f"  dropped {n:6d}  {reason}")
    return 0


def run_sources(args) -> int:
    from collections import Counter

    from ..errors import SignAvatarError
    from ..landmarks.sources import SHARED_NAMES, iter_clips, resolve_spec

    specs = args.sources or [n for n in SHARED_NAMES if n != "gislr-parquet"]
    print(f"{'source':14s} {'clips':>6s} {'glosses':>7s} {'signers':>7s}  licences / sign languages / path")
    for spec in specs:
        try:
            refs = iter_clips(spec)
            path = resolve_spec(spec)
        except SignAvatarError as e:
            print(f"{spec:14s} {'-':>6s}  {e}")
            continue
        lic = Counter(r.licence for r in refs)
        lang = Counter(r.sign_language for r in refs)
        print(f"{spec:14s} {len(refs):6d} {len({r.gloss for r in refs}):7d} {len({r.signer for r in refs}):7d}  "
              + ", ".join(f"{k} {v}" for k, v in lic.most_common()) + " / "
              + ", ".join(f"{k} {v}" for k, v in lang.most_common()) + f" / {path}")
    return 0
