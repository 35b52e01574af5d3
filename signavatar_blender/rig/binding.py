"""Bind any humanoid armature for retargeting, key SMPL-X motion on it and bake it back (thin bpy adapter).

:func:`bind` reads the rig once: its mapping (stored on the object by the panel, else detected,
:mod:`.mapping`), the mapped bones' rest orientations and each bone's *effective parent*
(:mod:`.retarget_math`). In a plain rig (FBX, VRM, a hand-made one: no constraints) that is the
nearest mapped ancestor. A rig driven by constraints (Rigify: FK controls hang from MCH bones that
copy other bones) is *measured* instead: every mapped bone is turned a little in turn and we see
which mapped bones follow, and whether rigidly (``warnings`` names those that follow only partly).
The rig's own settings that make it follow its FK controls (a preset's ``settings``) are applied
while measuring and keyed into every sign's action, so playback uses them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import bpy
import numpy as np

from .. import runtime_bridge as bridge
from . import mapping as mapping_mod
from . import retarget_math as rm
from .props import stored_mapping


@dataclass(frozen=True)
class RetargetBinding:
    """A humanoid rig bound for retargeting (compare :class:`..keying.RigBinding` for SMPL-X rigs)."""

    obj: bpy.types.Object
    mapping: mapping_mod.Mapping
    joints: tuple  # SMPL-X joint indices mapped, SMPL-X order
    bones: tuple  # matching bone names
    plan: rm.RetargetPlan
    translate: bool  # the pelvis bone takes root motion (not connected to its parent)
    settings: tuple  # mapping.Setting present on this rig
    unmapped: tuple  # SMPL-X joint names without a bone
    warnings: tuple
    measured: bool

    @property
    def missing_optional(self) -> tuple:
        return self.unmapped

    @property
    def root_bone(self) -> str | None:
        return self.bones[self.plan.root_slot] if self.plan.root_slot >= 0 else None


@lru_cache(maxsize=None)
def smplx_rest() -> rm.SmplxRest:
    sk = bridge.runtime("skeleton")
    rest = sk.rest_skeleton("neutral")
    return rm.SmplxRest(names=tuple(sk.JOINT_NAMES), parents=tuple(int(p) for p in sk.PARENTS),
                        joints=rest.joints, end_sites={k: np.asarray(v) for k, v in rest.end_sites.items()})


def _rot(m) -> np.ndarray:
    return np.array([[m[r][c] for c in range(3)] for r in range(3)], dtype=np.float64)


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angles (degrees) between rotation matrices (..., 3, 3)."""
    cos = (np.trace(np.swapaxes(a, -1, -2) @ b, axis1=-2, axis2=-1) - 1.0) / 2.0
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


_MEASURED: dict = {}  # the last measured rig (see bind)


def _needs_measuring(obj) -> bool:
    return any(len(pb.constraints) for pb in obj.pose.bones) or any(
        not b.use_inherit_rotation for b in obj.data.bones)


def _apply_settings(obj, settings) -> list:
    """Set the settings' properties; returns what to restore."""
    saved = []
    for s in settings:
        pb = obj.pose.bones[s.bone]
        saved.append((pb, s.prop, pb[s.prop]))
        pb[s.prop] = type(pb[s.prop])(s.value)
    return saved


def _measure(obj, names, settings):
    """Rest orientations/heads/tails of the named pose bones and each one's effective parent, measured."""
    from mathutils import Matrix, Vector

    pbs = [obj.pose.bones[n] for n in names]
    saved_basis = [pb.matrix_basis.copy() for pb in pbs]
    saved = _apply_settings(obj, settings)
    layer = bpy.context.view_layer

    def read():  # the evaluated copy: the original's pose lags one update behind
        layer.update()
        ev = obj.evaluated_get(bpy.context.evaluated_depsgraph_get()).pose.bones
        return np.stack([_rot(ev[n].matrix) for n in names])

    nudge = Matrix.Rotation(0.35, 4, Vector((0.48, 0.6, 0.64)).normalized())
    scene = bpy.context.scene
    try:
        scene.frame_set(scene.frame_current)  # drivers see the settings (Rigify's switches drive constraints)
        for pb in pbs:
            pb.matrix_basis = Matrix.Identity(4)
        w0 = read()
        ev = obj.evaluated_get(bpy.context.evaluated_depsgraph_get()).pose.bones
        heads = np.array([tuple(ev[n].head) for n in names])
        tails = np.array([tuple(ev[n].tail) for n in names])
        moved, after = [], []
        for pb in pbs:
            pb.matrix_basis = nudge
            w = read()
            pb.matrix_basis = Matrix.Identity(4)
            moved.append(_angle(w, w0) > 0.1)  # degrees; float32 noise is ~0.03
            after.append(w)
    finally:
        for pb, m in zip(pbs, saved_basis):
            pb.matrix_basis = m
        for pb, prop, value in saved:
            pb[prop] = value
        layer.update()
    movers = [[i for i in range(len(pbs)) if i != b and moved[i][b]] for b in range(len(pbs))]
    parent = [max(ms, key=lambda i: len(movers[i])) if ms else -1 for ms in movers]
    warnings = []
    for b, m in enumerate(parent):
        if m >= 0:
            predicted = after[m][m] @ w0[m].T @ w0[b]
            err = float(_angle(predicted, after[m][b]))
            if err > 0.5:
                warnings.append(f"'{names[b]}' follows '{names[m]}' only partly ({err:.1f}\u00b0 off)")
    return w0, heads, tails, tuple(parent), tuple(warnings)


