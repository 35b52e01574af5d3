"""From the words a user typed to what is signed: a gloss per word, or its letters.

The generator's ``match(text)`` decides what a word means (exact gloss, or the nearest
gloss by meaning with a score) and raises :class:`SignAvatarError` when nothing is close.
Inside a sentence such a word is not refused: it is fingerspelled from the letter signs
of the vocabulary, with a notice (so is a word whose nearest gloss by meaning is a single
letter: that match says nothing). Runs of up to ``max_ngram`` words are first tried as
one gloss ("thank you" -> THANKYOU), accepted only when the match is exact.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from ..errors import SignAvatarError

DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
LETTER_PREFIXES = ("letter_", "letter-", "letter ", "fs_", "fs-")


@dataclass(frozen=True)
class WordPlan:
    """One signed unit: ``word`` as typed, ``gloss`` (or ``N-A-M-E`` when spelled), letter glosses."""

    word: str
    gloss: str
    letters: tuple[str, ...] = ()
    notice: str = ""

    @property
    def spelled(self) -> bool:
        return bool(self.letters)


def split_words(words) -> list[str]:
    """A sentence string or a list of words -> clean tokens (outer punctuation stripped, empties dropped)."""
    if isinstance(words, str):
        words = words.split()
    out = []
    for w in words:
        if not isinstance(w, str):
            raise SignAvatarError(f"words must be strings, got {type(w).__name__} {w!r}")
        out.extend(t.strip(string.punctuation + "\u2018\u2019\u201c\u201d") for t in w.split())
    return [t for t in out if t]


def bare_letter(gloss) -> str:
    """A gloss without a letter prefix, lower case: ``"LETTER_A"`` -> ``"a"``."""
    key = str(gloss).strip().lower()
    for p in LETTER_PREFIXES:
        if key.startswith(p):
            return key[len(p):]
    return key


def letter_table(vocabulary) -> dict[str, str]:
    """Character -> gloss of its sign, from the vocabulary (letters a-z, digits by number word)."""
    table: dict[str, str] = {}
    names = {name: str(d) for d, name in enumerate(DIGIT_NAMES)}
    for gloss in vocabulary:
        key = bare_letter(gloss)
        if len(key) == 1 and key.isalnum():
            table.setdefault(key, str(gloss))
        elif key in names:
            table.setdefault(names[key], str(gloss))
    return table


def match_or_none(generator, text: str):
    """The model's match for ``text`` (a GlossMatch), or None where it refuses (no sign close enough)."""
    try:
        return generator.match(text)
    except SignAvatarError:
        return None


def plan_words(words, generator, max_ngram: int = 3) -> list[WordPlan]:
    """Resolve every word up front; one :class:`SignAvatarError` names every word that cannot be signed."""
    tokens = split_words(words)
    if not tokens:
        raise SignAvatarError("the sentence has no words: type glosses or words separated by spaces")
    letters = None
    plans: list[WordPlan] = []
    problems: list[str] = []
    k = 0
    while k < len(tokens):
        found = None
        for n in range(min(max_ngram, len(tokens) - k), 1, -1):  # "thank you" before "thank"
            m = match_or_none(generator, " ".join(tokens[k:k + n]))
            if m is not None and m.exact:
                found = (n, m)
                break
        if found is None:
            m = match_or_none(generator, tokens[k])
            # a word is never shown as a letter sign by meaning alone ("zq" is not the letter Z): spell it
            if m is not None and (m.exact or len(tokens[k]) == 1 or len(bare_letter(m.gloss)) != 1):
                found = (1, m)
        if found is not None:
            n, m = found
            word = " ".join(tokens[k:k + n])
            notice = "" if m.exact else f"'{word}' shown as {m.gloss} (similarity {m.score:.2f})"
            plans.append(WordPlan(word=word, gloss=str(m.gloss), notice=notice))
            k += n
            continue
        word = tokens[k]
        if letters is None:
            letters = letter_table(generator.vocabulary)
        chars = [c for c in word.lower() if c.isalnum()]
        missing = sorted({c for c in chars if c not in letters})
        if not chars or missing:
            what = f"no sign for {', '.join(repr(c) for c in missing)}" if missing else "nothing to spell"
            problems.append(f"'{word}' is not in the vocabulary and cannot be fingerspelled ({what})")
        else:
            spelled = "-".join(c.upper() for c in chars)
            plans.append(WordPlan(word=word, gloss=spelled, letters=tuple(letters[c] for c in chars),
                                  notice=f"'{word}' is not in the vocabulary: fingerspelled as {spelled}"))
        k += 1
    if problems:
        have = "".join(sorted(letters or {}))
        raise SignAvatarError("; ".join(problems) + f". The model's letter signs cover: {have or 'none'}; "
                              "use known glosses or train a model whose vocabulary has the letters a-z")
    return plans
