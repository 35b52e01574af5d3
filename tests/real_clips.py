"""Real sign clips for tests: ASL-App exemplars (../shared/data/aslapp) through our IK, as a motion library.

Solving a clip takes 1-3 s, so each process solves each sign once and keeps the files in a
temporary folder shared by every test that asks (sentence tests, render tests, benchmarks).
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

_DIR = Path(tempfile.mkdtemp(prefix="signavatar-real-clips-"))


def real_clip_library(aslapp: Path, signs, folder: Path | None = None) -> Path:
    """A folder with ``<sign>.npz`` (gloss = the ASL-App sign name) for each of ``signs``; returns it."""
    from model_runtime.ik.config import IKConfig
    from model_runtime.ik.solve import solve
    from model_runtime.landmarks.aslapp import load_aslapp_sign

    folder = folder or _DIR
    folder.mkdir(parents=True, exist_ok=True)
    for sign in signs:
        path = folder / f"{sign}.npz"
        if not path.exists():
            # one thread: these small problems gain nothing from more and thrash on a busy machine
            motion = solve(load_aslapp_sign(aslapp / "signs" / f"{sign}.json"), config=IKConfig(threads=1)).motion
            replace(motion, gloss=sign).save(path)
    return folder
