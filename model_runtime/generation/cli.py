"""``generate``: a sign (gloss, word or phrase, or an image) -> SMPL-X motion ``.npz``.

    python -m model_runtime generate drink -o drink.npz
    python -m model_runtime generate "thank you" -n 3 --seed 7 -o out/thanks.npz   # thanks_0..2.npz
    python -m model_runtime generate --image photo.jpg -o out/photo.npz             # a printed word or an object
    python -m model_runtime generate --list                                         # the vocabulary
"""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("generate", help="generate a sign as an SMPL-X motion file (.npz)",
                       description="Generate a sign with a trained model (default: the shipped one) and write "
                                   "AMASS-style SMPL-X .npz files.")
    p.add_argument("text", nargs="?", help="gloss, word or short phrase (matched to the model's vocabulary)")
    p.add_argument("-o", "--out", default=None, help="output .npz (default: <gloss>.npz); with -n > 1, _0, _1 ... "
                                                     "are added before the suffix")
    p.add_argument("--checkpoint", default=None, help="model folder (default: the shipped model)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-n", "--num", type=int, default=1, help="number of variations")
    p.add_argument("--temperature", type=float, default=1.0,
                   help="latent noise scale: 1 samples the model's prior; lower gives clearer, less varied signs")
    p.add_argument("--prior", choices=("gloss", "normal"), default=None,
                   help="latent prior: 'gloss' (near the sign's training clips; the default for a model with a "
                        "latent prior) or 'normal' (z ~ N(0, I), the paper's sampling)")
    p.add_argument("--frames", type=int, default=None, help="length in frames at the model's fps "
                                                             "(default: the gloss's typical length)")
    p.add_argument("--fps", type=float, default=None, help="resample the output to this frame rate")
    p.add_argument("--gender", choices=("neutral", "female", "male"), default="neutral",
                   help="body recorded in the file")
    p.add_argument("--image", default=None,
                   help="generate from an image instead of text: printed words are read and objects recognised "
                        "offline (any model); CLIP models with --clip-weights match the image by CLIP instead")
    p.add_argument("--image-mode", choices=("nearest_gloss", "embedding"), default="nearest_gloss",
                   help="nearest_gloss: the known sign the image shows; embedding: condition on the image's CLIP "
                        "embedding (CLIP models only)")
    p.add_argument("--clip-weights", default=None, help="open_clip weights file for CLIP-conditioned models")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or auto")
    p.add_argument("--list", action="store_true", help="print the model's vocabulary and exit")
    p.set_defaults(func=run)


MAX_VARIATIONS = 100


def _outputs(out, name: str, n: int) -> list[Path]:
    """Output paths; the default name comes from the gloss (a model's string), so it is made a safe stem."""
    from ..safe_paths import safe_stem

    base = Path(out) if out else Path(f"{safe_stem(name, default='sign', lower=False)}.npz")
    if base.suffix != ".npz":
        base = base.with_suffix(".npz") if not base.suffix else base
    if n == 1:
        return [base]
    return [base.with_name(f"{base.stem}_{k}{base.suffix}") for k in range(n)]


def _print_image_match(path, m) -> None:
    """What an image was read as (offline reader: its evidence; CLIP: the similarity) and its alternatives."""
    evidence = getattr(m, "evidence", ())
    how = m.summary if evidence else f"CLIP similarity {m.score:.2f} \u2192 {m.gloss}"
    print(f"image {path}: {how} (score {m.score:.2f})")
    for e in evidence[1:]:
        print(f"  also seen: {e.describe()}")
    for note in getattr(m, "notes", ()):
        print(f"  note: {note}")
    if m.suggestions:
        print(f"  alternatives: {', '.join(m.suggestions)}")


