"""``data motion``: one video (or landmark file) -> an SMPL-X motion file, as the Blender video operator keys it.

``python -m model_runtime data motion VIDEO -o sign.npz`` reads the landmarks, follows the most central
person when several are in view (:mod:`..landmarks.people`), trims the stretches without the signer
at both ends, drops implausible detections and bridges gaps (:mod:`..landmarks.signer_track`), solves
the IK and writes the :class:`..motion.SignMotion` atomically. It prints the seconds written and what
was trimmed or bridged (stdlib-only imports at top level).
"""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("motion", help="solve one video into an SMPL-X motion file (.npz), lost signer handled",
                       description="Video -> landmarks -> (signer lost: ends trimmed, gaps bridged, implausible "
                                   "bodies dropped) -> inverse kinematics -> .npz motion, as the Blender video "
                                   "operator keys it.")
    p.add_argument("source", metavar="VIDEO", help="a video, or one .parquet / .json landmark file")
    p.add_argument("-o", "--out", required=True, help="motion file to write (.npz)")
    p.add_argument("--gloss", default="", help="gloss stored in the motion file (default: the source's)")
    p.add_argument("--gender", default="neutral", choices=("neutral", "female", "male"))
    p.add_argument("--mirrored", action="store_true", help="the recording is a mirror image (selfie preview)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads for the IK (default 1: its small problems run faster on one; 0 = torch's)")
    p.add_argument("--no-trim", dest="trim", action="store_false",
                   help="keep the frames without the signer at both ends (they are bridged like inner gaps)")
    p.set_defaults(func=run_motion)


def solve_video(spec: str, *, gender: str = "neutral", mirrored: bool = False, trim: bool = True,
                progress: bool = False, threads: int = 1):
    """(motion, notes): the IK motion of ``spec`` after :func:`..landmarks.signer_track.clean_signer`, and the
    sentences saying whom it followed and what was trimmed or bridged."""
    from ..errors import SignAvatarError
    from ..landmarks.signer_track import clean_signer
    from ..landmarks.sources import iter_clips
    from .config import IKConfig
    from .solve import solve

    refs = iter_clips(spec)
    if len(refs) != 1:
        raise SignAvatarError(f"{spec}: holds {len(refs)} clips; give one video or landmark file")
    seq = refs[0].load(mirrored=mirrored, progress=progress)
    seq, track = clean_signer(seq, trim=trim)
    notes = [n for n in (seq.meta.get("people_note", ""),) if n] + track.notes()
    return solve(seq, gender=gender, config=IKConfig(threads=max(0, threads))).motion, notes


def run_motion(args) -> int:
    from dataclasses import replace
    from pathlib import Path

    from ..errors import SignAvatarError

    out = Path(args.out)
    if out.suffix.lower() != ".npz" or out.is_dir():
        raise SignAvatarError(f"-o must name a .npz file, got {str(out)[:80]!r}")
    motion, notes = solve_video(args.source, gender=args.gender, mirrored=args.mirrored, trim=args.trim,
                                progress=True, threads=args.threads)
    if args.gloss:
        motion = replace(motion, gloss=args.gloss)
    motion.save(out)  # atomic: a temporary renamed into place
    print(f"{args.source}: {motion.num_frames / motion.fps:.1f} s ({motion.num_frames} frames at "
          f"{motion.fps:g} fps) written to {out}")
    for n in notes:
        print(f"  {n}")
    return 0
