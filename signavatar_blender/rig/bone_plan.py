"""The built-in armature as plain data: bone names, heads, tails, parents, rolls (numpy only).

Built from one of our rest skeletons (``model_runtime.skeleton.rest_skeleton``), converted
from SMPL-X Y-up to Blender Z-up (``(x, y, z) -> (x, -z, y)``) and lifted so the floor is
at z = 0. Each bone starts at its joint and points at its main child joint (or its end
site), so the rig reads like a hand-made one; bone names are the 55 SMPL-X joint names.
``z_axis`` is the direction each bone's local Z axis is rolled towards: forward (-Y) for the
spine, legs and head, up (+Z) for the arms and fingers, so finger curl is a rotation about
the bone's X axis. Rest-orientation differences to SMPL-X are handled by
:mod:`.rig_math`, so these choices only affect what an animator sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rig_math import yup_to_zup

# joint -> the child joint its bone points at (joints not listed point at their end site)
MAIN_CHILD = {
    "pelvis": "spine1", "spine1": "spine2", "spine2": "spine3", "spine3": "neck", "neck": "head",
    "left_hip": "left_knee", "right_hip": "right_knee", "left_knee": "left_ankle", "right_knee": "right_ankle",
    "left_ankle": "left_foot", "right_ankle": "right_foot",
    "left_collar": "left_shoulder", "right_collar": "right_shoulder",
    "left_shoulder": "left_elbow", "right_shoulder": "right_elbow",
    "left_elbow": "left_wrist", "right_elbow": "right_wrist",
    "left_wrist": "left_middle1", "right_wrist": "right_middle1",
}
for _side in ("left", "right"):
    for _f in ("index", "middle", "ring", "pinky", "thumb"):
        MAIN_CHILD[f"{_side}_{_f}1"] = f"{_side}_{_f}2"
        MAIN_CHILD[f"{_side}_{_f}2"] = f"{_side}_{_f}3"

FORWARD = np.array([0.0, -1.0, 0.0])  # Blender: characters face -Y
UP = np.array([0.0, 0.0, 1.0])


@dataclass(frozen=True)
class BonePlan:
    """Bones in SMPL-X joint order, Blender armature space (Z-up, metres, floor at z = 0)."""

    names: tuple
    parents: tuple  # index of the parent bone, -1 for the root
    heads: np.ndarray  # (J, 3)
    tails: np.ndarray  # (J, 3)
    z_axis: np.ndarray  # (J, 3) direction the bone's Z axis is rolled towards
    floor_offset: float  # z added after the Y-up -> Z-up conversion

    def head(self, name: str) -> np.ndarray:
        return self.heads[self.names.index(name)]


def _is_limb_along_x(name: str) -> bool:
    return any(k in name for k in ("collar", "shoulder", "elbow", "wrist", "index", "middle", "ring",
                                   "pinky", "thumb"))


def plan_bones(joints_yup: np.ndarray, end_sites_yup: dict, floor_y: float, names, parents) -> BonePlan:
    """Bone table for a rest skeleton given in SMPL-X coordinates (Y-up, pelvis at the origin)."""
    joints_yup = np.asarray(joints_yup, dtype=np.float64)
    if joints_yup.shape != (len(names), 3):
        raise ValueError(f"expected ({len(names)}, 3) joints, got {joints_yup.shape}")
    lift = np.array([0.0, 0.0, -float(floor_y)])
    heads = yup_to_zup(joints_yup) + lift
    index = {n: i for i, n in enumerate(names)}
    tails = np.empty_like(heads)
    z_axis = np.empty_like(heads)
    for i, name in enumerate(names):
        if name in MAIN_CHILD:
            tails[i] = heads[index[MAIN_CHILD[name]]]
        elif name in end_sites_yup:
            tails[i] = yup_to_zup(end_sites_yup[name]) + lift
        else:
            raise ValueError(f"joint '{name}' has neither a main child nor an end site")
        if np.linalg.norm(tails[i] - heads[i]) < 1e-4:
            raise ValueError(f"bone '{name}' would have zero length")
        z_axis[i] = UP if _is_limb_along_x(name) else FORWARD
        if name in ("left_eye_smplhf", "right_eye_smplhf", "jaw", "left_foot", "right_foot",
                    "left_ankle", "right_ankle"):
            z_axis[i] = UP  # these bones point forward; roll their Z axis up
    return BonePlan(names=tuple(names), parents=tuple(int(p) for p in parents), heads=heads, tails=tails,
                    z_axis=z_axis, floor_offset=float(-floor_y))
