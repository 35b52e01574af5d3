"""Do the clips of a gloss show the same sign? A quality report over a built dataset.

Quality control per clip (:mod:`.qc`) checks the fit to the landmarks; it cannot see that a
source's HELLO is a salute where another's is a wave, or that the signing hand was lost for
most of a clip. This module compares the clips *of one gloss* with each other:

* **Shape of a clip**: elbows, wrists and the index, thumb and pinky tips of both arms by FK
  on the neutral rest skeleton, expressed in the **chest frame** (origin at the neck joint,
  axes of the ``spine3`` joint's global rotation; SMPL-X is Y-up, the body faces +Z), so the
  signer's posture and yaw towards the camera do not count; then resampled to
  :data:`PHASE_FRAMES` frames over the clip's own duration (time-normalised: a slow and a
  fast performance of the same movement are close). Distance between two clips = mean joint
  distance over those frames (metres).
* **Consensus** of a gloss: its medoid clip (smallest summed distance to the others; computed
  on at most ``max_medoid_clips`` seeded clips). Each clip's distance to it, against the
  gloss's robust spread (median + ``outlier_mads`` x 1.4826 x MAD), flags **outliers**.
* **Sources disagree**: for every source with at least ``min_source_clips`` clips of a gloss
  that also has other sources, the median distance of its clips to the gloss's medoid against
  the same median over the other sources' clips; a source with fewer than half of the clips and a
  ratio above ``disagree_ratio`` disagrees (the medoid follows the majority, so a minority source
  that signs it differently stands out; a majority source is only reported with its ratio).
* **Hand lost**: the dominant (right: clips are right-dominant after the build's mirroring)
  hand seen in less than ``hand_seen_min`` of the frames (``right_hand_seen_frac`` of the
  dataset index; the IK bridged the rest with a relaxed hand).

Nothing is dropped: the report says which clips and sources to look at (``data preview``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PHASE_FRAMES = 32
SHAPE_JOINTS = ("left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_index3", "right_index3",
                "left_thumb3", "right_thumb3", "left_pinky3", "right_pinky3")


@dataclass(frozen=True)
class ConsistencyConfig:
    min_clips: int = 5  # glosses with fewer clips are not judged
    max_medoid_clips: int = 200  # the medoid is searched among at most this many (seeded) clips
    outlier_mads: float = 3.0  # outlier: distance > median + this x 1.4826 x MAD
    min_source_clips: int = 3  # a source needs this many clips of a gloss to be compared with the others
    disagree_ratio: float = 1.5  # a source disagrees when its clips are this much farther from the others' medoid
    hand_seen_min: float = 0.5  # dominant hand seen in fewer frames than this share: "hand lost"
    seed: int = 0


@dataclass
class SourceAgreement:
    source: str
    clips: int
    distance: float  # median distance (m) of this source's clips to the gloss's medoid
    others_spread: float  # median distance (m) of the other sources' clips to it
    disagrees: bool

    @property
    def ratio(self) -> float:
        return self.distance / max(self.others_spread, 1e-9)


@dataclass
class GlossConsistency:
    gloss: str
    clips: int
    medoid: str  # clip_id
    spread: float  # median distance (m) of the gloss's clips to its medoid
    threshold: float  # outlier threshold (m)
    outliers: list[str] = field(default_factory=list)  # clip_ids
    hand_lost: list[str] = field(default_factory=list)  # clip_ids
    sources: list[SourceAgreement] = field(default_factory=list)

    @property
    def disagreeing_sources(self) -> list[SourceAgreement]:
        return [s for s in self.sources if s.disagrees]


def clip_shapes(poses_list) -> np.ndarray:
    """(T_i, 55, 3) axis-angle clips -> (N, PHASE_FRAMES, len(SHAPE_JOINTS), 3) chest-frame positions."""
    import torch

    from .. import rotations as rot
    from ..model.features import time_resample
    from ..skeleton import JOINT_INDEX, forward_kinematics, rest_skeleton

    rest = rest_skeleton("neutral")
    rest_t = torch.as_tensor(rest.joints, dtype=torch.float32)
    keep = [JOINT_INDEX[n] for n in SHAPE_JOINTS]
    tips = {n: torch.as_tensor(rest.end_sites[n] - rest.joints[JOINT_INDEX[n]], dtype=torch.float32)
            for n in SHAPE_JOINTS if n.endswith("3")}
    chest, neck = JOINT_INDEX["spine3"], JOINT_INDEX["neck"]
    out = []
    with torch.no_grad():
        for poses in poses_list:
            fk = forward_kinematics(rot.axis_angle_to_matrix(torch.as_tensor(np.array(poses, np.float32))), rest_t)
            pos = fk.positions[:, keep].clone()
            for k, n in enumerate(SHAPE_JOINTS):
                if n in tips:  # fingertips: the end sites, not the last joints
                    pos[:, k] += fk.rotations[:, JOINT_INDEX[n]] @ tips[n]
            frame = fk.rotations[:, chest]  # (T, 3, 3) chest axes in world
            local = (pos - fk.positions[:, neck, None]) @ frame  # row vectors: R^T (p - neck)
            out.append(time_resample(local.reshape(len(local), -1), PHASE_FRAMES).reshape(PHASE_FRAMES, -1, 3))
    return torch.stack(out).numpy() if out else np.zeros((0, PHASE_FRAMES, len(SHAPE_JOINTS), 3), np.float32)


def shape_distances(a: np.ndarray, b: np.ndarray, chunk: int = 64) -> np.ndarray:
    """(N, M) mean joint distance (m) between shapes ``a`` (N, P, J, 3) and ``b`` (M, P, J, 3)."""
    rows = [np.linalg.norm(a[s:s + chunk, None] - b[None], axis=-1).mean((-1, -2)) for s in range(0, len(a), chunk)]
    return np.concatenate(rows) if rows else np.zeros((0, len(b)))


def _medoid(shapes: np.ndarray, rng: np.random.Generator, limit: int) -> int:
    pool = np.arange(len(shapes))
    if len(pool) > limit:
        pool = np.sort(rng.choice(pool, limit, replace=False))
    d = shape_distances(shapes[pool], shapes[pool])
    return int(pool[np.argmin(d.sum(1))])


def judge_gloss(gloss: str, clip_ids: list[str], sources: list[str], shapes: np.ndarray, hand_seen: np.ndarray,
                cfg: ConsistencyConfig) -> GlossConsistency:
    """The consistency of one gloss's clips (``shapes`` from :func:`clip_shapes`, in the same order)."""
    rng = np.random.default_rng([cfg.seed, len(clip_ids)])
    m = _medoid(shapes, rng, cfg.max_medoid_clips)
    d = shape_distances(shapes, shapes[m:m + 1])[:, 0]
    med = float(np.median(d))
    threshold = med + cfg.outlier_mads * 1.4826 * float(np.median(np.abs(d - med)))
    result = GlossConsistency(gloss=gloss, clips=len(clip_ids), medoid=clip_ids[m], spread=med, threshold=threshold,
                              outliers=[c for c, x in zip(clip_ids, d) if x > threshold],
                              hand_lost=[c for c, h in zip(clip_ids, hand_seen) if h < cfg.hand_seen_min])
    src = np.asarray(sources)
    names = sorted(set(sources))
    if len(names) < 2:
        return result
    for s in names:
        mine, others = np.flatnonzero(src == s), np.flatnonzero(src != s)
        if len(mine) < cfg.min_source_clips or len(others) < cfg.min_source_clips:
            continue
        dist, spread = float(np.median(d[mine])), float(np.median(d[others]))
        result.sources.append(SourceAgreement(source=s, clips=len(mine), distance=dist, others_spread=spread,
                                              disagrees=len(mine) < len(others) and dist > cfg.disagree_ratio * spread))
    return result


