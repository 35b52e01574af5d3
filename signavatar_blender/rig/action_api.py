"""The one place that knows how Blender's action API differs between versions.

* Blender 4.2 / 4.3: F-curves live on the action (``action.fcurves.new(path, index=, action_group=)``).
* Blender 4.4+: slotted (layered) actions: ``action.slots`` says which ID an animation is
  for and F-curves live in a channelbag: ``action.layers[0].strips[0].channelbag(slot)``;
  NLA strips and ``AnimData`` point at a slot too.
* Blender 5.0 removed the legacy ``action.fcurves``; the slotted path is the only one.

:func:`new_action` and :func:`new_fcurve` are the only functions the keying code calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import bpy

# RNA properties are not Python class attributes: ask the RNA description
SLOTTED = "slots" in bpy.types.Action.bl_rna.properties


@dataclass
class ActionTarget:
    """An action plus, on Blender 4.4+, the slot and channelbag that hold its F-curves."""

    action: bpy.types.Action
    slot: object = None
    channelbag: object = None

    def _groups(self):
        return self.channelbag.groups if self.channelbag is not None else self.action.groups


def new_action(name: str, obj: bpy.types.Object) -> ActionTarget:
    """A new, empty action meant for ``obj`` (an object-level action, e.g. an armature's pose)."""
    action = bpy.data.actions.new(name)
    if SLOTTED:
        slot = action.slots.new(id_type="OBJECT", name=obj.name)
        layer = action.layers.new("Layer")
        strip = layer.strips.new(type="KEYFRAME")
        return ActionTarget(action, slot, strip.channelbag(slot, ensure=True))
    action.id_root = "OBJECT"
    return ActionTarget(action)


def new_fcurve(target: ActionTarget, data_path: str, index: int, group: str) -> bpy.types.FCurve:
    """An F-curve in ``target`` for ``data_path[index]``, grouped under ``group`` (e.g. the bone name)."""
    groups = target._groups()
    grp = groups.get(group) or groups.new(group)
    if target.channelbag is not None:
        fc = target.channelbag.fcurves.new(data_path, index=index)
        fc.group = grp
        return fc
    return target.action.fcurves.new(data_path, index=index, action_group=group)


def fcurves(target: ActionTarget):
    return target.channelbag.fcurves if target.channelbag is not None else target.action.fcurves


def push_down_active(obj: bpy.types.Object) -> None:
    """Move ``obj``'s active action onto an NLA track of its own (Blender's "Push Down"), so the NLA
    can drive the object without the user's keys being lost."""
    adt = obj.animation_data
    if adt is None or adt.action is None:
        return
    action = adt.action
    slot = getattr(adt, "action_slot", None)
    track = adt.nla_tracks.new()
    track.name = action.name
    strip = track.strips.new(action.name, int(action.frame_range[0]), action)
    if slot is not None and hasattr(strip, "action_slot"):
        strip.action_slot = slot
    adt.action = None


def add_nla_strip(obj: bpy.types.Object, target: ActionTarget, track_name: str, start: int,
                  name: str) -> bpy.types.NlaStrip:
    """Put the action on ``obj``'s NLA track ``track_name`` (created if needed) at frame ``start``.

    A new track is added on top when the strip would overlap one already on that track. Only tracks
    of that name above every other track are used: a track above the strip (a user's action pushed
    down after earlier signs, :func:`push_down_active`) would override the channels it keys.
    """
    adt = obj.animation_data or obj.animation_data_create()
    first, last = target.action.frame_range
    end = start + (last - first)

    def free(track) -> bool:
        return all(s.frame_end <= start or s.frame_start >= end for s in track.strips)

    # the first track of that name with room, else a new one on top of them (checked here rather than
    # by catching strips.new's failure, which Blender also prints as an "Error:" line on the console)
    tracks = list(adt.nla_tracks)  # bottom to top
    floor = max((i for i, t in enumerate(tracks) if t.name != track_name), default=-1)
    named = [t for t in tracks[floor + 1:] if t.name == track_name]
    track = next((t for t in named if free(t)), None)
    if track is None:
        track = adt.nla_tracks.new(prev=named[-1]) if named else adt.nla_tracks.new()
        track.name = track_name
    strip = track.strips.new(name, int(start), target.action)
    if target.slot is not None and hasattr(strip, "action_slot"):
        strip.action_slot = target.slot
    return strip
