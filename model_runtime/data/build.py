"""``data build``: landmark sources -> SMPL-X clips -> quality control -> splits -> dataset folder.

Steps, in order (each drop is counted by reason in the dataset card):

1. list the clips of every source (:func:`..landmarks.sources.iter_clips`); a clip id seen
   twice is kept once;
2. sign language: with ``language="ASL"`` rows a source marks as another sign language
   (mpdata: ISL, BSL, ...) are left out; ``unspecified`` rows stay unless
   ``keep_unspecified_language`` is off;
3. glosses: normalised and merged across spellings (:mod:`.glosses`); glosses with fewer
   than ``min_samples`` clips are left out before any work is spent on them;
4. handedness: with ``dominant_hand="right"`` every clip is made to read as a right-handed
   signer (:func:`..landmarks.handedness.mirror_decisions`, per recording set);
5. inverse kinematics in ``workers`` processes, ``batch_size`` clips of a source refined
   together, one cached result per clip (:mod:`.clipcache`), so an interrupted build resumes
   where it stopped;
6. quality control (:mod:`.qc`; ``qc=False`` keeps every solved frame: the ablation set);
7. ``min_samples`` again on what survived, per-gloss 8:2 split and the optional
   signer-disjoint split (:mod:`.splits`), then :func:`.dataset.write_dataset` and the card.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import SignAvatarError
from . import clipcache
from .glosses import merge_spellings, normalize_gloss
from .qc import QCConfig, Verdict, frame_signals, judge

LANGUAGE_ANY = "any"
MAX_ERRORS_LISTED = 500  # clip id -> message in the card


@dataclass(frozen=True)
class BuildConfig:
    out: str
    sources: tuple[str, ...]
    workers: int = 2  # IK processes; 0 or 1 = in this process
    cache_dir: str = ""  # "" = $SIGNAVATAR_CACHE/build or ~/.cache/signavatar/build
    gender: str = "neutral"  # rest skeleton the IK fits
    dominant_hand: str = "right"  # "right": mirror left-handed clips; "keep": leave them
    language: str = "ASL"  # keep this sign language ("any" = all)
    keep_unspecified_language: bool = True  # keep rows whose language the source does not state
    glosses: tuple[str, ...] = ()  # only these glosses (any spelling); empty = all
    limit: int = 0  # at most this many clips per source (0 = all), for quick builds
    min_samples: int = 18  # clips per gloss (the paper keeps glosses with 18-20 or more)
    qc: bool = True  # False: the no-QC ablation set (every solved frame kept)
    qc_config: QCConfig = field(default_factory=QCConfig)
    test_fraction: float = 0.2
    seed: int = 0
    signer_split: bool = False
    write_clips: bool = True
    retry_failed: bool = False  # recompute clips whose failure is cached
    batch_size: int = 16  # clips refined together by the IK (short clips gain most)


@dataclass
class _Item:
    ref: object  # ClipRef
    gloss: str
    mirrored: bool = False
    dominance: float = float("nan")
    key: str = ""
    path: Path | None = None


@dataclass
class _Kept:
    gloss: str
    index: int


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


def _batches(todo: list[_Item], batch_size: int) -> list[list[_Item]]:
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


def _run_ik(items: list[_Item], cfg: BuildConfig, solver, batch_solver, progress: bool) -> None:
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


def _select(refs, cfg: BuildConfig, drops: Counter) -> list[_Item]:
    """Steps 1-3 of the module docstring."""
    from .glosses import gloss_key

    seen, items = set(), []
    wanted = {gloss_key(g) for g in cfg.glosses}
    for ref in refs:
        if ref.clip_id in seen:
            drops[(ref.source, "duplicate clip id")] += 1
            continue
        seen.add(ref.clip_id)
        lang = (ref.sign_language or "unspecified").strip()
        if cfg.language != LANGUAGE_ANY and lang.lower() != cfg.language.lower():
            if not (lang.lower() == "unspecified" and cfg.keep_unspecified_language):
                drops[(ref.source, f"sign language {lang}")] += 1
                continue
        g = normalize_gloss(ref.gloss)
        if not g:
            drops[(ref.source, "no gloss")] += 1
            continue
        if wanted and gloss_key(g) not in wanted:
            continue
        items.append(_Item(ref=ref, gloss=g))
    names = merge_spellings(it.gloss for it in items)
    for it in items:
        it.gloss = names[it.gloss]
    return _min_samples(items, cfg.min_samples, drops, "before QC", lambda it: it.ref.source)


def _min_samples(items, n: int, drops: Counter, when: str, source_of) -> list:
    counts = Counter(it.gloss for it in items)
    kept = []
    for it in items:
        if counts[it.gloss] >= n:
            kept.append(it)
        else:
            drops[(source_of(it), f"gloss has fewer than {n} clips {when}")] += 1
    return kept


def _decide_mirroring(items: list[_Item], cfg: BuildConfig, progress: bool) -> None:
    """Step 4 for landmark sources (videos decide per clip while they are extracted)."""
    from tqdm import tqdm

    from ..landmarks.handedness import dominance, mirror_decisions

    if cfg.dominant_hand != "right":
        return
    todo = [it for it in items if it.ref.kind != "video"]
    scores = []
    for it in tqdm(todo, unit="clip", desc="handedness", disable=not progress):
        try:
            scores.append(dominance(it.ref.load()))
        except SignAvatarError:
            scores.append(float("nan"))  # the IK step records the error
    flags = mirror_decisions(scores, [f"{it.ref.source}|{it.ref.signer}" for it in todo])
    for it, flag, score in zip(todo, flags, scores):
        it.mirrored = bool(flag)
        it.dominance = score


def build_dataset(cfg: BuildConfig, solver: Callable | None = None, progress: bool = True,
                  batch_solver: Callable | None = None) -> dict:
    """Run the whole build (module docstring); returns the dataset card.

    ``solver(seq, gender=...) -> IKResult`` and ``batch_solver(seqs, gender=...) -> [IKResult]``
    replace the IK (default ``model_runtime.ik.solve`` / ``solve_batch``); both must be
    module-level functions when ``workers > 1``.
    """
    from ..landmarks.sources import iter_clips
    from .card import make_card, write_card_md
    from .dataset import write_dataset
    from .splits import gloss_split, signer_split

    if cfg.dominant_hand not in ("right", "keep"):
        raise SignAvatarError(f"dominant_hand must be 'right' or 'keep', got {cfg.dominant_hand!r}")
    if cfg.min_samples < 1 or cfg.batch_size < 1:
        raise SignAvatarError(f"min_samples and batch_size must be at least 1, got {cfg.min_samples} and "
                              f"{cfg.batch_size}")
    refs, problems = [], []
    for spec in cfg.sources:
        try:
            listed = iter_clips(spec)
        except SignAvatarError as e:
            problems.append(str(e))
            continue
        refs.extend(listed[:cfg.limit] if cfg.limit else listed)
    if problems:
        raise SignAvatarError("cannot read the sources:\n  " + "\n  ".join(problems))
    drops: Counter = Counter()
    items = _select(refs, cfg, drops)
    if not items:
        raise SignAvatarError(f"no clips left to build after the language and gloss filters (min_samples "
                              f"{cfg.min_samples}); try --min-samples 1 or --language any. Dropped: "
                              + ", ".join(f"{r} ({n})" for (_, r), n in drops.most_common(5)))
    _decide_mirroring(items, cfg, progress)

    pkg = Path(__file__).resolve().parents[1]
    solver_id = "model_runtime.ik.solve" if solver is None else f"{solver.__module__}.{solver.__qualname__}"
    code = clipcache.code_hash(pkg / "landmarks", pkg / "ik")
    root = Path(cfg.cache_dir).expanduser() if cfg.cache_dir else clipcache.default_cache_dir()
    for it in items:
        it.key = clipcache.clip_key({"clip": it.ref.clip_id, "data": it.ref.fingerprint(), "mirrored": it.mirrored,
                                     "dominant_hand": cfg.dominant_hand if it.ref.kind == "video" else "",
                                     "gender": cfg.gender, "solver": solver_id, "code": code})
        it.path = clipcache.cache_path(root, it.ref.source, it.ref.clip_id, it.key)
        if cfg.retry_failed and it.path.exists() and clipcache.load(it.path).error:
            it.path.unlink()
    _run_ik(items, cfg, solver, batch_solver, progress)

    motions, records, errors, dropped_clips = [], [], {}, {}
    for it in items:
        c = clipcache.load(it.path, gloss=it.gloss, source=f"{it.ref.source}:{it.ref.meta.get('sample_id', '')}")
        if c.error:
            drops[(it.ref.source, "load or IK error")] += 1
            errors[it.ref.clip_id] = c.error
            continue
        T = c.motion.num_frames
        gap = c.meta.get("hand_wrist_gap")
        v = judge(c.signals, c.motion.fps, c.valid, c.quality, cfg.qc_config,
                  float("nan") if gap is None else float(gap)) if cfg.qc else Verdict(0, T)
        if not v.kept:
            drops[(it.ref.source, _reason_kind(v.reason))] += 1
            dropped_clips[it.ref.clip_id] = v.reason
            continue
        m = c.motion
        motions.append(replace(m, poses=m.poses[v.start:v.stop], trans=m.trans[v.start:v.stop]))
        records.append(_record(it, c, v))
    sel = _min_samples([_Kept(r["gloss"], i) for i, r in enumerate(records)], cfg.min_samples, drops,
                       "after QC", lambda k: records[k.index]["source"])
    motions = [motions[k.index] for k in sel]
    records = [records[k.index] for k in sel]
    if not records:
        raise SignAvatarError("every clip was dropped; see the reasons with 'data build ... --no-qc' or lower "
                              "--min-samples. Dropped: " + ", ".join(f"{r} ({n})" for (_, r), n in drops.most_common(6)))
    splits = gloss_split([r["gloss"] for r in records], [r["clip_id"] for r in records], cfg.test_fraction, cfg.seed)
    sig = signer_split([r["signer"] for r in records], cfg.test_fraction, cfg.seed) if cfg.signer_split else None
    for k, r in enumerate(records):
        r["split"] = splits[k]
        r["signer_split"] = sig[k] if sig else ""
    settings = asdict(cfg)
    settings["solver"] = solver_id
    settings["code_hash"] = code
    card = make_card(records, motions, drops, settings)
    card["errors"] = dict(sorted(errors.items())[:MAX_ERRORS_LISTED])
    card["dropped_by_qc"] = dict(sorted(dropped_clips.items()))  # clip id -> the rule that dropped it
    out = write_dataset(cfg.out, motions, records, card, write_clips=cfg.write_clips)
    write_card_md(out / "card.md", card)
    return card


def _reason_kind(reason: str) -> str:
    """The card's drop category for a QC verdict (numbers stripped)."""
    for prefix in ("reproj_body", "reproj_hand", "limit_violation_frac", "too short", "both hands lost",
                   "hands off the body"):
        if reason.startswith(prefix):
            return f"QC: {prefix}"
    return f"QC: {reason}"


