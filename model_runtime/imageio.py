"""Bounded image decoding: the one function every image input goes through (``--image``, drops, CLIP, the reader).

:func:`load_image` reads the header first (:func:`check_image`) and refuses images above
:data:`~.limits.MAX_IMAGE_PIXELS` before anything is decoded. A larger JPEG is still read:
libjpeg's DCT scaling (Pillow's ``draft``, 1/2, 1/4 or 1/8 a side) decodes it already reduced,
and it is refused only when even that would exceed the pixel limit (Pillow's own bomb guard,
about 179 megapixels, is reported the same way). Every other format is decoded whole and
then reduced; the result is at most ``max_side`` (:data:`~.limits.IMAGE_DECODE_SIDE`) pixels
on its longer side, aspect kept. Peak memory is bounded by the pixel limit.

Handled: EXIF orientation, palette / grey / alpha images (alpha composited on white, so dark
text on a transparent background stays readable), CMYK JPEGs, 16-bit PNGs (scaled to 8 bits,
not clipped), animated GIF / WebP / APNG (the first frame, with a note). Refused with a
:class:`SignAvatarError` naming the problem: a missing or empty file, a file that is not an
image, a truncated or damaged image, an image too large to decode safely.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import SignAvatarError
from .limits import IMAGE_DECODE_SIDE, MAX_IMAGE_PIXELS, shown

FORMATS = "PNG, JPEG, WebP, BMP, TIFF or GIF"
JPEG_MAX_REDUCTION = 8  # libjpeg decodes at 1/8 a side at most


@dataclass(frozen=True)
class LoadedImage:
    """``rgb``: (H, W, 3) uint8, RGB, upright; ``size``: the file's (width, height); ``notes``: what was done."""

    rgb: np.ndarray
    size: tuple[int, int]
    format: str
    notes: tuple[str, ...] = ()

    def pil(self):
        """The pixels as a ``PIL.Image`` (mode RGB)."""
        from PIL import Image

        return Image.fromarray(self.rgb)


def _reduced_size(w: int, h: int, max_side: int) -> tuple[int, int]:
    s = min(1.0, max_side / max(w, h))
    return max(1, round(w * s)), max(1, round(h * s))


def _too_large(name: str, w: int, h: int, fmt: str, max_pixels: int) -> SignAvatarError:
    hint = "scale it down first" if fmt == "JPEG" else "scale it down or save it as JPEG"
    return SignAvatarError(f"{name} is {w}x{h} ({w * h / 1e6:.0f} megapixels), too large to decode safely: at most "
                           f"{max_pixels / 1e6:g} megapixels are decoded ({fmt}); {hint}")


@contextmanager
def _opened(path: Path, max_pixels: int):
    """``Image.open`` (header only) with every failure as a :class:`SignAvatarError`."""
    from PIL import Image, UnidentifiedImageError

    name = shown(path.name)
    if not path.is_file():
        raise SignAvatarError(f"image not found: {shown(path)}")
    if path.stat().st_size == 0:
        raise SignAvatarError(f"{name} is empty (0 bytes): not an image")
    with warnings.catch_warnings():  # held while the caller decodes: the decode is bounded here
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(path)
        except UnidentifiedImageError:
            raise SignAvatarError(f"{name} is not an image this reader knows ({FORMATS})") from None
        except Image.DecompressionBombError:
            raise SignAvatarError(f"{name} is far too large to decode safely: at most {max_pixels / 1e6:g} "
                                  "megapixels are decoded; scale it down first") from None
        except (OSError, ValueError, SyntaxError) as e:
            raise SignAvatarError(f"cannot read {name}: {e}") from None
        with im:
            yield im


def _check_header(im, name: str, max_pixels: int) -> tuple[int, int, str]:
    fmt = im.format or "image"
    w, h = im.size
    if w < 1 or h < 1:
        raise SignAvatarError(f"{name} has no pixels ({w}x{h})")
    limit = max_pixels * JPEG_MAX_REDUCTION**2 if fmt == "JPEG" else max_pixels
    if w * h > limit:
        raise _too_large(name, w, h, fmt, max_pixels)
    return w, h, fmt


def check_image(path, max_pixels: int = MAX_IMAGE_PIXELS) -> tuple[int, int, str]:
    """The file's (width, height, format) from its header, or :class:`SignAvatarError` (nothing is decoded)."""
    path = Path(path)
    with _opened(path, max_pixels) as im:
        return _check_header(im, shown(path.name), max_pixels)


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


def load_image(path, max_side: int = IMAGE_DECODE_SIDE, max_pixels: int = MAX_IMAGE_PIXELS) -> LoadedImage:
    """Decode ``path`` to an upright RGB array of at most ``max_side`` pixels on its longer side."""
    from PIL import Image, ImageOps

    path = Path(path)
    name = shown(path.name)
    notes: list[str] = []
    with _opened(path, max_pixels) as im:
        w, h, fmt = _check_header(im, name, max_pixels)
        frames = int(getattr(im, "n_frames", 1) or 1)
        if frames > 1:
            im.seek(0)
            notes.append(f"animated {fmt} ({frames} frames): the first frame was read")
        if fmt == "JPEG":
            im.draft(None, _reduced_size(w, h, max_side))  # decode at 1/2, 1/4 or 1/8 scale when larger
            if im.size[0] * im.size[1] > max_pixels:
                raise _too_large(name, w, h, fmt, max_pixels)
            if w * h > max_pixels:
                notes.append(f"{w}x{h} JPEG decoded at {im.size[0]}x{im.size[1]}")
        try:
            im.load()
            im = ImageOps.exif_transpose(im)
            im = _to_rgb(im, notes)
            if max(im.size) > max_side:
                im = im.resize(_reduced_size(*im.size, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
            rgb = np.asarray(im, dtype=np.uint8).copy()
        except (OSError, ValueError, SyntaxError, EOFError) as e:
            raise SignAvatarError(f"{name} is truncated or damaged ({e}): cannot decode it") from None
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise SignAvatarError(f"{name}: unexpected decoded shape {rgb.shape}")
    return LoadedImage(rgb=rgb, size=(w, h), format=fmt, notes=tuple(notes))
