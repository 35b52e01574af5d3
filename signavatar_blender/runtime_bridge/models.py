"""The loaded SignAvatar model, shared by the operators (one per model folder/device/CLIP file).

Loading imports torch and reads the weights, so it happens in an operator's worker thread
the first time (:func:`generator`); later calls return the cached instance at once. The
vocabulary for the gloss field's suggestions is read from the model folder's gloss list
(plain JSON), so typing works before the model is loaded and without torch.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import EXTENSION_ROOT, deps, error, runtime

DEFAULT_MODEL = EXTENSION_ROOT / "model_runtime" / "checkpoints" / "default"


@dataclass(frozen=True)
class Settings:
    """What loading the model needs from the preferences (read by ``ui.preferences.settings``)."""

    model_folder: Path
    clip_weights: Path | None
    device: str

    @property
    def model_is_default(self) -> bool:
        return self.model_folder == DEFAULT_MODEL

_lock = threading.Lock()
_loaded: dict = {}


def _key(s: Settings) -> tuple:
    return (str(s.model_folder), s.device, str(s.clip_weights) if s.clip_weights else "")


def cached(s: Settings):
    """The already loaded generator for these settings, or None."""
    return _loaded.get(_key(s))


def generator(s: Settings):
    """Load (once) and return the ``model_runtime`` Generator for these settings. Slow the first time."""
    key = _key(s)
    with _lock:
        if key in _loaded:
            return _loaded[key]
        deps.activate()
        runtime("runtime_env").apply()
        if s.clip_weights is not None and not s.clip_weights.is_file():
            raise error()(f"CLIP weights file not found: {s.clip_weights}; fix the path in Preferences > "
                             "Add-ons > SignAvatar")
        gen_mod = runtime("generation.generator")
        gen = gen_mod.Generator.load(s.model_folder, device=s.device,
                                     clip_weights=str(s.clip_weights) if s.clip_weights else None)
        _loaded[key] = gen
        return gen


def forget() -> None:
    with _lock:
        _loaded.clear()
    _vocabulary.cache_clear()


def _gloss_file(folder: Path) -> Path:
    return folder / runtime("model.gloss_table").GLOSS_FILE


@lru_cache(maxsize=8)
def _vocabulary(folder: str, mtime: float) -> tuple[str, ...]:
    try:
        records = json.loads(_gloss_file(Path(folder)).read_text())
        return tuple(sorted(r["gloss"] for r in records))
    except (OSError, ValueError, KeyError, TypeError):
        return ()


def vocabulary(s: Settings) -> tuple[str, ...]:
    """Known glosses of the model in ``s`` (empty when the folder has no readable gloss list)."""
    gen = cached(s)
    if gen is not None:
        return tuple(sorted(gen.vocabulary))
    try:
        mtime = _gloss_file(s.model_folder).stat().st_mtime
    except OSError:
        return ()
    return _vocabulary(str(s.model_folder), mtime)
