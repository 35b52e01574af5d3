"""Real, reconstructed and generated clips of a dozen glosses side by side, as one contact sheet.

    .venv/bin/python tools/compare_signs.py --data datasets/asl
    .venv/bin/python tools/compare_signs.py --data datasets/asl --model runs/my_model \\
        --gloss hello --gloss drink --frames 6 --seed 0 --out docs/images/real_rec_gen.png

``--data`` is a built dataset (``python -m model_runtime data build ...``). For each gloss:

* **Real**: one clip of the gloss from the dataset's test split (per-gloss 8:2 split), picked
  with ``--seed``; clips recorded by a camera (webcam, phone, dictionary video) are preferred
  over avatar renders and over sources whose recording is undocumented;
* **Reconstructed**: that clip encoded and decoded by the model (posterior mean,
  :meth:`Generator.reconstruct`), at the clip's own frame rate and length;
* **Generated**: ``Generator.generate(gloss, seed=seed)``, the model's default settings
  (its default prior, temperature 1, its default length).

The three clips of every gloss are saved as motion files and rendered in one call of the
add-on's batch renderer (``python -m signavatar_blender render --motion ... --contact-sheet``:
neutral avatar, Workbench); each cell of the sheet is that clip's contact sheet laid out as
one strip of ``--frames`` frames spread evenly over the whole clip. Printed per gloss: each
clip's length and the median speed of its dominant wrist (forward kinematics on the neutral
skeleton, root orientation included, translation zero; the wrist held higher on average).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# A dozen signs of the evaluation subset (glosses recorded by >= 5 signers in the shipped model's dataset).
DEFAULT_GLOSSES = ("hello", "thank you", "please", "sorry", "yes", "no", "help", "drink", "eat", "water", "book",
                   "good")
# Signers of the built dataset whose clips are renders of an animated avatar, not camera footage (the dictvideo
# source's StudioGalt mocap renders, see its README); sources whose recording is not documented come next.
AVATAR_SIGNERS = frozenset({"dictvideo:signlink_sg_avatar"})
UNDOCUMENTED_SOURCES = frozenset({"aslapp"})
COLUMNS = ("Real (test clip)", "Reconstructed", "Generated")
MAX_FRAMES = 12
BG, INK, SOFT = (246, 247, 249), (34, 38, 46), (96, 102, 114)


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints the usage too)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


@dataclass(frozen=True)
class Row:
    """One gloss: the three clips (SignMotion) and where the real one came from."""

    gloss: str
    clip: str  # the real clip's id in the dataset
    signer: str  # and its signer (source:recorder)
    real: object
    rec: object
    gen: object
    numbers: tuple[str, str, str]  # length and dominant-wrist speed of real, rec, gen


# ---- choosing clips ------------------------------------------------------------------------------
def camera_rank(record: dict) -> int:
    """0 camera footage, 1 recording undocumented, 2 avatar render (lower is preferred)."""
    if record["signer"] in AVATAR_SIGNERS:
        return 2
    return 1 if record["source"] in UNDOCUMENTED_SOURCES else 0


def resolve_glosses(dataset_glosses, test_glosses, vocabulary, requested) -> list[tuple[str, str]]:
    """(dataset gloss, model gloss) per request, matched by normalised spelling; every problem in one error."""
    from model_runtime.errors import SignAvatarError
    from model_runtime.model.gloss_table import key_variants, match_key

    def index(names):
        out = {}
        for g in sorted(names):
            out.setdefault(match_key(g), g)
        return out

    data_keys, vocab_keys, test = index(dataset_glosses), index(vocabulary), set(test_glosses)
    found, problems, seen = [], [], set()
    for text in requested:
        keys = key_variants(text)
        d = next((data_keys[k] for k in keys if k in data_keys), None)
        m = next((vocab_keys[k] for k in keys if k in vocab_keys), None)
        if d is None:
            problems.append(f"'{text}' is not a gloss of the dataset")
        elif d not in test:
            problems.append(f"'{text}' has no clip in the dataset's test split")
        elif m is None:
            problems.append(f"'{text}' is not in the model's vocabulary")
        elif d in seen:
            problems.append(f"'{text}' is asked for twice")
        else:
            seen.add(d)
            found.append((d, m))
    if problems:
        raise SignAvatarError("; ".join(problems))
    return found


def pick_clip(records: list[dict], gloss: str, seed: int) -> int:
    """Index of one test clip of ``gloss``: the best camera rank, then seeded (independent of the gloss list)."""
    idx = [i for i, r in enumerate(records) if r["gloss"] == gloss and r["split"] == "test"]
    best = min(camera_rank(records[i]) for i in idx)
    idx = [i for i in idx if camera_rank(records[i]) == best]
    rng = np.random.default_rng([int(seed) % 2**32, zlib.crc32(gloss.encode())])
    return idx[int(rng.integers(len(idx)))]


# ---- motion numbers ------------------------------------------------------------------------------
def dominant_wrist_speed(poses: np.ndarray, fps: float) -> tuple[float, str]:
    """(median speed in m/s, 'R' or 'L') of the dominant wrist; neutral skeleton, trans zero.

    Dominant: the wrist held higher on average (Y-up, above the pelvis), i.e. the signing hand.
    Not the one that travels further: a resting hand the camera lost carries IK jitter in real
    clips (often a median 0.5 m/s) and would win on path length.
    """
    from model_runtime.sentence.kinematics import WRISTS, hand_points

    pts = hand_points(poses, np.zeros((len(poses), 3), np.float32), "neutral")[:, list(WRISTS)]  # (T, 2, 3) L, R
    side = int(np.argmax(pts[..., 1].mean(0)))
    if len(pts) < 2:
        return 0.0, "LR"[side]
    step = np.linalg.norm(np.diff(pts[:, side], axis=0), axis=-1)  # (T-1,) metres per frame
    return float(np.median(step) * fps), "LR"[side]


def describe(motion) -> str:
    speed, side = dominant_wrist_speed(motion.poses, motion.fps)
    return f"{motion.num_frames} fr / {motion.duration:.2f} s, {side} wrist {speed:.2f} m/s"


# ---- rendering -----------------------------------------------------------------------------------
def render_sheets(files: list[Path], frames: int, resolution: str, out: Path) -> dict[str, Path]:
    """One call of the add-on's batch renderer for all ``files``; their contact sheets by file stem."""
    from model_runtime.errors import SignAvatarError

    cmd = [sys.executable, "-m", "signavatar_blender", "render", "--contact-sheet", "--sheet-frames", str(frames),
           "--resolution", resolution, "--out", str(out)]
    for f in files:
        cmd += ["--motion", str(f)]
    print(f"rendering {len(files)} clips with the add-on's batch renderer ...", file=sys.stderr, flush=True)
    res = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sheets = {f.stem: out / f"{f.stem}_sheet.png" for f in files}
    missing = [s for s, p in sheets.items() if not p.is_file()]
    if res.returncode != 0 or missing:
        tail = " | ".join(line.strip() for line in res.stdout.strip().splitlines()[-3:])
        raise SignAvatarError(f"the renderer failed (exit {res.returncode}; no sheet for "
                              f"{', '.join(missing) or 'none'}): {tail}")
    return sheets