def _from_hierarchy(obj, names):
    bones = obj.data.bones
    slot = {n: i for i, n in enumerate(names)}
    parent = []
    for n in names:
        b = bones[n].parent
        while b is not None and b.name not in slot:
            b = b.parent
        parent.append(slot[b.name] if b is not None else -1)
    rest = np.stack([_rot(bones[n].matrix_local) for n in names])
    heads = np.array([tuple(bones[n].head_local) for n in names])
    tails = np.array([tuple(bones[n].tail_local) for n in names])
    return rest, heads, tails, tuple(parent), ()


def bind(obj, mapping: mapping_mod.Mapping | None = None, smplx_problem: str = "") -> RetargetBinding:
    """Bind ``obj`` with ``mapping`` (default: the one stored on it, else detected).

    Raises one ``SignAvatarError`` naming every problem; the scene is left as it was.
    """
    err = bridge.error()
    rest = smplx_rest()
    bone_parents = {b.name: (b.parent.name if b.parent else None) for b in obj.data.bones}
    if mapping is None:
        mapping = stored_mapping(obj) or mapping_mod.detect(bone_parents)
    found = mapping_mod.problems(mapping, bone_parents, rest.names)
    if found:
        head = f"'{obj.name}' {smplx_problem} nor" if smplx_problem else f"'{obj.name}' is not"
        raise err(f"{head} a humanoid rig SignAvatar can map (best match: {mapping.source}): "
                  + "; ".join(found) + ". Map its bones in the SignAvatar panel (Avatar > Bone Mapping) "
                  "and press 'Use Selected Armature' again, or load a saved mapping")
    order = [j for j, n in enumerate(rest.names) if n in mapping.bones]
    names = [mapping.bones[rest.names[j]] for j in order]
    settings = tuple(s for s in mapping.settings if s.bone in obj.pose.bones and s.prop in obj.pose.bones[s.bone])
    measured = _needs_measuring(obj)
    if measured:  # measuring costs one depsgraph update per mapped bone: reuse it while the rig is unchanged
        key = (obj.as_pointer(), tuple(names), settings,
               np.array([tuple(map(tuple, obj.data.bones[n].matrix_local)) for n in names]).tobytes(),
               sum(len(pb.constraints) for pb in obj.pose.bones))
        if key not in _MEASURED:
            _MEASURED.clear()
            _MEASURED[key] = _measure(obj, names, settings)
        rot, heads, tails, parent, warnings = _MEASURED[key]
    else:
        rot, heads, tails, parent, warnings = _from_hierarchy(obj, names)
    problems = []
    for b, m in enumerate(parent):  # a mapped bone never moves with a bone of the other side or below it
        if m < 0:
            continue
        j, k = rest.names[order[b]], rest.names[order[m]]
        sides = {n.split("_", 1)[0] for n in (j, k) if n.startswith(("left_", "right_"))}
        a, below = rest.parents[order[m]], False
        while a >= 0:
            below = below or a == order[b]
            a = rest.parents[a]
        if len(sides) > 1 or below:
            problems.append(f"'{names[b]}' ({j}) moves with '{names[m]}' ({k})")
    if problems:
        raise err(f"'{obj.name}': the bone mapping contradicts the rig's hierarchy: " + "; ".join(problems[:6])
                  + ". Check left/right and the order of the bones in the SignAvatar panel (Avatar > Bone Mapping)")
    try:
        plan = rm.make_plan(rm.RigRest(joints=tuple(order), rest_rot=rot, heads=heads, tails=tails,
                                       parent_slot=parent), rest)
    except ValueError as e:
        raise err(f"'{obj.name}': cannot read its rest pose for retargeting ({e})") from None
    root = names[plan.root_slot]
    return RetargetBinding(obj=obj, mapping=mapping, joints=tuple(order), bones=tuple(names), plan=plan,
                           translate=not obj.data.bones[root].use_connect, settings=settings,
                           unmapped=mapping.unmapped(rest.names), warnings=warnings, measured=measured)


def channels(binding: RetargetBinding, motion):
    """``(quaternions (T, J, 4) WXYZ, root locations (T, 3) or None, constant channels)`` for ``motion``.

    Constant channels: ``(data path, index, value, group)`` for the rig settings held while signing.
    """
    quats = rm.bone_quaternions(binding.plan, motion.poses)
    loc = rm.root_locations(binding.plan, motion.trans) if binding.translate else None
    const = [(f'pose.bones["{bpy.utils.escape_identifier(s.bone)}"]["{bpy.utils.escape_identifier(s.prop)}"]',
              0, s.value, s.bone) for s in binding.settings]
    return quats, loc, const


def bake(context, binding: RetargetBinding, frames) -> tuple[np.ndarray, np.ndarray]:
    """The rig's evaluated motion over ``frames`` as SMPL-X ``(poses (T, 55, 3), trans (T, 3))``."""
    scene = context.scene
    obj = binding.obj
    pbs = [obj.pose.bones[b] for b in binding.bones]
    root = obj.pose.bones[binding.root_bone]
    world = np.empty((len(frames), len(pbs), 3, 3))
    heads = np.empty((len(frames), 3))
    current = scene.frame_current
    try:
        for t, f in enumerate(frames):
            scene.frame_set(f)
            world[t] = [_rot(pb.matrix) for pb in pbs]
            heads[t] = tuple(root.head)
    finally:
        scene.frame_set(current)
    poses = rm.poses_from_world(binding.plan, world)
    trans = rm.trans_from_root(binding.plan, heads)
    return poses, trans