def check_args(args) -> None:
    """Every argument a user can get wrong, checked before the model loads (one message naming them all)."""
    import math
    import os

    from ..errors import SignAvatarError
    from ..limits import check_seed, check_text, shown
    from ..motion import MAX_FPS

    problems = []
    for check in (lambda: check_seed(args.seed),
                  lambda: args.text is None or check_text(args.text)):
        try:
            check()
        except SignAvatarError as e:
            problems.append(str(e))
    if not 1 <= args.num <= MAX_VARIATIONS:
        problems.append(f"-n must be from 1 to {MAX_VARIATIONS}, got {args.num}")
    if not (math.isfinite(args.temperature) and 0 <= args.temperature <= 2):
        problems.append(f"--temperature must be from 0 to 2, got {args.temperature:g}")
    if args.frames is not None and args.frames < 1:
        problems.append(f"--frames must be at least 1, got {args.frames}")
    if args.fps is not None and not (math.isfinite(args.fps) and 0 < args.fps <= MAX_FPS):
        problems.append(f"--fps must be a frame rate in (0, {MAX_FPS:g}], got {args.fps:g}")
    if args.out:
        out = Path(args.out)
        if out.is_dir():
            problems.append(f"-o names the folder {shown(out)}; give a file name ending in .npz, "
                            f"e.g. {out / 'sign.npz'}")
        elif out.suffix not in ("", ".npz"):
            problems.append(f"-o must end in .npz (motion files are .npz), got {shown(out.name)}")
        folder = out.parent if not out.is_dir() else out
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent  # the first existing folder is where new folders would be made
        if folder.exists() and (not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK)):
            problems.append(f"cannot write into {folder} (not a writable folder); choose another -o")
    if args.clip_weights:
        from ..semantic.clip import check_weights_file

        w = Path(args.clip_weights)
        if not w.is_file():
            problems.append(f"--clip-weights file not found: {shown(w)}")
        else:
            try:
                check_weights_file(w)
            except SignAvatarError as e:
                problems.append(str(e))
    if args.image is not None:
        from ..imageio import check_image

        if args.image_mode == "embedding" and args.prior == "gloss":
            problems.append("--prior gloss needs a sign; --image-mode embedding samples z ~ N(0, I) "
                            "(drop --prior or use --image-mode nearest_gloss)")
        if args.text:
            problems.append(f"give the text to sign or --image, not both (got {shown(args.text, 30)} and --image)")
        try:
            check_image(args.image)  # the header only: a missing, foreign or oversized file is named here
        except SignAvatarError as e:
            problems.append(f"--image: {e}")
    if problems:
        raise SignAvatarError("; ".join(problems))


def run(args) -> int:
    from dataclasses import replace

    from ..errors import SignAvatarError
    from ..training.loop import resolve_device
    from .generator import Generator

    check_args(args)
    device = resolve_device(args.device)
    gen = Generator.load(args.checkpoint, device=device, clip_weights=args.clip_weights)
    if args.list:
        for g in gen.vocabulary:
            info = gen.info(g)
            print(f"{g}\t{info['samples']} clips\t{info['frames']} frames")
        return 0
    if args.image and args.image_mode == "nearest_gloss":
        m = gen.match_image(args.image)
        _print_image_match(args.image, m)
        motions = [replace(x, source=f"{x.source}:image={Path(args.image).name}:score={m.score:.3f}")
                   for x in gen.generate(m.gloss, seed=args.seed, n=args.num, frames=args.frames,
                                         temperature=args.temperature, prior=args.prior)]
    elif args.image:
        motions = gen.generate_from_image(args.image, seed=args.seed, n=args.num, frames=args.frames,
                                          mode=args.image_mode, temperature=args.temperature, prior=args.prior)
        print(f"image {args.image} -> its own embedding")
    else:
        if not args.text:
            raise SignAvatarError("say what to sign: 'python -m model_runtime generate drink -o drink.npz' "
                                  "(or --image FILE, or --list for the vocabulary)")
        m = gen.match(args.text)
        how = "exact" if m.exact else f"similarity {m.score:.2f}"
        print(f"'{args.text}' -> {m.gloss} ({how})")
        motions = gen.generate(m.gloss, seed=args.seed, n=args.num, frames=args.frames,
                               temperature=args.temperature, prior=args.prior)
    for path, motion in zip(_outputs(args.out, motions[0].gloss.replace(":", "_"), len(motions)), motions):
        motion = replace(motion, gender=args.gender)
        if args.fps is not None:
            motion = motion.resample(args.fps)
        motion.save(path)
        print(f"wrote {path} ({motion.num_frames} frames at {motion.fps:g} fps)")
    return 0
