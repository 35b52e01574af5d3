"""Which hand is which: label repair from the data, and mirroring to a right-dominant signer.

Two different problems, handled by two functions:

1. **Labels that disagree with the body** (:func:`fix_hand_labels`). MediaPipe Holistic seeds
   each hand from a pose wrist, so in its own output the hand called ``left`` sits at pose
   point 15 (the left wrist). Some recorders stored the two hands in the other order; then
   the ``left_hand`` array sits at pose point 16. We decide from the data: per frame, the
   assignment of the two hand wrists (hand point 0) to pose points 15/16 that is shorter by a
   clear margin votes; the sequence follows the majority, and single frames that clearly
   contradict the majority are swapped on their own (tracking slips). Afterwards
   ``left_hand`` always sits on the pose's left arm.

2. **Mirrored images** (:func:`mirror`, :func:`normalise_dominant_hand`). A webcam image
   flipped before MediaPipe (a "selfie" preview) shows a mirror-image person: pose and hands
   agree with each other but both call the signer's right side "left". Landmarks alone cannot
   tell that from a left-handed signer. When the caller knows the video was mirrored it asks
   for :func:`mirror`; for training data the builder instead makes every clip read as a
   **right-handed signer** (the convention of ASL dictionaries): a clip whose left hand clearly
   does the signing (:func:`dominance` below ``-margin``) is mirrored. Mirroring maps
   ``x -> 1 - x`` (normalised image coordinates; ``pose_world`` ``x -> -x``) and exchanges every
   left/right pair of pose points, the two hands and the face's left/right points.

``seq.hands_swapped`` is True when the final ``left_hand`` array holds the points the
source labelled ``right_hand``; ``seq.meta`` records ``hand_labels_swapped``,
``hand_frames_swapped`` and ``mirrored``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .sequence import FACE_ORDER, LandmarkSequence

# MediaPipe Pose: index of the mirror partner of each of the 33 points.
POSE_MIRROR = (0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19, 22, 21, 24, 23,
               26, 25, 28, 27, 30, 29, 32, 31)
# FaceMesh mirror partners of the points in FACE_ORDER (points on the midline map to themselves).
_FACEMESH_PAIRS = ((61, 291), (40, 270), (37, 267), (91, 321), (84, 314), (78, 308), (81, 311), (178, 402),
                   (70, 300), (63, 293), (105, 334), (66, 296), (107, 336),
                   (33, 263), (133, 362), (159, 386), (145, 374))
_partner = {a: b for a, b in _FACEMESH_PAIRS} | {b: a for a, b in _FACEMESH_PAIRS}
FACE_MIRROR = tuple(FACE_ORDER.index(_partner.get(i, i)) for i in FACE_ORDER)

LEFT_WRIST, RIGHT_WRIST, LEFT_SHOULDER, RIGHT_SHOULDER = 15, 16, 11, 12


def image_xy(points: np.ndarray, image_size) -> np.ndarray:
    """x, y in units of image height (square pixels) when the size is known, else as stored."""
    xy = points[..., :2].astype(np.float64)
    if image_size:
        xy = xy * np.array([image_size[0] / image_size[1], 1.0])
    return xy


def shoulder_width(seq: LandmarkSequence) -> float:
    """Median 2D shoulder width (pose 11-12) in the units of :func:`image_xy`; NaN if never seen."""
    xy = image_xy(seq.pose, seq.image_size)
    w = np.linalg.norm(xy[:, LEFT_SHOULDER] - xy[:, RIGHT_SHOULDER], axis=-1)
    w = w[np.isfinite(w) & (w > 0)]
    return float(np.median(w)) if w.size else float("nan")


def hand_label_votes(seq: LandmarkSequence, margin: float = 0.25) -> np.ndarray:
    """Per frame: +1 labels agree with the pose wrists, -1 swapped, 0 undecided.

    A frame votes when at least one hand and both pose wrists are present and the better
    assignment is shorter by ``margin`` shoulder widths.
    """
    xy_pose = image_xy(seq.pose, seq.image_size)
    p15, p16 = xy_pose[:, LEFT_WRIST], xy_pose[:, RIGHT_WRIST]
    lw = image_xy(seq.left_hand[:, 0], seq.image_size)
    rw = image_xy(seq.right_hand[:, 0], seq.image_size)

    def dist(a, b):
        return np.linalg.norm(a - b, axis=-1)

    direct = np.nan_to_num(dist(lw, p15)) + np.nan_to_num(dist(rw, p16))
    swapped = np.nan_to_num(dist(lw, p16)) + np.nan_to_num(dist(rw, p15))
    sw = shoulder_width(seq)
    usable = (np.isfinite(p15).all(-1) & np.isfinite(p16).all(-1)
              & (np.isfinite(lw).all(-1) | np.isfinite(rw).all(-1)))
    if not np.isfinite(sw):
        return np.zeros(seq.num_frames, dtype=np.int8)
    diff = (swapped - direct) / sw
    votes = np.where(diff > margin, 1, np.where(diff < -margin, -1, 0)).astype(np.int8)
    votes[~usable] = 0
    return votes


def swap_hands(seq: LandmarkSequence, frames: np.ndarray | None = None) -> LandmarkSequence:
    """Exchange the two hand arrays (in ``frames``, a bool mask, or everywhere); nothing else moves."""
    lh, rh = seq.left_hand.copy(), seq.right_hand.copy()
    m = np.ones(seq.num_frames, dtype=bool) if frames is None else np.asarray(frames, dtype=bool)
    lh[m], rh[m] = seq.right_hand[m], seq.left_hand[m]
    return replace(seq, left_hand=lh, right_hand=rh, meta=dict(seq.meta))


def fix_hand_labels(seq: LandmarkSequence, margin: float = 0.25) -> LandmarkSequence:
    """Make ``left_hand`` the hand on the pose's left arm (see the module docstring)."""
    votes = hand_label_votes(seq, margin)
    n_direct, n_swapped = int((votes > 0).sum()), int((votes < 0).sum())
    whole = n_swapped > n_direct
    out = swap_hands(seq) if whole else replace(seq, meta=dict(seq.meta))
    # frames that still contradict the pose after the sequence-level decision
    contra = votes > 0 if whole else votes < 0
    if contra.any():
        out = swap_hands(out, contra)
    out.hands_swapped = bool(seq.hands_swapped) != whole
    out.meta.update(hand_labels_swapped=whole, hand_frames_swapped=int(contra.sum()),
                    hand_label_agreement=(max(n_direct, n_swapped) / (n_direct + n_swapped))
                    if n_direct + n_swapped else float("nan"), hand_wrist_gap=hand_wrist_gap(out))
    return out


