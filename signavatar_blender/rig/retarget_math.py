"""SMPL-X motion <-> pose-bone rotations of any mapped humanoid rig, in world space (numpy only).

Frames and conventions:

* SMPL-X (``SignMotion``): Y-up, facing +Z, the body's left on +X, a T-pose with flat hands at rest;
  every joint's rest frame is the body frame, so a joint's global rotation ``G_j`` is simply the
  product of the local rotations down the chain (``G_j = G_parent(j) · R_j``).
* The target rig: everything in its **armature space** (``bone.matrix_local``, ``pose_bone.matrix``).
  ``S`` maps SMPL-X body axes to that space (:func:`..rig_math.smplx_to_armature`, read from the rig's
  rest skeleton), so a Y-up FBX rig under a rotated object and a Z-up Blender rig are treated alike.
* Quaternions are Blender's **WXYZ**; rotations act on column vectors.

Rest-pose compensation. The rig's rest pose is not SMPL-X's T-pose (A-pose arms, curled fingers,
rolled bones, local axes pointing anywhere). For mapped bone ``b`` (SMPL-X joint ``j``) we take two
*landmark vectors* attached to the bone — a primary one along the anatomical segment (this joint to
its main child's joint, from the heads of the mapped bones, or along the bone when the child is not
mapped) and a secondary one fixing the twist (the palm's width for hands and fingers, else the
body's forward or left axis) — in the rig's rest pose (``p_t``, ``s_t``) and in SMPL-X's T-pose
seen in armature space (``p_s``, ``s_s``). ``C_b`` is the rotation taking the first pair onto the
second (:func:`align`), and ``T_b = C_b · W_b⁰`` is the orientation bone ``b`` has when the
character stands in SMPL-X's T-pose (``W_b⁰``: its rest orientation in armature space). Posed:

    ``W_b = S · G_j · Sᵀ · T_b``

so every landmark vector of the rig points where SMPL-X's points (world directions match exactly;
segment lengths stay the rig's own).

From world to channels. Bone ``b`` moves with an *effective parent* ``m``: the nearest mapped bone
that carries it (its ancestor in a plain rig; measured for constraint-driven rigs such as Rigify,
see :mod:`.binding`), through bones that stay rigid relative to ``m``. With ``K_b = W_m⁰ᵀ · W_b⁰``
(the rest relation), Blender composes ``W_b = W_m · K_b · Q_b``, hence the pose-bone rotation

    ``Q_b = K_bᵀ · W_mᵀ · W_b``     (``W_m = I`` and ``K_b = W_b⁰`` for a bone nothing mapped moves).

A SMPL-X joint the rig has no bone for (two spine bones, no collar) is dropped deliberately: its
rotation reaches the next mapped bone below it through ``G``, so everything above keeps its world
orientation. A rig bone that plays no joint (twist bones, a fifth spine bone) stays at rest
relative to its parent and is never keyed.

Root motion: SMPL-X ``trans`` (metres) moves the bone mapped to the pelvis by ``k · S · trans``
armature units, ``k`` = the rig's body size over SMPL-X's (trunk plus leg lengths, so a 1.2 m
cartoon hops 1.2/1.7 as far); the ``location`` channel is that offset in the bone's rest frame.

The inverse (:func:`poses_from_world`) turns a rig's evaluated bone orientations back into SMPL-X
axis-angle, which is how mocap made on a Mixamo or Rigify skeleton becomes a ``SignMotion``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import quaternion as quat
from .bone_plan import MAIN_CHILD
from .rig_math import orthonormalize, smplx_to_armature

# SMPL-X body axes (Y-up, facing +Z, left +X)
LEFT, UP, FORWARD = np.eye(3)
PALM_JOINTS = ("wrist", "index", "middle", "ring", "pinky", "thumb")


@dataclass(frozen=True)
class SmplxRest:
    """SMPL-X rest skeleton as plain arrays (``model_runtime.skeleton.rest_skeleton``, Y-up, metres)."""

    names: tuple
    parents: tuple
    joints: np.ndarray  # (55, 3)
    end_sites: dict  # joint name -> (3,)


@dataclass(frozen=True)
class RigRest:
    """What the plan needs to know about the target rig, in its armature space (rest pose)."""

    joints: tuple  # SMPL-X joint index played by each mapped bone (slot order, SMPL-X order)
    rest_rot: np.ndarray  # (J, 3, 3) bone orientation at rest, ``W_b⁰``
    heads: np.ndarray  # (J, 3) bone heads at rest
    tails: np.ndarray  # (J, 3) bone tails at rest
    parent_slot: tuple  # effective parent's slot, -1 when no mapped bone moves the bone


@dataclass(frozen=True)
class RetargetPlan:
    """Everything keying needs, computed once per rig (see the module docstring for the symbols)."""

    joints: tuple
    parent_slot: tuple
    S: np.ndarray  # (3, 3) SMPL-X body axes -> armature space
    T: np.ndarray  # (J, 3, 3) bone orientations in SMPL-X's T-pose
    K: np.ndarray  # (J, 3, 3) rest relation to the effective parent
    rest_rot: np.ndarray  # (J, 3, 3)
    size_ratio: float  # k: rig body size (armature units) / SMPL-X body size (metres)
    root_slot: int  # slot of the bone mapped to the pelvis (-1: none)
    root_head: np.ndarray  # (3,) its head at rest
    smplx_parents: tuple


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    if n < 1e-12:
        raise ValueError("zero-length landmark vector")
    return v / n


def frame(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """Orthonormal frame with columns (primary, secondary ⟂ primary, primary × secondary)."""
    a = _unit(np.asarray(primary, float))
    s = np.asarray(secondary, float)
    b = _unit(s - (s @ a) * a)
    return np.stack([a, b, np.cross(a, b)], axis=1)


def align(p_from, s_from, p_to, s_to) -> np.ndarray:
    """The rotation taking direction ``p_from`` onto ``p_to`` and the plane of (``p``, ``s``) onto the other's."""
    return frame(p_to, s_to) @ frame(p_from, s_from).T


