"""Create the built-in avatar in Blender: armature + skinned body mesh + materials.

Thin bpy adapter over the numpy modules :mod:`..rig.bone_plan` (bones) and
:mod:`.mesh` (mesh, materials, weights). The armature object sits at the world
origin with identity transform; its bones carry the 55 SMPL-X joint names.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import bpy
import numpy as np

from .. import runtime_bridge as bridge
from ..rig.bone_plan import BonePlan, plan_bones
from ..runtime_bridge import deps
from . import BODY_PROP
from .body_shape import MATERIALS
from .mesh import AvatarMesh, cached_avatar_mesh

# sRGB display colours of the built-in materials (converted to linear for Blender)
COLOURS = {
    "skin": (198, 150, 120), "shirt": (58, 74, 102), "trousers": (62, 62, 70), "shoes": (38, 38, 42),
    "hair": (58, 42, 34), "eyes": (28, 26, 30), "lips": (166, 98, 90),
}
ROUGHNESS = {"eyes": 0.15, "lips": 0.45}


def _linear(c: int) -> float:
    c = c / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def body_plan(gender: str) -> BonePlan:
    sk = bridge.runtime("skeleton")
    rest = sk.rest_skeleton(gender)
    return plan_bones(rest.joints, rest.end_sites, rest.floor_y, sk.JOINT_NAMES, sk.PARENTS)


def _cache_folder() -> Path | None:
    """Where built meshes are kept between sessions: the add-on's user folder (None outside an add-on)."""
    if not deps.ADDON:
        return None
    try:
        return Path(bpy.utils.extension_path_user(deps.ADDON, path="avatar_cache", create=True))
    except (ValueError, RuntimeError, OSError):
        return None


@lru_cache(maxsize=None)
def _mesh_for(gender: str) -> AvatarMesh:
    return cached_avatar_mesh(body_plan(gender), gender, _cache_folder())


def material(name: str) -> bpy.types.Material:
    """The shared material ``SignAvatar <name>`` (created once per file)."""
    full = f"SignAvatar {name.capitalize()}"
    mat = bpy.data.materials.get(full)
    if mat is not None:
        return mat
    mat = bpy.data.materials.new(full)
    rgb = tuple(_linear(c) for c in COLOURS[name])
    mat.diffuse_color = (*rgb, 1.0)
    mat.roughness = ROUGHNESS.get(name, 0.6)
    mat.metallic = 0.0
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes.get("Principled BSDF")
    if bsdf is not None:
        bsdf.inputs["Base Color"].default_value = (*rgb, 1.0)
        bsdf.inputs["Roughness"].default_value = mat.roughness
    return mat


def _build_armature(name: str, plan: BonePlan, collection, view_layer) -> bpy.types.Object:
    arm = bpy.data.armatures.new(name)
    arm.display_type = "OCTAHEDRAL"
    obj = bpy.data.objects.new(name, arm)
    collection.objects.link(obj)
    previous = view_layer.objects.active
    view_layer.objects.active = obj
    with bpy.context.temp_override(active_object=obj, object=obj, view_layer=view_layer):
        bpy.ops.object.mode_set(mode="EDIT")
        try:
            bones = []
            for i, bone_name in enumerate(plan.names):
                eb = arm.edit_bones.new(bone_name)
                eb.head = plan.heads[i]
                eb.tail = plan.tails[i]
                eb.align_roll(plan.z_axis[i])
                bones.append(eb)
            for i, p in enumerate(plan.parents):  # second pass: parents
                if p >= 0:
                    bones[i].parent = bones[p]
                    bones[i].use_connect = False
        finally:
            bpy.ops.object.mode_set(mode="OBJECT")
    view_layer.objects.active = previous
    for pb in obj.pose.bones:
        pb.rotation_mode = "QUATERNION"
    obj.show_in_front = True
    return obj


def _build_mesh(name: str, data: AvatarMesh, rig: bpy.types.Object, collection) -> bpy.types.Object:
    me = bpy.data.meshes.new(name)
    me.from_pydata(data.verts.tolist(), [], data.quads.tolist())
    me.polygons.foreach_set("use_smooth", np.ones(len(data.quads), dtype=bool))
    for m in MATERIALS:
        me.materials.append(material(m))
    me.polygons.foreach_set("material_index", data.face_material.astype(np.int32))
    me.update()
    obj = bpy.data.objects.new(name, me)
    collection.objects.link(obj)
    obj.parent = rig
    for b, bone_name in enumerate(data.bone_names):
        vg = obj.vertex_groups.new(name=bone_name)
        w = data.weights[:, b]
        rows = np.flatnonzero(w > 0)
        q = np.round(w[rows] * 255).astype(np.int64)  # group equal weights: one call per level
        for level in np.unique(q):
            if level > 0:
                vg.add(rows[q == level].tolist(), level / 255.0, "REPLACE")
    mod = obj.modifiers.new("Armature", "ARMATURE")
    mod.object = rig
    return obj


def create_avatar(context, gender: str = "neutral", location=(0.0, 0.0, 0.0), body_mesh: bool = True
                  ) -> bpy.types.Object:
    """Add a built-in avatar (armature + skinned mesh) to the active collection; returns the armature.

    ``body_mesh=False`` adds the armature alone (no meshing: instant).
    """
    sk = bridge.runtime("skeleton")
    if gender not in sk.GENDERS:
        raise bridge.error()(f"unknown body '{gender}': expected one of {', '.join(sk.GENDERS)}")
    plan = body_plan(gender)
    data = _mesh_for(gender) if body_mesh else None
    collection = context.collection or context.scene.collection
    title = f"SignAvatar {gender.capitalize()}"
    rig = _build_armature(title, plan, collection, context.view_layer)
    rig[BODY_PROP] = gender
    rig.location = location
    if data is not None:
        _build_mesh(f"{title} Body", data, rig, collection)
    return rig
