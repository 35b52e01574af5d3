"""SMPL-X joint tree, our own rest skeletons, and batched forward kinematics.

Conventions (the same as the SMPL-X body model, so a user's SMPL-X file drops in):

* 55 joints in SMPL-X order (:data:`JOINT_NAMES`), parents in :data:`PARENTS`.
* Rest pose: T-pose, metres, **Y-up**, body facing **+Z**, the body's left on **+X**.
  Arms straight along +-X, palms facing down (-Y), hands flat (the "flat hand" convention:
  a zero finger rotation means a straight finger, not SMPL-X's mean hand).
* Every joint's rest frame is aligned with the world axes (as in SMPL-X): a joint's
  local rotation is applied about the joint in the parent's frame, and a pose of all-zero
  axis-angles is exactly the rest pose.
* The pelvis joint sits at the origin; the floor is at ``y = rest.floor_y`` (< 0).

The rest skeletons are ours, not SMPL-X's (whose model files are licensed). Segment
lengths are fractions of stature H from the Drillis & Contini segment model as tabulated
in D. A. Winter, *Biomechanics and Motor Control of Human Movement* (4th ed., 2009,
fig. 4.1): hip 0.530 H, knee 0.285 H, ankle 0.039 H, shoulder 0.818 H, chin 0.870 H,
eyes 0.936 H, upper arm 0.186 H, forearm 0.146 H, hand 0.108 H, foot 0.152 H, shoulder
width 0.259 H. Upper arm and forearm are taken between joint centres (0.174 H, 0.140 H;
the surface landmarks of the table sit outside the joint centres), which gives an arm
span of 1.04 H, close to the measured 1.00-1.06 H. Hand proportions (palm 0.45 of hand length; finger lengths relative to
the middle finger: index 0.92, ring 0.95, little 0.76; phalanx ratios 0.50 : 0.28 : 0.22)
follow Buchholz, Armstrong & Goldstein, *J. Biomech.* 25(2), 1992. Statures: 1.70 m
(neutral), 1.63 m (female), 1.77 m (male), close to adult means of the NCD-RisC
height survey; female rest skeletons have narrower shoulders and wider hips.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "jaw", "left_eye_smplhf", "right_eye_smplhf",
    "left_index1", "left_index2", "left_index3", "left_middle1", "left_middle2", "left_middle3",
    "left_pinky1", "left_pinky2", "left_pinky3", "left_ring1", "left_ring2", "left_ring3",
    "left_thumb1", "left_thumb2", "left_thumb3",
    "right_index1", "right_index2", "right_index3", "right_middle1", "right_middle2", "right_middle3",
    "right_pinky1", "right_pinky2", "right_pinky3", "right_ring1", "right_ring2", "right_ring3",
    "right_thumb1", "right_thumb2", "right_thumb3",
)

PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 15, 15, 15,
    20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38,
    21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21, 52, 53,
)

NUM_JOINTS = 55
JOINT_INDEX: dict[str, int] = {n: i for i, n in enumerate(JOINT_NAMES)}
FINGERS = ("index", "middle", "pinky", "ring", "thumb")  # SMPL-X order within a hand
GENDERS = ("neutral", "female", "male")

# Joints that carry signing: spine upwards, arms, hands, head and jaw (no legs, no eyes).
SIGNING_JOINTS: tuple[str, ...] = tuple(
    n for n in JOINT_NAMES
    if not any(k in n for k in ("hip", "knee", "ankle", "foot", "eye"))
)

assert len(JOINT_NAMES) == NUM_JOINTS and len(PARENTS) == NUM_JOINTS
assert all(p < i for i, p in enumerate(PARENTS))  # topological order: parents come first


@dataclass(frozen=True)
class BodyProportions:
    """Stature and the few sex-dependent width ratios (fractions of stature)."""

    stature: float
    shoulder_width: float  # between the glenohumeral joint centres
    hip_width: float  # between the hip joint centres
    hand_scale: float = 1.0


PROPORTIONS = {
    "neutral": BodyProportions(stature=1.70, shoulder_width=0.205, hip_width=0.105),
    "female": BodyProportions(stature=1.63, shoulder_width=0.195, hip_width=0.112, hand_scale=0.97),
    "male": BodyProportions(stature=1.77, shoulder_width=0.212, hip_width=0.100, hand_scale=1.01),
}


@dataclass(frozen=True)
class RestSkeleton:
    """A T-pose skeleton in SMPL-X order: joint positions and end sites, metres, Y-up.

    ``joints``: (55, 3) rest joint positions, pelvis at the origin.
    ``end_sites``: joint name -> (3,) rest position of the segment's far end for joints
    that have no child along the segment (fingertips, toes, head top, chin, eye front).
    ``floor_y``: height of the floor in the same frame.
    """

    gender: str
    joints: np.ndarray
    end_sites: dict
    floor_y: float

    @property
    def offsets(self) -> np.ndarray:
        """(55, 3) offset of each joint from its parent (the root's is its position)."""
        off = self.joints.copy()
        for j, p in enumerate(PARENTS):
            if p >= 0:
                off[j] = self.joints[j] - self.joints[p]
        return off

    def bone_lengths(self) -> np.ndarray:
        """(55,) distance from each joint to its parent (0 for the root)."""
        off = self.offsets
        off[0] = 0.0
        return np.linalg.norm(off, axis=-1)


def _hand(prefix: str, side: float, wrist: np.ndarray, hand_len: float) -> tuple[dict, dict]:
    """Finger joints of one flat hand, fingers along side*X, palm down, thumb forward (+Z)."""
    pts: dict[str, np.ndarray] = {}
    tips: dict[str, np.ndarray] = {}
    palm = 0.45 * hand_len
    finger = 0.55 * hand_len  # middle finger, MCP to tip
    # (finger, relative length, forward offset of the MCP in hand lengths, MCP set-back)
    layout = {
        "index": (0.92, 0.160, 0.02),
        "middle": (1.00, 0.050, 0.0),
        "ring": (0.95, -0.055, 0.02),
        "pinky": (0.76, -0.150, 0.06),
    }
    x = np.array([side, 0.0, 0.0])
    for name, (rel, fwd, back) in layout.items():
        length = finger * rel
        mcp = wrist + x * (palm - back * hand_len) + np.array([0.0, -0.005, fwd * hand_len])
        seg = np.array([0.50, 0.28, 0.22]) * length
        pts[f"{prefix}_{name}1"] = mcp
        pts[f"{prefix}_{name}2"] = mcp + x * seg[0]
        pts[f"{prefix}_{name}3"] = mcp + x * (seg[0] + seg[1])
        tips[f"{prefix}_{name}3"] = mcp + x * seg.sum()
    # thumb: CMC near the wrist, pointing forward-outward and slightly down
    d = np.array([side * 0.62, -0.22, 0.75])
    d /= np.linalg.norm(d)
    cmc = wrist + np.array([side * 0.11 * hand_len, -0.012, 0.10 * hand_len])
    seg = np.array([0.25, 0.20, 0.17]) * hand_len
    pts[f"{prefix}_thumb1"] = cmc
    pts[f"{prefix}_thumb2"] = cmc + d * seg[0]
    pts[f"{prefix}_thumb3"] = cmc + d * (seg[0] + seg[1])
    tips[f"{prefix}_thumb3"] = cmc + d * seg.sum()
    return pts, tips


def _build(gender: str) -> RestSkeleton:
    prop = PROPORTIONS[gender]
    H = prop.stature
    y = lambda frac: frac * H  # noqa: E731 - height above the floor
    p: dict[str, np.ndarray] = {}
    hx = prop.hip_width * H / 2
    sx = prop.shoulder_width * H / 2
    p["pelvis"] = np.array([0.0, y(0.565), -0.005])
    for side, s in (("left", 1.0), ("right", -1.0)):
        p[f"{side}_hip"] = np.array([s * hx, y(0.530), 0.0])
        p[f"{side}_knee"] = np.array([s * hx * 1.05, y(0.285), 0.005])
        p[f"{side}_ankle"] = np.array([s * hx * 1.10, y(0.039), -0.02 * H])
        p[f"{side}_foot"] = np.array([s * hx * 1.25, y(0.012), 0.070 * H])
    p["spine1"] = np.array([0.0, y(0.625), -0.012])
    p["spine2"] = np.array([0.0, y(0.690), -0.006])
    p["spine3"] = np.array([0.0, y(0.735), 0.000])
    p["neck"] = np.array([0.0, y(0.835), -0.012])
    p["head"] = np.array([0.0, y(0.885), 0.000])
    p["jaw"] = np.array([0.0, y(0.893), 0.012 * H])
    for side, s in (("left", 1.0), ("right", -1.0)):
        p[f"{side}_eye_smplhf"] = np.array([s * 0.0185 * H, y(0.936), 0.046 * H])
        p[f"{side}_collar"] = np.array([s * 0.045 * H, y(0.805), -0.005])
        sh = np.array([s * sx, y(0.810), -0.010])
        p[f"{side}_shoulder"] = sh
        p[f"{side}_elbow"] = sh + np.array([s * 0.174 * H, 0.0, 0.0])
        p[f"{side}_wrist"] = sh + np.array([s * (0.174 + 0.140) * H, 0.0, 0.0])
    tips: dict[str, np.ndarray] = {}
    for side, s in (("left", 1.0), ("right", -1.0)):
        hp, ht = _hand(side, s, p[f"{side}_wrist"], 0.108 * H * prop.hand_scale)
        p.update(hp)
        tips.update(ht)
        tips[f"{side}_foot"] = p[f"{side}_foot"] + np.array([0.0, 0.0, 0.045 * H])
        tips[f"{side}_eye_smplhf"] = p[f"{side}_eye_smplhf"] + np.array([0.0, 0.0, 0.012])
    tips["head"] = np.array([0.0, y(1.0), 0.0])
    tips["jaw"] = np.array([0.0, y(0.870), 0.045 * H])  # chin
    floor = -p["pelvis"][1]
    joints = np.stack([p[n] for n in JOINT_NAMES]) - p["pelvis"]
    tips = {k: (v - p["pelvis"]).astype(np.float64) for k, v in tips.items()}
    return RestSkeleton(gender=gender, joints=joints.astype(np.float64), end_sites=tips, floor_y=float(floor))


@lru_cache(maxsize=None)
def rest_skeleton(gender: str = "neutral") -> RestSkeleton:
    """Our rest skeleton for ``"neutral"``, ``"female"`` or ``"male"``."""
    from .errors import SignAvatarError

    if gender not in PROPORTIONS:
        raise SignAvatarError(f"unknown body '{gender}': expected one of {', '.join(GENDERS)}")
    return _build(gender)


@dataclass(frozen=True)
class FKOutput:
    """Result of :func:`forward_kinematics` (leading batch dims ``...`` as in the input)."""

    positions: "torch.Tensor"  # (..., 55, 3) world joint positions
    rotations: "torch.Tensor"  # (..., 55, 3, 3) world (global) rotation of each joint frame


def forward_kinematics(local_rotmats, rest_joints, trans=None) -> FKOutput:
    """Batched FK on the SMPL-X tree.

    ``local_rotmats``: (..., 55, 3, 3) rotation of each joint relative to its parent,
    ``rest_joints``: (55, 3) or (..., 55, 3) rest positions (any rest skeleton),
    ``trans``: optional (..., 3) translation added to every joint (SMPL-X ``transl``).
    """
    import torch

    if local_rotmats.shape[-3:] != (NUM_JOINTS, 3, 3):
        raise ValueError(f"expected (..., 55, 3, 3) rotation matrices, got {tuple(local_rotmats.shape)}")
    rest = torch.as_tensor(rest_joints, dtype=local_rotmats.dtype, device=local_rotmats.device)
    parents = torch.tensor(PARENTS[1:], device=rest.device)
    offsets = rest.clone()
    offsets[..., 1:, :] = rest[..., 1:, :] - rest[..., parents, :]
    batch = local_rotmats.shape[:-3]
    offsets = offsets.expand(*batch, NUM_JOINTS, 3)
    glob = [local_rotmats[..., 0, :, :]]
    pos = [offsets[..., 0, :]]
    for j in range(1, NUM_JOINTS):
        p = PARENTS[j]
        glob.append(glob[p] @ local_rotmats[..., j, :, :])
        pos.append(pos[p] + (glob[p] @ offsets[..., j, :, None])[..., 0])
    positions = torch.stack(pos, dim=-2)
    if trans is not None:
        positions = positions + torch.as_tensor(trans, dtype=positions.dtype, device=positions.device)[..., None, :]
    return FKOutput(positions=positions, rotations=torch.stack(glob, dim=-3))


def end_site_positions(fk: FKOutput, rest: RestSkeleton, names) -> "torch.Tensor":
    """(..., len(names), 3) world positions of the end sites of the named joints."""
    import torch

    out = []
    for n in names:
        j = JOINT_INDEX[n]
        off = torch.as_tensor(rest.end_sites[n] - rest.joints[j], dtype=fk.positions.dtype,
                              device=fk.positions.device)
        out.append(fk.positions[..., j, :] + (fk.rotations[..., j, :, :] @ off[:, None])[..., 0])
    return torch.stack(out, dim=-2)
