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
   together, one cached result per clip (:mod:`.ik_jobs`, :mod:`.clipcache`), so an interrupted
   build resumes where it stopped;
6. quality control (:mod:`.qc`; ``qc=False`` keeps every solved frame: the ablation set);
7. ``min_samples`` again on what survived, per-gloss 8:2 split and the optional
   signer-disjoint split (:mod:`.splits`), then :func:`.dataset.write_dataset` and the card.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ..errors import SignAvatarError
from . import clipcache
from .glosses import merge_spellings, normalize_gloss
from .ik_jobs import run_ik
from .qc import QCConfig, Verdict, judge
from .records import ClipRecord, clip_record

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


def _check_config(cfg: BuildConfig) -> None:
    if cfg.dominant_hand not in ("right", "keep"):
        raise SignAvatarError(f"dominant_hand must be 'right' or 'keep', got {cfg.dominant_hand!r}")
    if cfg.min_samples < 1 or cfg.batch_size < 1:
        raise SignAvatarError(f"min_samples and batch_size must be at least 1, got {cfg.min_samples} and "
                              f"{cfg.batch_size}")


def _list_sources(cfg: BuildConfig) -> list:
    """Every source's clips (at most ``limit`` each); one error names every unreadable source."""
    from ..landmarks.sources import iter_clips

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
    return refs


@dataclass(frozen=True)
class _CacheIdentity:
    """What a cached IK result depends on besides the clip: the solver and the code that ran."""

    solver_id: str
    code_hash: str


def _place_in_cache(items: list[_Item], cfg: BuildConfig, solver) -> _CacheIdentity:
    """Give every item its cache key and file (removing cached failures with ``retry_failed``)."""
    pkg = Path(__file__).resolve().parents[1]
    ident = _CacheIdentity(solver_id="model_runtime.ik.solve" if solver is None
                           else f"{solver.__module__}.{solver.__qualname__}",
                           code_hash=clipcache.code_hash(pkg / "landmarks", pkg / "ik"))
    root = Path(cfg.cache_dir).expanduser() if cfg.cache_dir else clipcache.default_cache_dir()
    for it in items:
        it.key = clipcache.clip_key({"clip": it.ref.clip_id, "data": it.ref.fingerprint(), "mirrored": it.mirrored,
                                     "dominant_hand": cfg.dominant_hand if it.ref.kind == "video" else "",
                                     "gender": cfg.gender, "solver": ident.solver_id, "code": ident.code_hash})
        it.path = clipcache.cache_path(root, it.ref.source, it.ref.clip_id, it.key)
        if cfg.retry_failed and it.path.exists() and clipcache.load(it.path).error:
            it.path.unlink()
    return ident


@dataclass
class _Outcome:
    """Step 6's result: the kept clips (motion trimmed, record) and why the others went."""

    motions: list = field(default_factory=list)
    records: list[ClipRecord] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # clip id -> load or IK error
    dropped_by_qc: dict[str, str] = field(default_factory=dict)  # clip id -> the rule with its figures


def _judge_clips(items: list[_Item], cfg: BuildConfig, drops: Counter) -> _Outcome:
    """Step 6: read each cached result and apply quality control (or keep every frame with ``qc=False``)."""
    out = _Outcome()
    for it in items:
        c = clipcache.load(it.path, gloss=it.gloss, source=f"{it.ref.source}:{it.ref.meta.get('sample_id', '')}")
        if c.error:
            drops[(it.ref.source, "load or IK error")] += 1
            out.errors[it.ref.clip_id] = c.error
            continue
        gap = c.meta.get("hand_wrist_gap")
        v = judge(c.signals, c.motion.fps, c.valid, c.quality, cfg.qc_config,
                  float("nan") if gap is None else float(gap)) if cfg.qc else Verdict(0, c.motion.num_frames)
        if not v.kept:
            drops[(it.ref.source, v.rule.category)] += 1
            out.dropped_by_qc[it.ref.clip_id] = v.reason
            continue
        m = c.motion
        out.motions.append(replace(m, poses=m.poses[v.start:v.stop], trans=m.trans[v.start:v.stop]))
        out.records.append(clip_record(it, c, v))
    return out


def _split(out: _Outcome, cfg: BuildConfig, drops: Counter) -> None:
    """Step 7: ``min_samples`` on what survived QC, then the per-gloss and signer splits."""
    from .splits import gloss_split, signer_split

    sel = _min_samples([_Kept(r.gloss, i) for i, r in enumerate(out.records)], cfg.min_samples, drops,
                       "after QC", lambda k: out.records[k.index].source)
    out.motions = [out.motions[k.index] for k in sel]
    out.records = [out.records[k.index] for k in sel]
    if not out.records:
        top = ", ".join(f"{r} ({n})" for (_, r), n in drops.most_common(6))
        raise SignAvatarError("every clip was dropped; see the reasons with 'data build ... --no-qc' or lower "
                              f"--min-samples. Dropped: {top}")
    recs = out.records
    splits = gloss_split([r.gloss for r in recs], [r.clip_id for r in recs], cfg.test_fraction, cfg.seed)
    sig = signer_split([r.signer for r in recs], cfg.test_fraction, cfg.seed) if cfg.signer_split else None
    for k, r in enumerate(recs):
        r.split = splits[k]
        r.signer_split = sig[k] if sig else ""


def _write(out: _Outcome, cfg: BuildConfig, drops: Counter, ident: _CacheIdentity) -> dict:
    """The dataset folder (:func:`.dataset.write_dataset`) and its card; returns the card."""
    from .card import make_card, write_card_md
    from .dataset import write_dataset

    rows = [r.to_dict() for r in out.records]
    settings = asdict(cfg)
    settings["solver"] = ident.solver_id
    settings["code_hash"] = ident.code_hash
    card = make_card(rows, out.motions, drops, settings)
    card["errors"] = dict(sorted(out.errors.items())[:MAX_ERRORS_LISTED])
    card["dropped_by_qc"] = dict(sorted(out.dropped_by_qc.items()))  # clip id -> the rule that dropped it
    folder = write_dataset(cfg.out, out.motions, rows, card, write_clips=cfg.write_clips)
    write_card_md(folder / "card.md", card)
    return card


def build_dataset(cfg: BuildConfig, solver: Callable | None = None, progress: bool = True,
                  batch_solver: Callable | None = None) -> dict:
    """Run the whole build (the steps of the module docstring); returns the dataset card.

    ``solver(seq, gender=...) -> IKResult`` and ``batch_solver(seqs, gender=...) -> [IKResult]``
    replace the IK (default ``model_runtime.ik.solve`` / ``solve_batch``); both must be
    module-level functions when ``workers > 1``.
    """
    _check_config(cfg)
    refs = _list_sources(cfg)
    drops: Counter = Counter()  # (source, reason) -> clips
    items = _select(refs, cfg, drops)
    if not items:
        raise SignAvatarError(f"no clips left to build after the language and gloss filters (min_samples "
                              f"{cfg.min_samples}); try --min-samples 1 or --language any. Dropped: "
                              + ", ".join(f"{r} ({n})" for (_, r), n in drops.most_common(5)))
    _decide_mirroring(items, cfg, progress)
    ident = _place_in_cache(items, cfg, solver)
    run_ik(items, cfg, solver, batch_solver, progress)
    out = _judge_clips(items, cfg, drops)
    _split(out, cfg, drops)
    return _write(out, cfg, drops, ident)
