"""Input limits: the largest inputs the runtime accepts, checked before any work is done.

Every number a file or a command line gives that sizes memory or time is checked against
one of these before arrays are allocated, so no small file can exhaust memory or hang.
The same figures are listed in ``docs/trust.md`` ("Trust and limits").
"""

from __future__ import annotations

import math

from .errors import SignAvatarError

MAX_MOTION_FRAMES = 36_000  # frames in one motion file (20 min at 30 fps)
MAX_MOTION_SECONDS = 1_200.0  # duration of one motion (20 min)
MAX_BETAS = 400  # shape coefficients (SMPL-X uses 10 to 300)
MAX_ROTATION = 8 * math.pi  # |axis-angle| in radians (4 turns); real data stays near pi
MAX_TRANSLATION = 1_000.0  # metres from the origin
MAX_IMAGE_PIXELS = 50_000_000  # an image is refused above this many pixels (about 8660 x 5770)
IMAGE_DECODE_SIDE = 1024  # images are decoded (or reduced at once) to at most this many pixels a side
MAX_TEXT_CHARS = 200  # a gloss, word or phrase asked for
MAX_SEED = 2**64 - 1  # seeds are 64-bit (torch.Generator accepts -2**63 .. 2**64 - 1)
MIN_SEED = -(2**63)
MAX_SHOWN_CHARS = 60  # how much of a user's text an error message repeats


def shown(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """``text`` quoted for an error message, cut to ``limit`` characters (so no message echoes a whole input)."""
    text = str(text)
    one_line = " ".join(text.split())
    return repr(one_line) if len(one_line) <= limit else repr(one_line[:limit]) + f"... ({len(text)} characters)"


def check_seed(seed, what: str = "--seed") -> int:
    """``seed`` as an int in the 64-bit range torch accepts, else :class:`SignAvatarError`."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not MIN_SEED <= seed <= MAX_SEED:
        raise SignAvatarError(f"{what} must be a whole number from {MIN_SEED} to {MAX_SEED} (64 bits), "
                              f"got {shown(seed, 30)}")
    return seed


def check_text(text: str, what: str = "the text to sign") -> str:
    """A gloss or phrase no longer than :data:`MAX_TEXT_CHARS`, else :class:`SignAvatarError`."""
    if len(text) > MAX_TEXT_CHARS:
        raise SignAvatarError(f"{what} is {len(text)} characters long; at most {MAX_TEXT_CHARS} are accepted "
                              f"(starts {shown(text, 30)})")
    return text