def _record(it: _Item, c, v: Verdict) -> dict:
    ref, meta = it.ref, c.meta
    rec = {
        "clip_id": ref.clip_id, "gloss": it.gloss, "signer": ref.signer, "source": ref.source,
        "licence": ref.licence, "sign_language": ref.sign_language or "unspecified",
        "gloss_raw": ref.gloss, "licence_note": meta.get("licence_note", ref.meta.get("licence_note", "")),
        "sample_id": meta.get("sample_id", ""), "source_repo": meta.get("source_repo", ""),
        "source_path": meta.get("source_path", "") or meta.get("video_path", ""),
        "source_commit": meta.get("source_commit", ""),
        "frames_raw": len(c.motion.poses), "trim_start": v.start, "trim_stop": v.stop,
        "valid_share": round(float(np.mean(c.valid[v.start:v.stop])), 4) if c.valid is not None else "",
        "hand_labels_swapped": int(bool(meta.get("hand_labels_swapped"))),
        "hand_frames_swapped": int(meta.get("hand_frames_swapped") or 0),
        "mirrored": int(bool(meta.get("mirrored"))), "hands_swapped": int(bool(meta.get("hands_swapped"))),
        "dominance": _fmt(meta.get("dominance", it.dominance)), "hand_wrist_gap": _fmt(meta.get("hand_wrist_gap")),
        "fps_assumed": int(bool(meta.get("fps_assumed"))),
        "image_size": meta.get("image_size", ""),
    }
    for k, val in c.quality.items():
        rec[k] = _fmt(val)
    return rec


def _fmt(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if not np.isfinite(v) else round(v, 5)
    return v
