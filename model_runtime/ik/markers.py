"""Where each MediaPipe landmark sits on our skeleton (the marker model).

A marker is a point fixed in one joint's frame: ``position = P_joint + G_joint @ offset``,
with the offset taken in the rest pose (rest frames are world-aligned, so an offset is just
``rest_marker - rest_joint``). Joints of the arms and hands map one to one (MediaPipe Hand
0 = wrist, 1-4 thumb CMC/MCP/IP/tip, 5-8 index MCP/PIP/DIP/tip, ... ; fingertips are the
rest skeleton's end sites). The face and hip landmarks are not joints: their rest places
are calibrated to MediaPipe's own conventions, measured on the 229 real-camera clips of
the shared dictionary videos (frontal medians, in units of the 2-D shoulder width W):
eyes +-0.111 W wide and 0.690 W above the shoulder line, ears +-0.200 W / 0.632 W, nose
0.588 W, mouth corners +-0.085 W / 0.466 W; hips +-0.32 W wide, 1.48 W below the
shoulders. Depths of the face points (nose 0.11 m, eyes 0.08 m, mouth 0.085 m in front of
the ear line) are adult anthropometric averages.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..skeleton import JOINT_INDEX, RestSkeleton, rest_skeleton

# MediaPipe Pose indices used by the IK
NOSE, L_EYE, R_EYE, L_EAR, R_EAR, MOUTH_L, MOUTH_R = 0, 2, 5, 7, 8, 9, 10
L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 11, 12, 13, 14, 15, 16
L_PINKY, R_PINKY, L_INDEX, R_INDEX, L_THUMB, R_THUMB = 17, 18, 19, 20, 21, 22
L_HIP, R_HIP = 23, 24

# MediaPipe Hand landmark -> (joint suffix, is end site)
HAND_JOINTS = (
    ("wrist", False),
    ("thumb1", False), ("thumb2", False), ("thumb3", False), ("thumb3", True),
    ("index1", False), ("index2", False), ("index3", False), ("index3", True),
    ("middle1", False), ("middle2", False), ("middle3", False), ("middle3", True),
    ("ring1", False), ("ring2", False), ("ring3", False), ("ring3", True),
    ("pinky1", False), ("pinky2", False), ("pinky3", False), ("pinky3", True),
)

# Body markers in the metric of the body reprojection error (shoulders, elbows, wrists, face).
BODY_METRIC_POSE = (L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST, NOSE, L_EYE, R_EYE, L_EAR, R_EAR)


@dataclass(frozen=True)
class MarkerSet:
    """Markers as arrays: ``joint`` (M,) joint index, ``offset`` (M, 3) metres in that joint's
    rest frame, ``pose_index`` (M,) MediaPipe pose index or -1, ``hand`` (M,) 0 left / 1 right /
    -1 body, ``hand_index`` (M,) MediaPipe Hand index or -1, ``weight`` (M,) base weight,
    ``group`` (M,) one of "body", "face", "hip", "posehand", "hand"."""

    joint: np.ndarray
    offset: np.ndarray
    pose_index: np.ndarray
    hand: np.ndarray
    hand_index: np.ndarray
    weight: np.ndarray
    group: np.ndarray
    names: tuple

    def __len__(self) -> int:
        return len(self.joint)

    def select(self, group: str) -> np.ndarray:
        return np.nonzero(self.group == group)[0]


def head_marker_rest(rest: RestSkeleton) -> dict[int, np.ndarray]:
    """Rest world positions of the face landmarks (pose indices), see the module docstring."""
    J = JOINT_INDEX
    ls, rs = rest.joints[J["left_shoulder"]], rest.joints[J["right_shoulder"]]
    W = float(np.linalg.norm(ls - rs))
    y0 = float((ls[1] + rs[1]) / 2)
    zh = float(rest.joints[J["head"]][2])
    ear_z = zh - 0.005
    pts = {
        NOSE: (0.0, 0.588, ear_z + 0.110),
        L_EYE: (0.111, 0.690, ear_z + 0.080), R_EYE: (-0.111, 0.690, ear_z + 0.080),
        L_EAR: (0.200, 0.632, ear_z), R_EAR: (-0.200, 0.632, ear_z),
        MOUTH_L: (0.085, 0.466, ear_z + 0.085), MOUTH_R: (-0.085, 0.466, ear_z + 0.085),
    }
    return {k: np.array([x * W, y0 + y * W, z]) for k, (x, y, z) in pts.items()}


def hip_marker_rest(rest: RestSkeleton) -> dict[int, np.ndarray]:
    J = JOINT_INDEX
    ls, rs = rest.joints[J["left_shoulder"]], rest.joints[J["right_shoulder"]]
    W = float(np.linalg.norm(ls - rs))
    y = float((ls[1] + rs[1]) / 2) - 1.48 * W
    return {L_HIP: np.array([0.32 * W, y, 0.0]), R_HIP: np.array([-0.32 * W, y, 0.0])}


@lru_cache(maxsize=None)
def marker_set(gender: str = "neutral") -> MarkerSet:
    rest = rest_skeleton(gender)
    J = JOINT_INDEX
    rows = []  # (name, joint, offset, pose_index, hand, hand_index, weight, group)

    def jpos(name):
        return rest.joints[J[name]]

    for side, s, (sh, el, wr) in (("left", 0, (L_SHOULDER, L_ELBOW, L_WRIST)),
                                  ("right", 1, (R_SHOULDER, R_ELBOW, R_WRIST))):
        rows.append((f"pose_{side}_shoulder", J[f"{side}_shoulder"], np.zeros(3), sh, -1, -1, 1.0, "body"))
        rows.append((f"pose_{side}_elbow", J[f"{side}_elbow"], np.zeros(3), el, -1, -1, 1.0, "body"))
        rows.append((f"pose_{side}_wrist", J[f"{side}_wrist"], np.zeros(3), wr, -1, -1, 1.0, "body"))
    for idx, pos in head_marker_rest(rest).items():
        w = {NOSE: 1.0, L_EYE: 0.6, R_EYE: 0.6, L_EAR: 0.6, R_EAR: 0.6}.get(idx, 0.3)
        rows.append((f"pose_face{idx}", J["head"], pos - jpos("head"), idx, -1, -1, w, "face"))
    for idx, pos in hip_marker_rest(rest).items():
        rows.append((f"pose_hip{idx}", J["pelvis"], pos - jpos("pelvis"), idx, -1, -1, 0.1, "hip"))
    # the pose model's coarse hand points, used only while the hand model lost the hand
    for side, pts in (("left", ((L_INDEX, "index1"), (L_PINKY, "pinky1"), (L_THUMB, "thumb2"))),
                      ("right", ((R_INDEX, "index1"), (R_PINKY, "pinky1"), (R_THUMB, "thumb2")))):
        for idx, jn in pts:
            rows.append((f"pose_{side}_{jn}", J[f"{side}_wrist"], jpos(f"{side}_{jn}") - jpos(f"{side}_wrist"),
                         idx, -1, -1, 0.3, "posehand"))
    for side, s in (("left", 0), ("right", 1)):
        for h, (jn, tip) in enumerate(HAND_JOINTS):
            name = f"{side}_{jn}"
            off = (rest.end_sites[name] - jpos(name)) if tip else np.zeros(3)
            rows.append((f"hand_{side}_{h}", J[name], off, -1, s, h, 1.0, "hand"))
    names, joint, offset, pidx, hand, hidx, weight, group = zip(*rows)
    return MarkerSet(joint=np.array(joint), offset=np.array(offset, dtype=np.float64), pose_index=np.array(pidx),
                     hand=np.array(hand), hand_index=np.array(hidx), weight=np.array(weight, dtype=np.float64),
                     group=np.array(group), names=tuple(names))