def sheet_to_strip(sheet, cells: int):
    """A renderer contact sheet (``cells`` equal tiles on the grid of ``render.sheet``) as one row of tiles."""
    from PIL import Image

    from signavatar_blender.render.sheet import grid_shape

    rows, cols = grid_shape(cells)
    if rows == 1:
        return sheet
    W, H = sheet.size
    for gap in range(2, W // cols):  # the renderer's gap is max(2, tile width // 80)
        w = (W - (cols + 1) * gap) / cols
        if w == int(w) and max(2, int(w) // 80) == gap:
            break
    else:
        raise ValueError(f"cannot find the tiles of a {W}x{H} sheet of {cells} frames")
    w, h = int(w), (H - (rows + 1) * gap) // rows
    strip = Image.new("RGB", (cells * w + (cells + 1) * gap, h + 2 * gap), sheet.getpixel((0, 0)))
    for k in range(cells):
        r, c = divmod(k, cols)
        tile = sheet.crop((gap + c * (w + gap), gap + r * (h + gap), gap + c * (w + gap) + w, gap + r * (h + gap) + h))
        strip.paste(tile, (gap + k * (w + gap), gap))
    return strip


def font(size: int, bold: bool = False):
    from PIL import ImageFont

    try:
        return ImageFont.truetype("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def compose(rows: list[Row], strips: list[list], strip_width: int, title: str):
    """One image: a header row, then per gloss a caption cell and the three strips with their numbers."""
    from PIL import Image, ImageDraw

    scaled = [[s.resize((strip_width, max(1, round(s.height * strip_width / s.width))), Image.LANCZOS)
               for s in row] for row in strips]
    pad, cap_w, line = 10, 190, 16
    head_h, note_h = 34, line + 6
    cell_h = max(s.height for row in scaled for s in row) + note_h
    W = pad + cap_w + 3 * (strip_width + pad)
    H = head_h + len(rows) * (cell_h + pad) + line + 2 * pad
    img = Image.new("RGB", (W, H), BG)
    d = ImageDraw.Draw(img)
    for c, name in enumerate(COLUMNS):
        d.text((pad + cap_w + c * (strip_width + pad) + 4, 8), name, fill=INK, font=font(18, bold=True))
    y = head_h
    for row, cells in zip(rows, scaled):
        d.text((pad, y + 8), row.gloss, fill=INK, font=font(18, bold=True))
        for k, part in enumerate((row.clip, *row.signer.split(":", 1))):
            d.text((pad, y + 36 + k * line), part, fill=SOFT, font=font(12))
        for c, (strip, note) in enumerate(zip(cells, row.numbers)):
            x = pad + cap_w + c * (strip_width + pad)
            img.paste(strip, (x, y))
            d.text((x + 4, y + strip.height + 3), note, fill=SOFT, font=font(12))
        y += cell_h + pad
    d.text((pad, y + 2), title, fill=SOFT, font=font(12))
    return img


def save_png(img, path: Path) -> None:
    """Write ``img`` to a temporary file beside ``path`` and rename it into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.png")
    try:
        img.save(tmp, optimize=True)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# ---- the command ---------------------------------------------------------------------------------
def parse(argv):
    p = Parser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="built dataset folder (python -m model_runtime data build ...)")
    p.add_argument("--model", help="model folder (default: the shipped model)")
    p.add_argument("--gloss", action="append", default=[],
                   help=f"a gloss to show (repeatable; default: {', '.join(DEFAULT_GLOSSES)})")
    p.add_argument("--frames", type=int, default=6, help=f"frames per clip strip, 2 to {MAX_FRAMES} (default 6)")
    p.add_argument("--seed", type=int, default=0, help="picks the real clip and the generated sample (default 0)")
    p.add_argument("--resolution", default="320x240", metavar="WxH", help="render size (default 320x240)")
    p.add_argument("--strip-width", type=int, default=900, help="width of one clip's strip in the sheet, px")
    p.add_argument("--out", default=str(REPO / "docs" / "images" / "real_rec_gen.png"), help="PNG to write")
    return p.parse_args(argv)


def check_args(a) -> Path:
    """Validate everything that needs no data; returns the output path."""
    from model_runtime.errors import SignAvatarError
    from signavatar_blender.render.settings import RenderSettings, parse_resolution

    problems = []
    if not 2 <= a.frames <= MAX_FRAMES:
        problems.append(f"--frames must be from 2 to {MAX_FRAMES}, got {a.frames}")
    if not 300 <= a.strip_width <= 4000:
        problems.append(f"--strip-width must be from 300 to 4000 px, got {a.strip_width}")
    if not 0 <= a.seed < 2**32:
        problems.append(f"--seed must be a whole number from 0 to {2**32 - 1}, got {a.seed}")
    try:
        w, h = parse_resolution(a.resolution)
        problems += RenderSettings(width=w, height=h).problems()
    except ValueError as e:
        problems.append(f"--resolution: {e}")
    out = Path(a.out)
    if out.suffix.lower() != ".png":
        problems.append(f"--out must be a .png file, got '{out.name}'")
    elif out.is_dir():
        problems.append(f"--out {out} is a folder; give a .png file")
    elif not out.parent.is_dir():
        problems.append(f"--out: the folder {out.parent} does not exist")
    if not Path(a.data).is_dir():
        problems.append(f"--data {a.data}: no such folder (build one with 'python -m model_runtime data build ...')")
    if problems:
        raise SignAvatarError("; ".join(problems))
    return out


def build_rows(a) -> list[Row]:
    from model_runtime.data.dataset import SignDataset
    from model_runtime.generation.generator import Generator
    from model_runtime.motion import SignMotion

    ds = SignDataset.open(a.data)
    requested = a.gloss or list(DEFAULT_GLOSSES)
    gen = Generator.load(a.model)
    test = {r["gloss"] for r in ds.records if r["split"] == "test"}
    pairs = resolve_glosses(ds.glosses(), test, gen.vocabulary, requested)
    rows = []
    for data_gloss, model_gloss in pairs:
        i = pick_clip(ds.records, data_gloss, a.seed)
        r = ds.records[i]
        poses = np.array(ds.clip_poses(i))
        real = SignMotion(poses=poses, trans=np.zeros((len(poses), 3), np.float32), fps=r["fps"], gloss=data_gloss,
                          source=f"{r['source']}:{r['clip_id']}")
        rec = gen.reconstruct(real, gloss=model_gloss)
        out = gen.generate(model_gloss, seed=a.seed)[0]
        rows.append(Row(gloss=data_gloss, clip=r["clip_id"], signer=r["signer"], real=real, rec=rec, gen=out,
                        numbers=tuple(describe(m) for m in (real, rec, out))))
    return rows


def main(argv=None) -> int:
    a = parse(sys.argv[1:] if argv is None else argv)
    from model_runtime.errors import SignAvatarError

    try:
        out = check_args(a)
        rows = build_rows(a)
        from PIL import Image

        from signavatar_blender.render.sheet import sheet_frames

        model = Path(a.model).name if a.model else "default (shipped)"
        with tempfile.TemporaryDirectory(prefix="signavatar-compare-") as tmp:
            tmp = Path(tmp)
            files = []
            for k, row in enumerate(rows):
                for tag, motion in zip(("real", "rec", "gen"), (row.real, row.rec, row.gen)):
                    files.append(motion.save(tmp / "clips" / f"r{k:02d}_{tag}.npz"))
            sheets = render_sheets(files, a.frames, a.resolution, tmp / "renders")
            strips = []
            for k, row in enumerate(rows):
                cells = []
                for tag, motion in zip(("real", "rec", "gen"), (row.real, row.rec, row.gen)):
                    with Image.open(sheets[f"r{k:02d}_{tag}"]) as im:
                        n = len(sheet_frames(1, motion.num_frames, a.frames))
                        cells.append(sheet_to_strip(im.convert("RGB"), n))
                strips.append(cells)
        title = (f"model {model}; real clips from the test split of {Path(a.data).name}, seed {a.seed}; "
                 f"{a.frames} frames spread evenly over each clip; neutral avatar, Workbench; "
                 "numbers: length, median speed of the dominant wrist")
        save_png(compose(rows, strips, a.strip_width, title), out)
    except SignAvatarError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({out.stat().st_size / 1000:.0f} kB)")
    print("per clip: frames / seconds, the dominant wrist (R/L) and its median speed")
    for row in rows:
        print(f"{row.gloss} (real clip {row.clip}, {row.signer})")
        for name, note in zip(("real", "reconstructed", "generated"), row.numbers):
            print(f"  {name:14s} {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
