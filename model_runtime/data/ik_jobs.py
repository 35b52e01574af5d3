"""Step 5 of ``data build``: landmark clips -> SMPL-X by the inverse kinematics, into the clip cache.

Clips are solved in batches (consecutive clips of one source; videos alone) by ``workers``
processes; each result or error lands in its own cache file (:mod:`.clipcache`), so an
interrupted build resumes where it stopped and one bad clip costs only itself. ``items`` are
the builder's selected clips (``ref``, ``mirrored``, ``path``: the cache file).
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..errors import SignAvatarError
from . import clipcache
from .qc import frame_signals


def ik_solver():
    """``model_runtime.ik.solve`` (the function, whether or not the package re-exports it)."""
    import types

    try:
        from ..ik import solve
    except ImportError as e:
        raise SignAvatarError(f"data build needs the inverse kinematics module model_runtime.ik ({e})") from None
    return solve.solve if isinstance(solve, types.ModuleType) else solve


def ik_batch_solver():
    """``model_runtime.ik.solve_batch`` when the IK has it, else None."""
    try:
        from ..ik import solve_batch
    except ImportError:
        return None
    return solve_batch


@contextmanager
def _single_threaded_children():
    """Worker processes inherit one math thread each (they are started inside this block)."""
    keys = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    old = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: "1" for k in keys})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _error_text(e: Exception) -> str:
    return str(e) if isinstance(e, SignAvatarError) else f"{type(e).__name__}: {e}"


def process_batch(jobs: list[tuple], dominant_hand: str, gender: str, solver=None, batch_solver=None) -> int:
    """Load clips, solve their IK, store each result (or error) in its cache file; returns the error count.

    ``jobs``: ``(ref, mirrored, cache_file)`` each. With ``batch_solver`` the loaded clips are
    refined together (the IK's ``solve_batch``: the same result, several times faster on short
    clips); if that fails they are solved one by one so only the bad clip is lost. Any error in
    one clip is recorded and the build goes on (the card lists it).
    """
    if solver is None:
        solver, batch_solver = ik_solver(), ik_batch_solver()
    loaded, n_err = [], 0
    for ref, mirrored, cache_file in jobs:
        meta = {"clip_id": ref.clip_id}
        try:
            seq = ref.load(mirrored=mirrored,
                           dominant_hand="right" if dominant_hand == "right" and ref.kind == "video" else "keep")
            meta = dict(seq.meta, hands_swapped=seq.hands_swapped, frames_raw=seq.num_frames,
                        image_size="x".join(map(str, seq.image_size)) if seq.image_size else "")
            loaded.append((seq, meta, Path(cache_file)))
        except Exception as e:  # noqa: BLE001 - recorded per clip, see the docstring
            clipcache.save_error(Path(cache_file), _error_text(e), meta)
            n_err += 1
    results = None
    if batch_solver is not None and len(loaded) > 1:
        try:
            results = batch_solver([seq for seq, _, _ in loaded], gender=gender)
        except Exception:  # noqa: BLE001 - find the culprit clip by clip below
            results = None
    for k, (seq, meta, path) in enumerate(loaded):
        try:
            result = results[k] if results is not None else solver(seq, gender=gender)
            motion = result.motion
            if motion.num_frames != seq.num_frames:
                raise SignAvatarError(f"IK returned {motion.num_frames} frames for {seq.num_frames} landmark frames")
            valid = np.asarray(getattr(result, "valid", np.ones(seq.num_frames, dtype=bool)), dtype=bool)
            clipcache.save_ok(path, motion, valid, frame_signals(seq), dict(result.quality), meta)
        except Exception as e:  # noqa: BLE001 - recorded per clip, see the docstring
            clipcache.save_error(path, _error_text(e), meta)
            n_err += 1
    return n_err


def _batches(todo: list, batch_size: int) -> list[list]:
    """Consecutive clips of one source in batches; videos alone (their extraction dominates)."""
    out, cur = [], []
    for it in todo:
        if it.ref.kind == "video" or (cur and (cur[0].ref.source != it.ref.source or len(cur) >= batch_size)):
            if cur:
                out.append(cur)
            cur = []
        if it.ref.kind == "video":
            out.append([it])
        else:
            cur.append(it)
    if cur:
        out.append(cur)
    return out


def run_ik(items: list, cfg, solver, batch_solver, progress: bool) -> None:
    """Solve every item whose cache file is missing (``cfg``: the build's workers, batch size, hand, gender)."""
    from tqdm import tqdm

    todo = [it for it in items if not it.path.exists()]
    if not todo:
        return
    batches = _batches(todo, cfg.batch_size)
    args = [([(it.ref, it.mirrored, str(it.path)) for it in b], cfg.dominant_hand, cfg.gender) for b in batches]
    bar = tqdm(total=len(todo), unit="clip", desc="landmarks -> SMPL-X", disable=not progress)
    try:
        if cfg.workers <= 1:
            for a in args:
                process_batch(*a, solver=solver, batch_solver=batch_solver)
                bar.update(len(a[0]))
            return
        import multiprocessing as mp

        with ProcessPoolExecutor(max_workers=cfg.workers, mp_context=mp.get_context("spawn")) as pool:
            with _single_threaded_children():
                futures = {pool.submit(process_batch, *a, solver=solver, batch_solver=batch_solver): len(a[0])
                           for a in args}
            for f in as_completed(futures):
                f.result()
                bar.update(futures[f])
    finally:
        bar.close()
