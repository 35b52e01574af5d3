"""The glosses a model knows: embedding, sample count and typical length of each.

Saved in the model folder as ``glosses.json`` (one record per gloss: ``gloss``, ``text`` given
to the encoder, ``samples``, ``frames`` median / ``frames_min`` / ``frames_max`` at the model's
fps, ``sources`` counts) and ``gloss_embeddings.safetensors`` (``embeddings`` (G, E) float32,
unit rows). A known gloss therefore needs no text encoder at run time.

Spelling normalisation for lookup (:func:`match_key`): lower case, every character that is
not a letter or digit dropped, so "Thank you", "thank-you", "THANK_YOU" and "thankyou" are the
same key; a trailing plural "s" / "es" / "ies"->"y" is tried when the word itself is unknown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import write_json, write_with
from ..errors import SignAvatarError

GLOSS_FILE = "glosses.json"
EMBED_FILE = "gloss_embeddings.safetensors"


def gloss_words(gloss: str) -> str:
    """Readable words of a gloss: ``"THANK-YOU"`` -> ``"thank you"`` (the text the encoder sees)."""
    return re.sub(r"\s+", " ", re.sub(r"[_\-]+", " ", gloss.lower())).strip()


def match_key(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def key_variants(text: str) -> list[str]:
    """The key of ``text`` and its singular forms, most literal first."""
    k = match_key(text)
    out = [k]
    if len(k) > 3 and k.endswith("ies"):
        out.append(k[:-3] + "y")
    if len(k) > 3 and k.endswith("es"):
        out.append(k[:-2])
    if len(k) > 2 and k.endswith("s") and not k.endswith("ss"):
        out.append(k[:-1])
    return out


@dataclass
class GlossTable:
    glosses: list[str]
    texts: list[str]
    embeddings: np.ndarray  # (G, E) float32, unit rows
    samples: list[int]
    frames: list[int]  # median length per gloss at the model's fps
    frames_min: list[int]
    frames_max: list[int]
    sources: list[dict]

    def __post_init__(self):
        n = len(self.glosses)
        lens = {len(x) for x in (self.texts, self.samples, self.frames, self.frames_min, self.frames_max, self.sources)}
        if lens != {n} or self.embeddings.shape[0] != n:
            raise SignAvatarError(f"gloss table columns disagree: {n} glosses, {self.embeddings.shape[0]} embeddings")
        self._index = {g: i for i, g in enumerate(self.glosses)}
        keys: dict[str, int] = {}
        for i, g in enumerate(self.glosses):  # a key shared by two glosses goes to the better-sampled one
            k = match_key(g)
            if k not in keys or self.samples[i] > self.samples[keys[k]]:
                keys[k] = i
        self._keys = keys

    def __len__(self) -> int:
        return len(self.glosses)

    def index(self, gloss: str) -> int:
        return self._index[gloss]

    def lookup(self, text: str) -> str | None:
        """The gloss whose normalised spelling equals ``text``'s (or its singular), else None."""
        if text in self._index:
            return text
        for k in key_variants(text):
            if k in self._keys:
                return self.glosses[self._keys[k]]
        return None

    def rank(self, embedding: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` glosses with the highest cosine similarity to a unit ``embedding``."""
        sims = self.embeddings @ np.asarray(embedding, dtype=np.float32).reshape(-1)
        order = np.argsort(-sims, kind="stable")[:k]
        return [(self.glosses[i], float(sims[i])) for i in order]

    def save(self, folder) -> None:
        from safetensors.numpy import save_file

        folder = Path(folder)
        records = [dict(gloss=g, text=t, samples=int(s), frames=int(f), frames_min=int(a), frames_max=int(b),
                        sources=src)
                   for g, t, s, f, a, b, src in zip(self.glosses, self.texts, self.samples, self.frames,
                                                    self.frames_min, self.frames_max, self.sources)]
        write_json(folder / GLOSS_FILE, records, indent=1)
        emb = {"embeddings": np.ascontiguousarray(self.embeddings, dtype=np.float32)}
        write_with(folder / EMBED_FILE, lambda p: save_file(emb, str(p)))

    @classmethod
    def load(cls, folder, dim: int) -> "GlossTable":
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        folder = Path(folder)
        try:
            records = json.loads((folder / GLOSS_FILE).read_text())
            emb = load_file(str(folder / EMBED_FILE))["embeddings"]
        except (OSError, ValueError, KeyError, SafetensorError) as e:
            raise SignAvatarError(f"{folder}: unreadable gloss table ({GLOSS_FILE} / {EMBED_FILE}: {e})") from None
        if not isinstance(records, list) or not records:
            raise SignAvatarError(f"{folder}/{GLOSS_FILE}: expected a non-empty list of gloss records")
        need = ("gloss", "text", "samples", "frames", "frames_min", "frames_max", "sources")
        bad = [i for i, r in enumerate(records) if not isinstance(r, dict) or any(k not in r for k in need)]
        if bad:
            raise SignAvatarError(f"{folder}/{GLOSS_FILE}: records {bad[:5]} lack some of {need}")
        if emb.shape != (len(records), dim):
            raise SignAvatarError(f"{folder}/{EMBED_FILE}: embeddings have shape {emb.shape}, expected "
                                  f"({len(records)}, {dim}) for this model's encoder")
        col = lambda k: [r[k] for r in records]  # noqa: E731
        return cls(glosses=col("gloss"), texts=col("text"), embeddings=emb.astype(np.float32),
                   samples=col("samples"), frames=col("frames"), frames_min=col("frames_min"),
                   frames_max=col("frames_max"), sources=col("sources"))
