"""One spelling per gloss across sources.

Rule (:func:`normalize_gloss`): Unicode NFKC, lower case; ``_``, ``-``, ``/`` and ``+``
become spaces; apostrophes are dropped (``don't`` -> ``dont``); any other character that
is not a letter, digit or space is dropped; runs of spaces collapse to one; ends stripped.
So ``Thank_You``, ``thank-you`` and `` THANK YOU `` are all ``thank you``.

Sources also disagree on word breaks (``thankyou`` vs ``thank you``, ``iloveyou`` vs
``i love you``). :func:`gloss_key` removes the spaces; glosses of one build that share a
key are one gloss, named by :func:`merge_spellings` with its spaced spelling (the one with
the most words; ties: the most clips, then alphabetical). Look glosses up by
:func:`gloss_key` so that either spelling finds the same clips.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

_SEPARATORS = re.compile(r"[_\-/+]")
_APOSTROPHES = re.compile(r"['\u2019\u2018`]")
_OTHER = re.compile(r"[^\w ]", flags=re.UNICODE)
_SPACES = re.compile(r"\s+")


def normalize_gloss(text: str) -> str:
    """The normalised spelling of one gloss (see the module docstring)."""
    t = unicodedata.normalize("NFKC", str(text)).lower()
    t = _SEPARATORS.sub(" ", t)
    t = _APOSTROPHES.sub("", t)
    t = _OTHER.sub("", t).replace("_", " ")
    return _SPACES.sub(" ", t).strip()


def gloss_key(text: str) -> str:
    """Spelling-independent key: the normalised gloss without spaces."""
    return normalize_gloss(text).replace(" ", "")


def merge_spellings(glosses: Iterable[str]) -> dict[str, str]:
    """Map every normalised spelling in ``glosses`` (one entry per clip) to its build-wide name."""
    counts = Counter(normalize_gloss(g) for g in glosses)
    by_key: dict[str, list[str]] = {}
    for g in counts:
        by_key.setdefault(g.replace(" ", ""), []).append(g)
    out = {}
    for spellings in by_key.values():
        name = min(spellings, key=lambda g: (-g.count(" "), -counts[g], g))
        out.update({g: name for g in spellings})
    return out
