"""The editable bone mapping stored on an armature object (``object.signavatar_bones``).

One row per SMPL-X joint: the joint's name and the bone that plays it (empty: not mapped). It is
filled by *Use Selected Armature* from a preset or the heuristic, edited in the panel, saved with
the .blend file (so undo and reopening keep it), and read back by :func:`stored_mapping`.
"""

from __future__ import annotations

import json

import bpy
from bpy.props import CollectionProperty, StringProperty

from . import mapping as mapping_mod


class SignAvatarBoneMap(bpy.types.PropertyGroup):
    joint: StringProperty(name="Joint", description="The SMPL-X joint")
    bone: StringProperty(name="Bone", description="The rig's bone that plays this joint (empty: none)")


def stored_mapping(obj) -> mapping_mod.Mapping | None:
    """The mapping stored on ``obj``, or None when it has none."""
    rows = getattr(obj, "signavatar_bones", None)
    if not rows:
        return None
    try:
        settings = mapping_mod._settings(json.loads(obj.get("signavatar_mapping_settings", "[]")))
    except (ValueError, KeyError, TypeError):
        settings = ()
    return mapping_mod.Mapping(bones={r.joint: r.bone for r in rows if r.bone}, settings=settings,
                               source=obj.get("signavatar_mapping_source", "user"))


def store_mapping(obj, mapping: mapping_mod.Mapping, joint_names) -> None:
    """Write ``mapping`` onto ``obj``: a row for every SMPL-X joint, mapped or not."""
    rows = obj.signavatar_bones
    rows.clear()
    for j in joint_names:
        r = rows.add()
        r.joint, r.bone = j, mapping.bones.get(j, "")
    obj["signavatar_mapping_source"] = mapping.source
    obj["signavatar_mapping_settings"] = json.dumps(
        [{"bone": s.bone, "property": s.prop, "value": s.value} for s in mapping.settings])


def mapping_target(context):
    """The armature whose mapping the panel shows: the active armature, else the scene's target (or None)."""
    obj = context.active_object
    if obj is not None and obj.type == "ARMATURE":
        return obj
    target = context.scene.signavatar.armature
    return target if target is not None and target.type == "ARMATURE" else None


classes = (SignAvatarBoneMap,)


def register_props() -> None:
    bpy.types.Object.signavatar_bones = CollectionProperty(type=SignAvatarBoneMap)


def unregister_props() -> None:
    del bpy.types.Object.signavatar_bones
