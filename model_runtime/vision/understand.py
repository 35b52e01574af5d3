"""Image -> known gloss for text-conditioned models (the shipped MiniLM model), offline.

Evidence, in order of trust:

1. **Printed text** (:mod:`.ocr`): confident lines that are *prominent* (the line is at least
   ``min_text_height`` of the image height). The words of all prominent lines together, then
   each line alone, go through the model's matcher (:meth:`Generator.match`: spelling first,
   then meaning); the best match wins over anything the classifier says. Many lines of text
   are a document page: refused.
2. **Faces** (:mod:`.faces`): a face covering ``max_face_area`` of the image or more means a
   photo of people (a portrait, a signer): refused rather than named after the background.
3. **Object classes** (:mod:`.classify`): the probabilities of the ImageNet classes that the
   reviewed table maps to one gloss are summed (every dog breed is DOG); the best gloss is
   used when the sum reaches ``min_object_probability`` and its own best class reaches
   ``min_top_class`` (so a spread of weak guesses is not added up into a confident one).

Anything else is refused with an :class:`UnrecognisedImageError` that lists what was read and
recognised and the nearest glosses; the error carries ``suggestions`` (glosses) and
``evidence`` (:class:`Evidence`) as fields, for the Blender panel. Scores: text = OCR confidence x
match score (1 for a spelling match); object = the summed class probability.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from ..errors import SignAvatarError, UnknownSignError
from ..imageio import load_image
from ..limits import IMAGE_DECODE_SIDE
from ..sentence.words import match_or_none

TEXT, OBJECT = "text", "object"


@dataclass(frozen=True)
class ReaderConfig:
    min_text_confidence: float = 0.85   # OCR confidence for text to count as read
    min_text_height: float = 0.06       # prominent text: line height / image height
    max_text_lines: int = 3             # more confident lines than this: a page of text, refused
    max_words: int = 6                  # longer text is a sentence or a page, not a sign's name
    min_object_probability: float = 0.5  # summed probability of the classes mapped to the gloss
    min_top_class: float = 0.25         # that gloss's single best class must reach this too
    max_face_area: float = 0.01         # a face this large (fraction of the image) means a photo of people
    max_side: int = IMAGE_DECODE_SIDE   # decoded image bound (pixels, longer side)


@dataclass(frozen=True)
class Evidence:
    """Something seen: read ``text`` or an object ``label``, its confidence, and the gloss it points to."""

    kind: str          # "text" | "label" | "face"
    what: str
    score: float
    detail: str = ""
    gloss: str | None = None

    def describe(self) -> str:
        arrow = f" \u2192 {self.gloss}" if self.gloss else ""
        if self.kind == TEXT:
            return f"read \u201c{self.what}\u201d ({self.score:.2f}, {self.detail}){arrow}"
        if self.kind == "face":
            return f"a face ({self.detail})"
        return f"looks like {self.what} ({self.score:.2f}){arrow}"


class UnrecognisedImageError(UnknownSignError):
    """An image that shows no known sign: ``suggestions`` (glosses) and ``evidence`` (what was seen)."""

    def __init__(self, message: str, suggestions=(), evidence: tuple[Evidence, ...] = ()):
        super().__init__(message, suggestions)
        self.evidence = tuple(evidence)


@dataclass(frozen=True)
class ImageMatch:
    """What an image was resolved to; duck-compatible with :class:`GlossMatch` (gloss, score, exact, suggestions)."""

    gloss: str
    score: float
    source: str                      # "text" or "object"
    evidence: tuple[Evidence, ...] = ()
    suggestions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    exact: bool = False

    @property
    def summary(self) -> str:
        e = self.evidence[0] if self.evidence else None
        seen = e.describe().split(" \u2192 ")[0] if e else self.source
        return f"{seen} \u2192 {self.gloss}"


@dataclass
class _Seen:
    lines: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    gloss_probs: list = field(default_factory=list)
    face: float = 0.0


class ImageReader:
    """The OCR, face and object engines, loaded on first use and kept (one per process: :func:`reader`)."""

    def __init__(self):
        from .classify import ObjectClassifier
        from .ocr import TextReader

        self.text = TextReader()
        self.objects = ObjectClassifier()

    def read_text(self, rgb) -> list:
        return self.text.read(rgb)

    def look(self, rgb, seen: _Seen, min_face_area: float = 0.0) -> _Seen:
        """Add faces (of at least ``min_face_area``) and object classes to ``seen`` (when the text did not decide)."""
        from .faces import largest_face

        probs = self.objects.probabilities(rgb)
        return replace(seen, labels=self.objects.top(probs, 5), gloss_probs=self.objects.gloss_probabilities(probs)[:3],
                       face=largest_face(rgb, min_face_area))


@lru_cache(maxsize=1)
def reader() -> ImageReader:
    return ImageReader()


def _words(text: str) -> str:
    """Letters (any script), digits, apostrophes and spaces; lower case; one space between words."""
    return " ".join(re.sub(r"[^\w' ]+", " ", text.replace("_", " ")).split()).lower()


def _has_latin(text: str) -> bool:
    return re.search(r"[A-Za-z]", text) is not None


def _nearest(generator, texts, k: int = 6) -> list[str]:
    """Known glosses nearest to each text (by the model's matcher, no threshold), merged in order."""
    out: list[str] = []
    for t in texts:
        try:
            m = generator.match(t, threshold=-1.0)
        except SignAvatarError:
            continue
        out.extend([m.gloss, *m.suggestions[:2]])
    return list(dict.fromkeys(out))[:k]


def _text_candidates(generator, lines, cfg: ReaderConfig):
    """[(score, ImageMatch-fields)] from prominent confident lines: all of them together, then each line."""
    good = [t for t in lines if t.confidence >= cfg.min_text_confidence and _has_latin(t.text) and _words(t.text)]
    prominent = [t for t in good if t.height >= cfg.min_text_height]
    phrases = []
    if len(prominent) > 1:
        phrases.append((_words(" ".join(t.text for t in prominent)), min(t.confidence for t in prominent),
                        min(t.height for t in prominent)))
    phrases += [(_words(t.text), t.confidence, t.height) for t in prominent]
    found = []
    if len(good) > cfg.max_text_lines:
        return good, prominent, found
    for words, conf, height in phrases:
        if len(words.split()) > cfg.max_words:
            continue
        m = match_or_none(generator, words)
        if m is not None:
            # a spelled-out gloss first, then the longest phrase (all lines together), then the surest
            found.append(((m.exact, len(words.split()), conf * m.score), words, conf, height, m))
    found.sort(key=lambda x: x[0], reverse=True)
    return good, prominent, found


def _evidence(seen: _Seen, generator, good_lines) -> list[Evidence]:
    ev = []
    for t in good_lines[:5]:
        m = match_or_none(generator, _words(t.text))
        ev.append(Evidence(TEXT, t.text, t.confidence, f"{100 * t.height:.0f} % of the height",
                           m.gloss if m else None))
    if seen.face:
        ev.append(Evidence("face", "face", 1.0, f"{100 * seen.face:.1f} % of the image"))
    ev += [Evidence("label", x.name, x.probability, gloss=x.gloss) for x in seen.labels[:3]]
    return ev


def understand_image(path, generator, config: ReaderConfig | None = None) -> ImageMatch:
    """The known gloss an image shows, with its evidence; raises :class:`UnrecognisedImageError`."""
    cfg = config or ReaderConfig()
    name = Path(path).name
    img = load_image(path, max_side=cfg.max_side)
    seen = _Seen(lines=reader().read_text(img.rgb))
    good, prominent, found = _text_candidates(generator, seen.lines, cfg)
    if not (found and found[0][-1].exact):  # only a spelled-out word settles it without looking further
        seen = reader().look(img.rgb, seen, cfg.max_face_area)
    evidence = _evidence(seen, generator, good)
    notes = tuple(img.notes)
    if found:
        _, words, conf, height, m = found[0]
        lead = Evidence(TEXT, words, conf, f"{100 * height:.0f} % of the height", m.gloss)
        rest = [g for _, _, _, _, x in found[1:] for g in (x.gloss,)] + list(m.suggestions)
        return ImageMatch(gloss=m.gloss, score=round(min(1.0, conf * m.score), 3), source=TEXT,
                          evidence=(lead, *[e for e in evidence if e.what != words]),
                          suggestions=tuple(g for g in dict.fromkeys(rest) if g != m.gloss)[:5], notes=notes)
    labels = seen.labels
    best_gloss, best_p = seen.gloss_probs[0] if seen.gloss_probs else (None, 0.0)
    top_of_best = max((x.probability for x in labels if x.gloss == best_gloss), default=0.0)
    document = len(good) > cfg.max_text_lines or any(len(_words(t.text).split()) > cfg.max_words for t in good)
    people = seen.face >= cfg.max_face_area
    why = ""
    if document:
        why = f"it holds a page of text ({len(good)} lines), not one word: crop it to the word to sign"
    elif people:
        why = (f"it is a photo of people (a face covers {100 * seen.face:.1f} % of it): a sign is not guessed from "
               "a person; for a signer's video use the Video panel / 'python -m model_runtime data preview'")
    elif best_gloss and best_p >= cfg.min_object_probability and top_of_best >= cfg.min_top_class:
        lead = next((e for e in evidence if e.kind == "label" and e.gloss == best_gloss),
                    Evidence("label", best_gloss, top_of_best, gloss=best_gloss))
        others = [g for g, p in seen.gloss_probs[1:] if p >= 0.05]
        return ImageMatch(gloss=best_gloss, score=round(best_p, 3), source=OBJECT,
                          evidence=(lead, *[e for e in evidence if e is not lead and e.what != lead.what]),
                          suggestions=tuple(others)[:5], notes=notes)
    else:
        top = labels[0] if labels else None
        why = "nothing in it is recognised with confidence"
        if top is not None and top.probability >= cfg.min_top_class and top.gloss is None:
            why = f"it looks like {top.name} ({top.probability:.2f}), which no sign of this model names"
    mapped = [g for g, p in seen.gloss_probs if p >= 0.05]
    texts = [_words(t.text) for t in good[:3]] + [x.name for x in labels[:2]]
    suggestions = list(dict.fromkeys(mapped + _nearest(generator, texts)))[:6]
    seen_txt = "; ".join(e.describe() for e in evidence) or "no text, no object"
    raise UnrecognisedImageError(f"no sign for {name}: {why}. Seen: {seen_txt}. "
                                 + (f"Nearest signs: {', '.join(suggestions)}." if suggestions else "")
                                 + (f" ({'; '.join(notes)})" if notes else ""), suggestions, evidence)
