"""Bounded image decoding: one function every image input goes through (``--image``, drops, tests).

:func:`load_image` reads only the header first and refuses images above
:data:`~.limits.MAX_IMAGE_PIXELS`; JPEGs are decoded directly at a reduced scale (libjpeg's
DCT scaling), other formats are reduced to at most :data:`~.limits.IMAGE_DECODE_SIDE` pixels
a side right after decoding. Peak memory is therefore bounded by the pixel limit, and no
image ends in Pillow's ``DecompressionBombError``. The result is an 8-bit RGB ``PIL.Image``.
"""

from __future__ import annotations

from pathlib import Path

from .errors import SignAvatarError
from .limits import IMAGE_DECODE_SIDE, MAX_IMAGE_PIXELS


def load_image(path, max_side: int = IMAGE_DECODE_SIDE, max_pixels: int = MAX_IMAGE_PIXELS):
    """Decode ``path`` as RGB with its long side at most ``max_side`` (aspect kept); bad files raise
    :class:`SignAvatarError` naming the problem."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise SignAvatarError(f"{path}: image file not found")
    try:
        with Image.open(path) as im:
            w, h = im.size  # from the header: nothing decoded yet
            if w < 1 or h < 1 or w * h > max_pixels:
                raise SignAvatarError(f"{path}: the image is {w}x{h} pixels; at most {max_pixels / 1e6:g} megapixels "
                                      "are accepted (scale it down first)")
            if im.format == "JPEG":
                im.draft("RGB", (max_side, max_side))  # decode at 1/2, 1/4 or 1/8 scale where that suffices
            im.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
            return im.convert("RGB")
    except SignAvatarError:
        raise
    except Image.DecompressionBombError:  # Pillow's own guard, at twice its limit: the same refusal
        raise SignAvatarError(f"{path}: the image is far larger than {max_pixels / 1e6:g} megapixels; at most "
                              f"{max_pixels / 1e6:g} megapixels are accepted (scale it down first)") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise SignAvatarError(f"{path}: not a readable image ({e})") from None
