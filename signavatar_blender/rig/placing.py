"""Putting generated clips on the timeline: where each sign starts, and keying them one after another."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import runtime_bridge as bridge
from . import keying


@dataclass(frozen=True)
class Placement:
    """Plain values read from the scene before work starts (no Blender data)."""

    start: int
    after_last: bool
    gap: int
    speed: float
    scene_fps: float


def placement(context) -> Placement:
    p = context.scene.signavatar
    r = context.scene.render
    return Placement(start=int(p.start_frame), after_last=bool(p.after_last), gap=int(p.gap), speed=float(p.speed),
                     scene_fps=r.fps / r.fps_base)


def target_binding(context) -> keying.RigBinding:
    """The scene's target armature, checked (``SignAvatarError`` naming the problem otherwise)."""
    obj = context.scene.signavatar.armature
    if obj is not None and context.scene.objects.get(obj.name) is None:
        raise bridge.error()(f"the avatar '{obj.name}' is not in this scene: create an avatar or select one and "
                         "press 'Use Selected Armature'")
    return keying.bind(obj)


def validate(context, *problems: str) -> keying.RigBinding:
    """The target armature's binding, or one ``SignAvatarError`` naming ``problems`` and any armature problem."""
    found = [p for p in problems if p]
    binding = None
    try:
        binding = target_binding(context)
    except bridge.error() as e:
        found.append(str(e))
    if found:
        raise bridge.error()("; ".join(found))
    return binding


def key_all(context, binding, motions, where: Placement, name_suffix: str = "") -> list[keying.KeyedSign]:
    """Key ``motions`` one after another; extends the scene's frame range to show them all."""
    start = where.start
    if where.after_last:
        end = keying.last_strip_end(binding.obj)
        if end is not None:
            start = int(math.ceil(end)) + where.gap
    keyed = []
    for m in motions:
        k = keying.key_motion(binding, m, start=start, speed=where.speed, scene_fps=where.scene_fps,
                              name=(m.gloss or "Sign") + name_suffix)
        keyed.append(k)
        start = int(math.ceil(k.frame_end)) + where.gap
    scene = context.scene
    last = int(math.ceil(max(k.frame_end for k in keyed)))
    if scene.frame_end < last:
        scene.frame_end = last
    return keyed
