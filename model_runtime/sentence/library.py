"""A motion library: recorded clips served through the generator interface.

A folder of SMPL-X ``.npz`` motions (searched recursively; a clip's gloss is its stored
``signavatar_gloss`` or else its file name) answers ``match``/``generate``/``vocabulary``
like :class:`model_runtime.generation.Generator`, so sentences and batch renders can be
made from recorded or hand-made clips (mocap, dataset clips, reconstructions) as well as
from the model. Several clips of one gloss are variations: ``seed`` picks among them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import SignAvatarError, UnknownSignError
from ..motion import SignMotion


def gloss_key(text: str) -> str:
    """Spelling-insensitive key: case, spaces, hyphens and underscores ignored ("Thank you" = "THANK_YOU")."""
    return re.sub(r"[\s_\-]+", "", str(text).strip().lower())


@dataclass(frozen=True)
class LibraryMatch:
    gloss: str
    score: float
    exact: bool
    suggestions: tuple[str, ...] = ()


class MotionLibrary:
    """Clips by gloss; ``generate(gloss, seed)`` returns clip ``seed mod count`` of that gloss."""

    def __init__(self, clips: dict[str, list[Path]]):
        self._paths = {g: sorted(p) for g, p in clips.items() if p}
        self._by_key = {gloss_key(g): g for g in self._paths}

    @classmethod
    def open(cls, folder) -> "MotionLibrary":
        folder = Path(folder)
        if not folder.is_dir():
            raise SignAvatarError(f"motion library not found: {folder} (a folder of SMPL-X .npz motion files)")
        clips: dict[str, list[Path]] = {}
        names: dict[str, str] = {}  # spelling key -> the first spelling met ("HELLO" and "hello" are one gloss)
        for path in sorted(folder.rglob("*.npz")):
            gloss = _stored_gloss(path) or path.stem
            gloss = names.setdefault(gloss_key(gloss), gloss)
            clips.setdefault(gloss, []).append(path)
        if not clips:
            raise SignAvatarError(f"{folder}: no .npz motion files in this folder or below")
        return cls(clips)

    @property
    def vocabulary(self) -> list[str]:
        return sorted(self._paths)

    def match(self, text: str) -> LibraryMatch:
        gloss = self._by_key.get(gloss_key(text)) if isinstance(text, str) and text.strip() else None
        if gloss is not None:
            return LibraryMatch(gloss=gloss, score=1.0, exact=True)
        close = difflib.get_close_matches(gloss_key(text or ""), list(self._by_key), n=5, cutoff=0.6)
        close = [self._by_key[c] for c in close]
        hint = f"; close: {', '.join(close)}" if close else ""
        raise UnknownSignError(f"'{text}' is not in the motion library ({len(self._paths)} glosses){hint}", close)

    def generate(self, gloss_or_text: str, seed: int = 0, n: int = 1, frames: int | None = None,
                 temperature: float = 1.0) -> list[SignMotion]:
        """Recorded clips of the gloss (``temperature`` is accepted for the generator interface; a
        recording has no latent to scale)."""
        gloss = self.match(gloss_or_text).gloss
        paths = self._paths[gloss]
        out = []
        for k in range(n):
            m = SignMotion.load(paths[(seed + k) % len(paths)])
            if frames is not None and frames != m.num_frames:
                if frames < 2:
                    raise SignAvatarError(f"frames must be at least 2, got {frames}")
                m = replace(m.resample(m.fps * (frames - 1) / max(1, m.num_frames - 1)), fps=m.fps)
            out.append(replace(m, gloss=gloss))
        return out


def _stored_gloss(path: Path) -> str:
    import zipfile

    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as z:
            if "signavatar_gloss" in z.files:
                return str(z["signavatar_gloss"])
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return ""
    return ""