def fk_rotations(poses: np.ndarray, parents) -> np.ndarray:
    """(T, 55, 3) SMPL-X axis-angle local rotations -> (T, 55, 3, 3) global rotations ``G``."""
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim != 3 or poses.shape[-1] != 3 or poses.shape[1] != len(parents):
        raise ValueError(f"expected (T, {len(parents)}, 3) axis-angle, got {poses.shape}")
    local = quat.to_matrix(quat.from_axis_angle(poses))
    g = np.empty_like(local)
    for j, p in enumerate(parents):
        g[:, j] = local[:, j] if p < 0 else g[:, p] @ local[:, j]
    return g


def _side(name: str) -> str:
    return name.split("_", 1)[0] if name.startswith(("left_", "right_")) else ""


def _is_palm(name: str) -> bool:
    return any(name.startswith(f"{s}_{k}") for s in ("left", "right") for k in PALM_JOINTS)


class _Rests:
    """The rig's and SMPL-X's rest skeletons side by side, looked up by SMPL-X joint name; SMPL-X's in
    armature axes (``src``, metres). Raises ``ValueError`` when the rig lacks the joints that fix ``S``."""

    def __init__(self, rig: RigRest, smplx: SmplxRest):
        self.smplx = smplx
        self.names = smplx.names
        self.idx = {n: i for i, n in enumerate(self.names)}
        self.slot = {j: s for s, j in enumerate(rig.joints)}
        self.heads = np.asarray(rig.heads, float)
        self.tails = np.asarray(rig.tails, float)
        for need in ("pelvis", "left_shoulder", "right_shoulder"):
            if not self.has(need):
                raise ValueError(f"no bone for '{need}'")
        self.both_hips = self.has("left_hip") and self.has("right_hip")
        self.top = next((n for n in ("neck", "head", "spine3", "spine2") if self.has(n)), None)
        if self.top is None:
            raise ValueError("no bone for the neck, head or upper spine")
        s = smplx_to_armature(self.pelvis_point(True), self.head(self.top), self.head("left_shoulder"),
                              self.head("right_shoulder"))
        self.S = s
        self.src = smplx.joints @ s.T  # SMPL-X T-pose, armature axes (metres)
        self.src_end = {n: np.asarray(v, float) @ s.T for n, v in smplx.end_sites.items()}
        self.axes = {"left": s @ LEFT, "up": s @ UP, "forward": s @ FORWARD}
        self.src_pelvis = self.pelvis_point(False) @ s.T

    def has(self, n: str) -> bool:
        return self.idx[n] in self.slot

    def head(self, n: str) -> np.ndarray:
        return self.heads[self.slot[self.idx[n]]]

    def pelvis_point(self, rig_side: bool) -> np.ndarray:
        """Mid-hips when both hips are mapped, else the pelvis head (rig side, or SMPL-X in its own axes)."""
        j = self.smplx.joints
        if self.both_hips:
            return (0.5 * (self.head("left_hip") + self.head("right_hip")) if rig_side else
                    0.5 * (j[self.idx["left_hip"]] + j[self.idx["right_hip"]]))
        return self.head("pelvis") if rig_side else j[self.idx["pelvis"]]

    def point(self, n: str, rig_side: bool) -> np.ndarray:
        if n == "pelvis":
            return self.pelvis_point(True) if rig_side else self.src_pelvis
        return self.head(n) if rig_side else self.src[self.idx[n]]


