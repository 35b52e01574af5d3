"""``data segment``: cut a long recording into signs at motion pauses (stdlib-only imports at top level).

``python -m model_runtime data segment VIDEO --out DIR [--glosses FILE] [--preview cuts.png]`` writes
one landmark file per sign and ``index.csv`` with every sign's start and end seconds
(:mod:`.segments`); ``--preview`` draws the hand speed with the cuts and a thumbnail per sign
(:mod:`.segment_preview`). ``data build VIDEO --segment-glosses FILE`` runs the same cut first and
builds from the signs (:func:`segmented_source`).
"""

from __future__ import annotations


def add_segment_options(p) -> None:
    """The pause settings shared by ``data segment`` and ``data build --segment-glosses``."""
    p.add_argument("--min-pause", type=float, default=0.2,
                   help="seconds both hands must rest down to count as a pause between signs (default 0.2)")
    p.add_argument("--min-hold", type=float, default=1.2,
                   help="seconds both hands must stay still, wherever they are, to count as a pause (default 1.2)")
    p.add_argument("--min-sign", type=float, default=0.3, help="shortest movement kept as a sign (default 0.3 s)")


def register(sub) -> None:
    p = sub.add_parser("segment", help="cut a long recording into signs at motion pauses",
                       description="Landmarks of a recording of several signs -> one landmark file per sign "
                                   "(a folder that data build / check / preview read as a source) and index.csv "
                                   "with each sign's start and end seconds. Pauses: both hands down at rest, or "
                                   "both still; frames without the signer count as pauses.")
    p.add_argument("recording", metavar="VIDEO", help="a video (or one landmark file) of several signs")
    p.add_argument("--out", required=True, help="folder to write (replaced when complete)")
    p.add_argument("--glosses", default="", help="text file, one gloss per line in signing order; the number of "
                                                 "signs found must match")
    p.add_argument("--preview", default="", help="also write a PNG of the hand speed, the cuts and one thumbnail "
                                                 "per sign")
    p.add_argument("--mirrored", action="store_true", help="the recording is a mirror image (selfie preview)")
    p.add_argument("--signer", default="", help="signer id for the index (default: the recording's name)")
    p.add_argument("--license", default="", help="licence of the recording, copied into the index")
    p.add_argument("--workers", type=int, default=0, help="landmark processes (default 0 = one per core)")
    add_segment_options(p)
    p.set_defaults(func=run_segment)


def segment_config(args):
    from ..errors import SignAvatarError
    from ..landmarks.segment import SegmentConfig

    bad = [f"--{k.replace('_', '-')} must be a positive number of seconds, got {v!r}"
           for k, v in (("min_pause", args.min_pause), ("min_hold", args.min_hold), ("min_sign", args.min_sign))
           if not (v > 0 and v < 1e4)]
    if bad:
        raise SignAvatarError("; ".join(bad))
    return SegmentConfig(min_pause_s=args.min_pause, min_hold_s=args.min_hold, min_sign_s=args.min_sign)


def _check_outputs(args) -> None:
    from pathlib import Path

    from ..errors import SignAvatarError

    problems = []
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        problems.append(f"--out {out} is a file; give a folder")
    if args.preview and Path(args.preview).suffix.lower() != ".png":
        problems.append(f"--preview must end in .png, got {Path(args.preview).name[:80]!r}")
    if args.preview and Path(args.preview).is_dir():
        problems.append(f"--preview names the folder {args.preview}; give a file name such as cuts.png")
    if problems:
        raise SignAvatarError("; ".join(problems))


def run_segment(args) -> int:
    from .segment_preview import write_cuts_preview
    from .segments import read_glosses, segment_recording, write_segments

    cfg = segment_config(args)
    _check_outputs(args)
    glosses = read_glosses(args.glosses) if args.glosses else None
    rec = segment_recording(args.recording, glosses, cfg, mirrored=args.mirrored, progress=True,
                            workers=args.workers if args.workers > 0 else None)
    _print_people(rec)
    rows = write_segments(rec, args.out, signer=args.signer, licence=args.license, config=cfg)
    seq = rec.seq
    print(f"{args.recording}: {seq.num_frames / seq.fps:.1f} s, {len(rows)} sign{'s' * (len(rows) != 1)} at "
          f"{rec.found.describe()}")
    if rec.track.get("notes"):
        print("  signer: " + "; ".join(rec.track["notes"]))
    if rec.found.ignored:
        print("  left out (too short for a sign): " + ", ".join(f"{a:.2f}\u2013{b:.2f} s"
                                                              for a, b in rec.found.ignored))
    print(f"wrote {args.out} (index.csv: start_s / end_s per sign)")
    if args.preview:
        print(f"wrote {write_cuts_preview(seq, rec.found, rec.glosses, args.preview)}")
    return 0


def _print_people(rec) -> None:
    note = rec.seq.meta.get("people_note", "")
    if note:
        print(f"  {note}")


def segmented_source(spec: str, glosses_file: str, cache_dir: str, cfg, mirrored: bool = False,
                     workers: int | None = None) -> str:
    """``data build --segment-glosses``: the folder of ``spec``'s signs (cut once, kept in the cache)."""
    from pathlib import Path

    from ..errors import SignAvatarError
    from ..landmarks.video import VIDEO_EXTENSIONS
    from .clipcache import default_cache_dir
    from .segments import cache_folder, read_glosses, segment_recording, write_segments

    p = Path(spec)
    if not (p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS):
        raise SignAvatarError(f"--segment-glosses cuts one video into signs; {spec!r} is not a video file "
                              f"({', '.join(VIDEO_EXTENSIONS)})")
    glosses = read_glosses(glosses_file)
    folder = cache_folder(Path(cache_dir).expanduser() if cache_dir else default_cache_dir(), spec, glosses, cfg,
                          mirrored)
    if not (folder / "index.csv").is_file():
        rec = segment_recording(spec, glosses, cfg, mirrored=mirrored, progress=True, workers=workers)
        write_segments(rec, folder, config=cfg)
        print(f"{spec}: {len(glosses)} signs at {rec.found.describe()}")
    return str(folder)
