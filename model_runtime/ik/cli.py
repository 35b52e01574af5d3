"""``data check`` and ``data preview`` (stdlib-only imports at top level).

``python -m model_runtime data check SOURCE... [--limit N]`` solves a sample of clips of
each source and prints the quality figures of :mod:`.quality` as a Markdown table (one
row per source; ``--per-clip`` adds a line per clip, ``--csv`` writes them all).

``python -m model_runtime data preview SOURCE -o out.png|out.gif [--clip ID]`` solves one
clip and draws landmarks beside the re-posed skeleton (:mod:`.preview`).

SOURCE is anything :func:`model_runtime.landmarks.sources.iter_clips` accepts: a shared
dataset name (gislr, mpdata, dictvideo, aslapp, videos, gislr-parquet), a dataset folder, a
video, a ``.parquet`` or an ASL-App ``.json`` file.
"""

from __future__ import annotations

FIGURES = ("reproj_body", "reproj_hand", "reproj_face", "limit_violation_frac", "limit_pressure_frac",
           "jerk_raw", "jerk_smooth", "ik_cpu_ms_per_frame")


def register(sub) -> None:
    c = sub.add_parser("check", help="solve a sample of clips and print the IK quality figures",
                       description="Inverse kinematics quality: 2-D re-projection error of the FK skeleton "
                                   "against the landmarks (shoulder widths), joint-limit violations, jerk "
                                   "before/after smoothing, IK time.")
    c.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="shared dataset name, dataset folder, or a video / .parquet / .json file")
    c.add_argument("--limit", type=int, default=50, help="clips sampled per source (0 = all; default 50)")
    c.add_argument("--seed", type=int, default=0, help="sampling seed")
    c.add_argument("--gender", default="neutral", choices=("neutral", "female", "male"))
    c.add_argument("--batch", type=int, default=32, help="clips refined together (faster for short clips)")
    c.add_argument("--per-clip", action="store_true", help="also print one line per clip")
    c.add_argument("--csv", default="", help="write every clip's figures to this CSV file")
    c.set_defaults(func=run_check)

    p = sub.add_parser("preview", help="draw landmarks beside the re-posed skeleton of one clip (PNG or GIF)",
                       description="Solve one clip and write a picture: landmarks (over the video frame for a "
                                   "video), the FK skeleton over the landmarks, a side view, both hands enlarged.")
    p.add_argument("source", metavar="SOURCE", help="a video, .parquet or .json file, a dataset folder or name")
    p.add_argument("-o", "--out", required=True, help="output .png (a strip of frames) or .gif (every frame)")
    p.add_argument("--clip", default="", help="clip id, sample id or gloss within SOURCE (default: the first)")
    p.add_argument("--frames", type=int, default=6, help="frames in a PNG strip (default 6)")
    p.add_argument("--gender", default="neutral", choices=("neutral", "female", "male"))
    p.add_argument("--mirrored", action="store_true", help="the recording is a mirror image (selfie preview)")
    p.set_defaults(func=run_preview)


def _sample(refs: list, limit: int, seed: int) -> list:
    import numpy as np

    if limit <= 0 or limit >= len(refs):
        return refs
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(refs), size=limit, replace=False))
    return [refs[i] for i in pick]


def check_source(spec: str, limit: int = 50, seed: int = 0, gender: str = "neutral", batch: int = 32,
                 on_clip=None) -> tuple[list[dict], list[tuple[str, str]]]:
    """Solve a sample of ``spec``; returns (per-clip figures, [(clip id, error)]).

    ``on_clip(row)`` is called after each solved clip (progress, per-clip printing).
    """
    from ..errors import SignAvatarError
    from ..landmarks.sources import iter_clips
    from .solve import solve_batch

    refs = _sample(iter_clips(spec), limit, seed)
    rows, failed = [], []
    pending: list = []

    def flush():
        if not pending:
            return
        try:
            results = solve_batch([s for _, s in pending], gender)
        except SignAvatarError:
            results = []
            for ref, s in pending:  # find which clip failed, solve the rest
                try:
                    results.append(solve_batch([s], gender)[0])
                except SignAvatarError as e:
                    results.append(e)
        for (ref, seq), res in zip(pending, results):
            if isinstance(res, Exception):
                failed.append((ref.clip_id, str(res)))
                continue
            row = {"source": spec, "clip_id": ref.clip_id, "gloss": ref.gloss}
            row.update({k: v for k, v in res.quality.items()})
            rows.append(row)
            if on_clip:
                on_clip(row)
        pending.clear()

    for ref in refs:
        try:
            seq = ref.load()
        except SignAvatarError as e:
            failed.append((ref.clip_id, str(e)))
            continue
        pending.append((ref, seq))
        if ref.kind == "video" or len(pending) >= max(1, batch):
            flush()
    flush()
    return rows, failed


