"""The ``signavatar`` command line: ``render`` glosses, sentences, images or motion files in a batch;
``import-motion`` turns an animation on a humanoid rig into a motion file (:mod:`..rig.importer`).

Two doors, one code path:

* Blender: ``blender -b --command signavatar render hello thank_you --out renders``
  (registered by :func:`register_cli` from the add-on's ``register()``);
* the bpy module: ``python -m signavatar_blender render hello --out renders``.

Only the standard library is imported here; bpy and the model load when a batch starts.
Exit codes: 0 everything rendered or skipped, 1 some jobs failed (see the summary),
2 unusable arguments or job file (nothing rendered), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys

from .interrupt import EXIT_INTERRUPTED
from .records import EXIT_OK, EXIT_USAGE
from .settings import AA_MODES, AVATARS, ENGINES, RenderSettings, parse_colour, parse_resolution

CLI_COMMAND = "signavatar"
_cli_handle = None


def _typed(parse):
    def convert(text):
        try:
            return parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    convert.__name__ = parse.__name__
    return convert


def add_render_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "render", help="render glosses, sentences or motion files to MP4 (and PNG frames, contact sheets)",
        description="Render sign clips with the built-in avatar: one MP4 (H.264) per gloss, plus the motion .npz, "
                    "optional PNG frames and contact sheet, and a summary CSV/JSON. Resumable; one failing gloss "
                    "never stops the batch.")
    src = p.add_argument_group("what to render")
    src.add_argument("glosses", nargs="*", metavar="GLOSS", help="glosses or words (the model matches free text)")
    src.add_argument("--input", "-i", action="append", default=[], metavar="FILE",
                     help="job file: .txt (one gloss per line, # comments) or .csv with a header "
                          "'gloss', 'sentence' or 'image' (a path relative to the CSV), optional 'seed' and 'name'; "
                          "or a folder of images, one clip each (repeatable)")
    src.add_argument("--sentence", "-s", action="append", default=[], metavar="TEXT",
                     help="words signed as one clip with transitions; unknown words are fingerspelled (repeatable)")
    src.add_argument("--image", action="append", default=[], metavar="FILE|DIR",
                     help="sign what an image shows (a printed word, or a photo of one object); a folder renders "
                          "one clip per image in it (repeatable)")
    src.add_argument("--motion", action="append", default=[], metavar="NPZ",
                     help="render an existing SMPL-X motion file instead of generating (repeatable)")
    src.add_argument("--model", metavar="DIR", help="model folder (default: the shipped model)")
    src.add_argument("--library", metavar="DIR",
                     help="sign from a folder of recorded .npz clips (gloss = stored gloss or file name) "
                          "instead of the model; several clips of a gloss are variations picked by --seed")
    src.add_argument("--seed", type=int, default=0, help="seed of the generated variation (default 0)")
    src.add_argument("--temperature", type=float, default=1.0,
                     help="latent scale of generated signs: 1 samples the model's prior (default), lower gives "
                          "clearer, less varied signs")
    src.add_argument("--hold", type=float, default=0.0, help="sentences: seconds each word's last pose is held")
    src.add_argument("--speed", type=float, default=1.0, help="sentences: playback speed (2 = twice as fast)")

    look = p.add_argument_group("look")
    look.add_argument("--avatar", choices=AVATARS, default="neutral", help="built-in body (default neutral)")
    look.add_argument("--engine", choices=ENGINES, default="workbench",
                      help="workbench (fast, default), eevee or cycles")
    look.add_argument("--resolution", type=_typed(parse_resolution), default=(640, 480), metavar="WxH",
                      help="image size (default 640x480)")
    look.add_argument("--fps", type=float, help="frame rate of the video (default: the motion's)")
    look.add_argument("--samples", type=int, default=32, help="eevee/cycles samples per pixel (default 32)")
    look.add_argument("--aa", choices=AA_MODES, default="auto",
                      help="workbench anti-aliasing: auto (default: fxaa on a GPU, off on a software renderer, "
                           "where fxaa costs 2-3x the rest of a frame), off, fxaa, or that many samples")
    look.add_argument("--mesh-detail", type=float, default=0.25, metavar="FRACTION",
                      help="fraction of the avatar's faces kept for rendering (default 0.25; 1 = full mesh)")
    look.add_argument("--background", type=_typed(parse_colour), default=None, metavar="COLOUR",
                      help="background colour, #rrggbb or r,g,b (default light neutral grey)")
    look.add_argument("--label", action="store_true", help="burn the gloss and frame number into the video")

    out = p.add_argument_group("output")
    out.add_argument("--out", "-o", default="renders", metavar="DIR", help="output folder (default ./renders)")
    out.add_argument("--png-frames", action="store_true", help="also write every frame as PNG")
    out.add_argument("--contact-sheet", action="store_true", help="also write a contact sheet PNG per clip")
    out.add_argument("--sheet-frames", type=int, default=8, help="frames on a contact sheet (default 8)")
    out.add_argument("--shard", metavar="K/N", help="render only shard K of N (1-based, every N-th job)")
    out.add_argument("--force", action="store_true", help="re-render clips that are already finished")
    out.add_argument("--verbose", "-v", action="store_true", help="keep Blender's per-frame render log")
    p.set_defaults(func=run_render)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="signavatar", description="SignAvatar batch tools for Blender.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_render_parser(sub)
    from ..rig import importer

    importer.add_parser(sub)
    return parser


def settings_from_args(args) -> RenderSettings:
    from pathlib import Path

    from .worklist import parse_shard

    kw = {}
    if args.background is not None:
        kw["background"] = tuple(args.background)
    return RenderSettings(
        out_dir=Path(args.out), avatar=args.avatar, engine=args.engine, width=args.resolution[0],
        height=args.resolution[1], fps=args.fps, samples=args.samples, aa=args.aa,
        mesh_detail=args.mesh_detail, png_frames=args.png_frames,
        contact_sheet=args.contact_sheet, sheet_frames=args.sheet_frames, label=args.label, model=args.model,
        library=args.library,
        seed=args.seed, temperature=args.temperature, hold=args.hold, speed=args.speed, shard=parse_shard(args.shard), force=args.force,
        verbose=args.verbose, motion_files=tuple(args.motion), **kw)


def run_render(args) -> int:
    from .. import runtime_bridge as bridge

    try:
        settings = settings_from_args(args)
        problems = settings.problems()
        if problems:
            raise bridge.error()("; ".join(problems))
        from .worklist import make_jobs

        jobs = make_jobs(args.glosses, args.sentence, args.input, settings.seed, settings.motion_files,
                         images=tuple(args.image))
    except bridge.error() as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    from .batch import render_batch

    return render_batch(jobs, settings)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _blender_command(argv) -> int:
    from ..runtime_bridge import deps

    deps.activate()  # inside Blender, torch and the rest live in the add-on's dependency folder
    try:
        return main(argv)
    except SystemExit as e:  # argparse exits on --help and on bad arguments
        return e.code if isinstance(e.code, int) else EXIT_USAGE


def register_cli() -> None:
    """Register ``blender --command signavatar ...`` (call from the add-on's ``register()``)."""
    global _cli_handle
    import bpy

    if _cli_handle is None and hasattr(bpy.utils, "register_cli_command"):  # Blender >= 4.2
        _cli_handle = bpy.utils.register_cli_command(CLI_COMMAND, _blender_command)


def unregister_cli() -> None:
    """Undo :func:`register_cli` (call from the add-on's ``unregister()``)."""
    global _cli_handle
    import bpy

    if _cli_handle is not None:
        bpy.utils.unregister_cli_command(_cli_handle)
        _cli_handle = None