def check_dataset(ds, glosses=None, cfg: ConsistencyConfig = ConsistencyConfig(), progress: bool = False
                  ) -> list[GlossConsistency]:
    """Judge every gloss of the :class:`~.dataset.SignDataset` ``ds`` with at least ``cfg.min_clips`` clips
    (or only ``glosses``), both splits together."""
    from tqdm import tqdm

    from ..errors import SignAvatarError

    by_gloss: dict[str, list[int]] = {}
    for i, r in enumerate(ds.records):
        by_gloss.setdefault(r["gloss"], []).append(i)
    if glosses:
        unknown = sorted(set(glosses) - set(by_gloss))
        if unknown:
            raise SignAvatarError(f"{ds.root}: no clips of {', '.join(unknown)} in this dataset")
        chosen = list(dict.fromkeys(glosses))
    else:
        chosen = sorted(g for g, v in by_gloss.items() if len(v) >= cfg.min_clips)
    out = []
    for g in tqdm(chosen, desc="glosses", unit="gloss", disable=not progress, leave=False):
        idx = by_gloss[g]
        recs = [ds.records[i] for i in idx]
        shapes = clip_shapes([ds.clip_poses(i) for i in idx])
        seen = np.array([_float(r.get("right_hand_seen_frac"), 1.0) for r in recs])
        out.append(judge_gloss(g, [r["clip_id"] for r in recs], [r["source"] for r in recs], shapes, seen, cfg))
    return out


