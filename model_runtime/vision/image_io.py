"""Read a user's image file into a bounded RGB array, or say clearly why not.

:func:`load_image_bounded` is the one decode step of :mod:`model_runtime.vision`. Memory is
bounded: a JPEG is decoded already downscaled (libjpeg's DCT scaling through Pillow's
``draft``, up to 1/8 per side), any other format only up to :data:`MAX_DECODE_PIXELS` and
is then reduced; the result is at most ``max_side`` pixels on its longer side.

Handled: EXIF orientation, palette / grey / alpha images (alpha composited on white, so dark
text on a transparent background stays readable), CMYK JPEGs, 16-bit PNGs (scaled to 8 bits,
not clipped), animated GIF / WebP / APNG (the first frame, with a note). Refused with a
:class:`SignAvatarError` naming the problem: a missing or empty file, a file that is not an
image, a truncated or damaged image, an image too large to decode safely.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SignAvatarError

MAX_SIDE = 1280                  # longer side of the returned image (OCR and classifier need far less)
MAX_DECODE_PIXELS = 60_000_000   # non-JPEG images are decoded whole: refuse beyond this (about 240 MB as RGBA)
FORMATS = "PNG, JPEG, WebP, BMP, TIFF or GIF"


@dataclass(frozen=True)
class LoadedImage:
    """``rgb``: (H, W, 3) uint8, RGB, upright; ``size``: the file's (width, height); ``notes``: what was done."""

    rgb: np.ndarray
    size: tuple[int, int]
    format: str
    notes: tuple[str, ...] = ()


def _reduced_size(w: int, h: int, max_side: int) -> tuple[int, int]:
    s = min(1.0, max_side / max(w, h))
    return max(1, round(w * s)), max(1, round(h * s))


def _to_rgb(im, notes: list[str]):
    """A Pillow image of any mode -> mode RGB (8 bits per channel)."""
    from PIL import Image

    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        a = np.asarray(im)
        if mode.startswith("I;16") or (a.size and int(a.max()) > 255):
            a = a.astype(np.float64) / 257.0  # 16-bit range -> 8 bits
            notes.append("16-bit image scaled to 8 bits")
        return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8)).convert("RGB")
    if mode == "F":
        a = np.asarray(im, dtype=np.float64)
        lo, hi = (float(np.nanmin(a)), float(np.nanmax(a))) if a.size else (0.0, 1.0)
        a = (a - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(a)
        return Image.fromarray(np.nan_to_num(a).astype(np.uint8)).convert("RGB")
    if mode == "CMYK":
        notes.append("CMYK converted to RGB")
        return im.convert("RGB")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return im if mode == "RGB" else im.convert("RGB")


def load_image_bounded(path, max_side: int = MAX_SIDE) -> LoadedImage:
    """Decode ``path`` to an upright RGB array of at most ``max_side`` pixels on its longer side."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise SignAvatarError(f"image not found: {path}")
    if path.stat().st_size == 0:
        raise SignAvatarError(f"{path.name} is empty (0 bytes): not an image")
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we bound the decode ourselves
        try:
            im = Image.open(path)
        except UnidentifiedImageError:
            raise SignAvatarError(f"{path.name} is not an image this reader knows ({FORMATS})") from None
        except Image.DecompressionBombError as e:
            raise SignAvatarError(f"{path.name} is too large to decode safely ({e}); scale it down first") from None
        except OSError as e:
            raise SignAvatarError(f"cannot read {path.name}: {e}") from None
        with im:
            fmt = im.format or path.suffix.lstrip(".").upper()
            w, h = im.size
            if w < 1 or h < 1:
                raise SignAvatarError(f"{path.name} has no pixels ({w}x{h})")
            frames = int(getattr(im, "n_frames", 1) or 1)
            if frames > 1:
                im.seek(0)
                notes.append(f"animated {fmt} ({frames} frames): the first frame was read")
            if fmt == "JPEG":
                im.draft(None, _reduced_size(w, h, max_side))  # decode at 1/2, 1/4 or 1/8 scale when larger
                if w * h > MAX_DECODE_PIXELS:
                    notes.append(f"{w}x{h} JPEG decoded at {im.size[0]}x{im.size[1]}")
            elif w * h > MAX_DECODE_PIXELS:
                raise SignAvatarError(f"{path.name} is {w}x{h} ({w * h / 1e6:.0f} megapixels): {fmt} images above "
                                      f"{MAX_DECODE_PIXELS / 1e6:.0f} megapixels are not decoded (memory); scale it "
                                      "down or save it as JPEG")
            try:
                im.load()
                im = ImageOps.exif_transpose(im)
                im = _to_rgb(im, notes)
                if max(im.size) > max_side:
                    im = im.resize(_reduced_size(*im.size, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
                rgb = np.asarray(im, dtype=np.uint8).copy()
            except (OSError, ValueError, SyntaxError, EOFError) as e:
                raise SignAvatarError(f"{path.name} is truncated or damaged ({e}): cannot decode it") from None
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise SignAvatarError(f"{path.name}: unexpected decoded shape {rgb.shape}")
    return LoadedImage(rgb=rgb, size=(w, h), format=fmt, notes=tuple(notes))