def summary_table(per_source: dict[str, list[dict]], failures: dict[str, int]) -> str:
    """Markdown table: one row per source, means (and medians of the re-projection errors)."""
    import numpy as np

    head = ("| source | clips | frames | body mean / median | hand mean / median | face mean | "
            "frames past a limit | limit pressure | jerk raw -> smooth (m/s^3) | IK CPU ms/frame | failed |")
    lines = [head, "|" + "---|" * 11]
    for spec, rows in per_source.items():
        if not rows:
            lines.append(f"| {spec} | 0 | 0 | - | - | - | - | - | - | - | {failures.get(spec, 0)} |")
            continue

        def col(k):
            return np.array([r[k] for r in rows], dtype=float)

        frames = col("frames")
        w = frames / frames.sum()  # frame-weighted means for the per-frame figures

        def mm(k):
            v = col(k)
            ok = np.isfinite(v)
            return f"{np.mean(v[ok]):.3f} / {np.median(v[ok]):.3f}" if ok.any() else "-"

        face = col("reproj_face")
        lines.append(
            f"| {spec} | {len(rows)} | {int(frames.sum())} | {mm('reproj_body')} | {mm('reproj_hand')} | "
            f"{np.nanmean(face):.3f} | {100 * float((w * col('limit_violation_frac')).sum()):.2f} % | "
            f"{100 * float((w * col('limit_pressure_frac')).sum()):.1f} % | "
            f"{float((w * col('jerk_raw')).sum()):.0f} -> {float((w * col('jerk_smooth')).sum()):.0f} | "
            f"{float((w * col('ik_cpu_ms_per_frame')).sum()):.1f} | {failures.get(spec, 0)} |")
    return "\n".join(lines)


def run_check(args) -> int:
    import sys

    from ..atomic import write_csv

    per_source: dict[str, list[dict]] = {}
    failures: dict[str, int] = {}
    all_rows: list[dict] = []

    def show(row):
        if args.per_clip:
            print(f"  {row['clip_id']:40s} T={row['frames']:4d} body {row['reproj_body']:.3f} "
                  f"hand {row['reproj_hand']:.3f} face {row['reproj_face']:.3f} "
                  f"limit {row['limit_violation_frac']:.2f} jerk {row['jerk_raw']:.0f}->{row['jerk_smooth']:.0f}",
                  flush=True)

    for spec in args.sources:
        print(f"checking {spec} ...", file=sys.stderr, flush=True)
        rows, failed = check_source(spec, args.limit, args.seed, args.gender, args.batch, on_clip=show)
        per_source[spec] = rows
        failures[spec] = len(failed)
        all_rows += rows
        for clip_id, msg in failed[:5]:
            print(f"  failed {clip_id}: {msg}", file=sys.stderr)
        if len(failed) > 5:
            print(f"  ... and {len(failed) - 5} more failures", file=sys.stderr)
    print(summary_table(per_source, failures))
    print("\nRe-projection error: 2-D distance between the projected skeleton and the landmarks MediaPipe saw, "
          "in shoulder widths (body = shoulders, elbows, wrists; hand = 21 points per seen hand; face = nose, "
          "eyes, ears). Frames past a limit: any joint > 1 degree past its anatomical range in the output. "
          "Limit pressure: frames where the landmarks, read rigidly, ask > 5 degrees past a limit (clamped).")
    if args.csv and all_rows:
        keys = ["source", "clip_id", "gloss"] + [k for k in all_rows[0] if k not in ("source", "clip_id", "gloss")]
        write_csv(args.csv, keys, all_rows, extrasaction="ignore")
        print(f"wrote {args.csv}")
    return 0 if all_rows else 2


def _pick(refs: list, key: str):
    from ..errors import SignAvatarError

    if not key:
        return refs[0]
    for r in refs:
        sid = str((r.row or {}).get("sample_id", ""))
        if key in (r.clip_id, sid):
            return r
    for r in refs:
        if r.gloss.lower() == key.lower():
            return r
    raise SignAvatarError(f"no clip '{key}' in this source ({len(refs)} clips; give a clip id, sample id or gloss)")


MAX_PREVIEW_FRAMES = 64


def check_preview_args(args) -> None:
    """The output name, frame count and output folder, checked before any clip is read or solved."""
    import os
    from pathlib import Path

    from ..errors import SignAvatarError

    problems = []
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".gif"):
        problems.append(f"-o must end in .png (a strip of frames) or .gif (every frame), got {out.name[:80]!r}")
    if out.is_dir():
        problems.append(f"-o names the folder {str(out)[:80]!r}; give a file name such as {out / 'preview.png'}")
    folder = out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if folder.exists() and (not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK)):
        problems.append(f"cannot write into {folder} (not a writable folder); choose another -o")
    if not 1 <= args.frames <= MAX_PREVIEW_FRAMES:
        problems.append(f"--frames must be from 1 to {MAX_PREVIEW_FRAMES}, got {args.frames}")
    if problems:
        raise SignAvatarError("; ".join(problems))


def run_preview(args) -> int:
    from ..landmarks.sources import iter_clips
    from .preview import write_preview
    from .solve import solve

    check_preview_args(args)
    ref = _pick(iter_clips(args.source), args.clip)
    seq = ref.load(mirrored=args.mirrored, progress=ref.kind == "video")
    result = solve(seq, gender=args.gender)
    path = write_preview(seq, result, args.out, n_frames=args.frames)
    q = result.quality
    print(f"{ref.clip_id}: {q['frames']} frames, re-projection body {q['reproj_body']:.3f} hand "
          f"{q['reproj_hand']:.3f} face {q['reproj_face']:.3f} (shoulder widths), jerk {q['jerk_raw']:.0f} -> "
          f"{q['jerk_smooth']:.0f} m/s^3")
    print(f"wrote {path}")
    return 0