def _segment(r: _Rests, b: int, j: int) -> tuple[np.ndarray, np.ndarray]:
    """The primary direction of bone ``b`` (joint ``j``): on the rig, and on SMPL-X."""
    name, src, heads = r.names[j], r.src, r.heads
    if name == "pelvis":
        up_joint = next(n for n in ("spine3", "spine2", "spine1", "neck", "head") if r.has(n))
        return r.head(up_joint) - r.pelvis_point(True), src[r.idx[up_joint]] - r.src_pelvis
    if name in MAIN_CHILD and r.has(MAIN_CHILD[name]):
        c = r.idx[MAIN_CHILD[name]]
        return heads[r.slot[c]] - heads[b], src[c] - src[j]
    p_t = r.tails[b] - heads[b]
    if name in r.src_end:
        return p_t, r.src_end[name] - src[j]
    if name in MAIN_CHILD:
        return p_t, src[r.idx[MAIN_CHILD[name]]] - src[j]
    raise ValueError(f"joint '{name}' has no segment direction")


def _secondary(r: _Rests, name: str, p_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The secondary direction (rig, SMPL-X): across the palm or the hips, else a body axis off the segment."""
    side, src, heads = _side(name), r.src, r.heads
    across = None
    if _is_palm(name) and r.has(f"{side}_index1") and r.has(f"{side}_pinky1"):
        i1, p1 = r.idx[f"{side}_index1"], r.idx[f"{side}_pinky1"]
        across = (heads[r.slot[i1]] - heads[r.slot[p1]], src[i1] - src[p1])
    elif name in ("pelvis", "left_hip", "right_hip") and r.both_hips:
        across = (r.head("left_hip") - r.head("right_hip"), src[r.idx["left_hip"]] - src[r.idx["right_hip"]])
    if across is not None and abs(_unit(across[1]) @ _unit(p_s)) < 0.8:
        return across
    axis = next(r.axes[a] for a in ("forward", "left", "up") if abs(r.axes[a] @ _unit(p_s)) < 0.8)
    return axis, axis


def _size_ratio(r: _Rests) -> float:
    """Rig size over SMPL-X size, measured along the trunk and the legs that are mapped."""
    pairs = [("pelvis", r.top)]
    for side in ("left", "right"):
        if r.has(f"{side}_hip") and r.has(f"{side}_knee") and r.has(f"{side}_ankle"):
            pairs += [(f"{side}_hip", f"{side}_knee"), (f"{side}_knee", f"{side}_ankle")]

    def length(rig_side: bool) -> float:
        return sum(float(np.linalg.norm(r.point(c, rig_side) - r.point(a, rig_side))) for a, c in pairs)

    return length(True) / length(False)


def make_plan(rig: RigRest, smplx: SmplxRest) -> RetargetPlan:
    """Rest-pose compensation for ``rig`` (raises ``ValueError`` when its rest skeleton is degenerate)."""
    r = _Rests(rig, smplx)
    rest_rot = orthonormalize(rig.rest_rot)
    t_frames = np.empty_like(rest_rot)
    for b, j in enumerate(rig.joints):
        p_t, p_s = _segment(r, b, j)
        s_t, s_s = _secondary(r, r.names[j], p_s)
        try:
            t_frames[b] = align(p_t, s_t, p_s, s_s) @ rest_rot[b]
        except ValueError as e:
            raise ValueError(f"{e} at the bone for '{r.names[j]}'") from None
    k_rel = np.empty_like(rest_rot)
    for b, m in enumerate(rig.parent_slot):
        k_rel[b] = rest_rot[b] if m < 0 else rest_rot[m].T @ rest_rot[b]
    root = r.slot.get(r.idx["pelvis"], -1)
    return RetargetPlan(joints=tuple(rig.joints), parent_slot=tuple(int(p) for p in rig.parent_slot), S=r.S,
                        T=t_frames, K=k_rel, rest_rot=rest_rot, size_ratio=float(_size_ratio(r)), root_slot=root,
                        root_head=r.heads[root].copy() if root >= 0 else np.zeros(3),
                        smplx_parents=tuple(smplx.parents))


def world_rotations(plan: RetargetPlan, poses: np.ndarray) -> np.ndarray:
    """(T, 55, 3) SMPL-X axis-angle -> (T, J, 3, 3) armature-space orientations ``W_b = S G_j Sᵀ T_b``."""
    g = fk_rotations(poses, plan.smplx_parents)[:, list(plan.joints)]
    return plan.S @ g @ plan.S.T @ plan.T[None]


def bone_quaternions(plan: RetargetPlan, poses: np.ndarray) -> np.ndarray:
    """(T, 55, 3) SMPL-X axis-angle -> (T, J, 4) WXYZ pose-bone rotations ``Q_b = K_bᵀ W_mᵀ W_b``, continuous."""
    w = world_rotations(plan, poses)
    parent = np.array(plan.parent_slot)
    wm = np.where((parent >= 0)[None, :, None, None], w[:, np.maximum(parent, 0)], np.eye(3))
    q = np.swapaxes(plan.K, -1, -2)[None] @ np.swapaxes(wm, -1, -2) @ w
    return quat.make_continuous(quat.from_matrix(q), axis=0)


def root_locations(plan: RetargetPlan, trans: np.ndarray) -> np.ndarray:
    """(T, 3) SMPL-X ``trans`` (metres, Y-up) -> the root bone's ``location`` channel (its rest frame)."""
    if plan.root_slot < 0:
        raise ValueError("the rig has no bone for the pelvis")
    delta = plan.size_ratio * (np.asarray(trans, dtype=np.float64) @ plan.S.T)
    return delta @ plan.rest_rot[plan.root_slot]  # rows: (W⁰ᵀ · delta)ᵀ


def poses_from_world(plan: RetargetPlan, world: np.ndarray) -> np.ndarray:
    """Inverse of :func:`world_rotations`: (T, J, 3, 3) rig orientations -> (T, 55, 3) SMPL-X axis-angle.

    Joints the rig has no bone for get no local rotation (they follow their parent).
    """
    world = orthonormalize(np.asarray(world, dtype=np.float64))
    n = len(plan.smplx_parents)
    g_mapped = plan.S.T @ world @ np.swapaxes(plan.T, -1, -2)[None] @ plan.S
    slot = {j: s for s, j in enumerate(plan.joints)}
    g = np.empty((world.shape[0], n, 3, 3))
    local = np.empty_like(g)
    for j, p in enumerate(plan.smplx_parents):
        gp = np.eye(3)[None] if p < 0 else g[:, p]
        g[:, j] = g_mapped[:, slot[j]] if j in slot else gp
        local[:, j] = np.swapaxes(gp, -1, -2) @ g[:, j]
    return quat.to_axis_angle(quat.from_matrix(local))


def trans_from_root(plan: RetargetPlan, root_heads: np.ndarray) -> np.ndarray:
    """(T, 3) armature-space heads of the root bone -> SMPL-X ``trans`` (metres, Y-up)."""
    delta = np.asarray(root_heads, dtype=np.float64) - plan.root_head
    return (delta @ plan.S) / plan.size_ratio