def _float(value, default: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return default
    return default if np.isnan(v) else v


def report_markdown(results: list[GlossConsistency], dataset_name: str, cfg: ConsistencyConfig, top: int = 40) -> str:
    """The report: a summary, the glosses with the most flagged clips, and every disagreeing source."""
    n_clips = sum(r.clips for r in results)
    n_out = sum(len(r.outliers) for r in results)
    n_hand = sum(len(r.hand_lost) for r in results)
    dis = [(r.gloss, s) for r in results for s in r.disagreeing_sources]
    lines = [f"# Gloss consistency: `{dataset_name}`", "",
             f"{len(results)} glosses with >= {cfg.min_clips} clips, {n_clips} clips. Clip shape: arms and hands in "
             f"the chest frame, time-normalised to {PHASE_FRAMES} frames; distance = mean joint distance.", "",
             f"- outliers (farther from the gloss's medoid than median + {cfg.outlier_mads:g} x 1.4826 x MAD): "
             f"**{n_out}** clips ({100 * n_out / max(n_clips, 1):.1f} %)",
             f"- dominant hand seen in < {cfg.hand_seen_min:.0%} of the frames: **{n_hand}** clips",
             f"- sources whose clips are > {cfg.disagree_ratio:g}x farther from the gloss's medoid than the other "
             f"sources' clips: **{len(dis)}** (gloss, source) pairs", "",
             "| gloss | clips | spread (mm) | outliers | hand lost | sources (distance to the medoid / the other "
             "sources') | medoid clip |", "|---|---|---|---|---|---|---|"]
    ranked = sorted(results, key=lambda r: -(len(r.outliers) + len(r.hand_lost) + 10 * len(r.disagreeing_sources))
                    / max(r.clips, 1))
    for r in ranked[:top]:
        src = ", ".join(f"{'**' if s.disagrees else ''}{s.source} {s.ratio:.2f}{'**' if s.disagrees else ''}"
                        for s in r.sources) or "one source"
        lines.append(f"| {r.gloss} | {r.clips} | {1000 * r.spread:.0f} | {len(r.outliers)} | {len(r.hand_lost)} | "
                     f"{src} | `{r.medoid}` |")
    if len(ranked) > top:
        lines.append(f"\n({len(ranked) - top} more glosses in `flagged.csv` and the JSON output)")
    if dis:
        lines += ["", "## Disagreeing sources", "", "| gloss | source | clips | to the medoid (mm) | other sources' (mm) |",
                  "|---|---|---|---|---|"]
        lines += [f"| {g} | {s.source} | {s.clips} | {1000 * s.distance:.0f} | {1000 * s.others_spread:.0f} |"
                  for g, s in dis]
    lines += ["", "Look at a flagged clip with `python -m model_runtime data preview` on its source landmarks "
              "(the `source_path` column of the dataset's `index.csv`)."]
    return "\n".join(lines) + "\n"


def flagged_rows(results: list[GlossConsistency]) -> list[dict]:
    """One row per flagged clip: gloss, clip_id, reason (outlier / hand_lost)."""
    rows = []
    for r in results:
        rows += [dict(gloss=r.gloss, clip_id=c, reason="outlier") for c in r.outliers]
        rows += [dict(gloss=r.gloss, clip_id=c, reason="hand_lost") for c in r.hand_lost]
    return rows