def hand_wrist_gap(seq: LandmarkSequence) -> float:
    """Median distance, in shoulder widths, from each hand's wrist to its pose wrist (NaN if never both seen).

    About 0.1 in MediaPipe's own output; far larger means the hand points do not belong to this
    body (a broken recording), whatever their labels.
    """
    sw = shoulder_width(seq)
    gaps = []
    for hand, wrist in ((seq.left_hand, LEFT_WRIST), (seq.right_hand, RIGHT_WRIST)):
        d = np.linalg.norm(image_xy(hand[:, 0], seq.image_size) - image_xy(seq.pose[:, wrist], seq.image_size), axis=-1)
        gaps.append(d[np.isfinite(d)])
    d = np.concatenate(gaps)
    return float(np.median(d) / sw) if d.size and np.isfinite(sw) else float("nan")


def mirror(seq: LandmarkSequence) -> LandmarkSequence:
    """The mirror image of the whole sequence, relabelled so ``left`` is again the body's left."""
    def flip_x(a):
        a = a.copy()
        a[..., 0] = 1.0 - a[..., 0]
        return a

    pose = flip_x(seq.pose)[:, list(POSE_MIRROR)]
    face = flip_x(seq.face)[:, list(FACE_MIRROR)]
    pw = None
    if seq.pose_world is not None:
        pw = seq.pose_world[:, list(POSE_MIRROR)].copy()
        pw[..., 0] = -pw[..., 0]
    meta = dict(seq.meta)
    meta["mirrored"] = not bool(meta.get("mirrored", False))
    vis = meta.get("pose_visibility")
    if isinstance(vis, np.ndarray) and vis.shape == (seq.num_frames, len(POSE_MIRROR)):
        meta["pose_visibility"] = vis[:, list(POSE_MIRROR)]
    return replace(seq, pose=pose, face=face, left_hand=flip_x(seq.right_hand), right_hand=flip_x(seq.left_hand),
                   pose_world=pw, hands_swapped=not seq.hands_swapped, meta=meta)


def wrist_track(seq: LandmarkSequence, side: str) -> np.ndarray:
    """(T, 2) wrist in :func:`image_xy` units: the pose wrist, or the hand's wrist where the pose lacks it."""
    pose_w = image_xy(seq.pose[:, LEFT_WRIST if side == "left" else RIGHT_WRIST], seq.image_size)
    hand_w = image_xy((seq.left_hand if side == "left" else seq.right_hand)[:, 0], seq.image_size)
    return np.where(np.isfinite(pose_w).all(-1, keepdims=True), pose_w, hand_w)


def rest_line(seq: LandmarkSequence, below_shoulders: float = 1.1) -> float:
    """Image height (y, :func:`image_xy` units) below which a wrist counts as resting.

    ``below_shoulders`` shoulder widths under the shoulder line: about the waist, where hands
    hang or rest folded between signs.
    """
    xy = image_xy(seq.pose, seq.image_size)
    sh_y = np.nanmedian((xy[:, LEFT_SHOULDER, 1] + xy[:, RIGHT_SHOULDER, 1]) / 2)
    return float(sh_y + below_shoulders * shoulder_width(seq))


def dominance(seq: LandmarkSequence) -> float:
    """How much more the right hand signs than the left: > 0 right-dominant, < 0 left-dominant.

    Sum of three differences (right minus left), each within [-1, 1] or so: the mean height
    of the wrist above the :func:`rest_line` in shoulder widths (capped at 1), the share of
    frames in which the hand was detected, and the share of the total wrist path length.
    NaN when the shoulders are never seen.
    """
    sw = shoulder_width(seq)
    if not np.isfinite(sw):
        return float("nan")
    line = rest_line(seq)
    present = seq.hand_present()
    parts = {}
    for k, side in enumerate(("left", "right")):
        w = wrist_track(seq, side)
        elev = np.clip((line - w[:, 1]) / sw, 0.0, 1.0)
        elev = float(np.nanmean(elev)) if np.isfinite(elev).any() else 0.0
        steps = np.linalg.norm(np.diff(w, axis=0), axis=-1)
        path = float(np.nansum(steps)) / sw
        parts[side] = (elev, float(present[:, k].mean()), path)
    (el, pl, ml), (er, pr, mr) = parts["left"], parts["right"]
    motion = (mr - ml) / (mr + ml) if mr + ml > 0 else 0.0
    return (er - el) + (pr - pl) + motion


def normalise_dominant_hand(seq: LandmarkSequence, margin: float = 0.5) -> LandmarkSequence:
    """Mirror ``seq`` when its left hand clearly dominates (``dominance < -margin``); else return it as is."""
    score = dominance(seq)
    flip = bool(np.isfinite(score) and score < -margin)
    out = mirror(seq) if flip else replace(seq, meta=dict(seq.meta))
    out.meta["dominance"] = score  # of the sequence as given, before any mirroring
    out.meta.setdefault("mirrored", False)
    return out


def mirror_decisions(scores, groups, margin: float = 0.5, group_share: float = 0.75,
                     min_group_clips: int = 5) -> np.ndarray:
    """Which clips to mirror so that every clip reads as a right-handed signer.

    ``scores``: :func:`dominance` per clip; ``groups``: the recording set of each clip (the
    signer). A recording set with at least ``min_group_clips`` clearly decided clips
    (``|score| > margin``) of which ``group_share`` or more agree is one camera and one
    signer: all its clips follow the majority (a mirrored webcam mirrors every clip, and a
    right-handed signer's two-handed signs whose base hand moves more are left alone).
    Clips of other sets are decided one by one (mirrored when ``score < -margin``).
    """
    scores = np.asarray(scores, dtype=np.float64)
    groups = np.asarray(groups, dtype=object)
    if scores.shape != groups.shape:
        raise ValueError(f"{scores.shape} scores but {groups.shape} groups")
    own = np.isfinite(scores) & (scores < -margin)
    out = own.copy()
    for g in set(groups.tolist()):
        m = groups == g
        s = scores[m]
        left, right = int((s < -margin).sum()), int((s > margin).sum())
        if left + right < min_group_clips:
            continue
        if left >= group_share * (left + right):
            out[m] = True
        elif right >= group_share * (left + right):
            out[m] = False
    return out
