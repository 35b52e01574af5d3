"""Bone mapping in the panel: detect it, fix it row by row, save it as JSON and load it on another rig."""

from __future__ import annotations

from pathlib import Path

import bpy
from bpy.props import StringProperty
from bpy_extras.io_utils import ExportHelper, ImportHelper

from .. import mr
from . import mapping as mapping_mod
from .props import store_mapping, stored_mapping


def _armature(context):
    obj = context.active_object
    if obj is not None and obj.type == "ARMATURE":
        return obj
    target = context.scene.signavatar.armature
    return target if target is not None and target.type == "ARMATURE" else None


def _joint_names():
    return mr.runtime("skeleton").JOINT_NAMES


class _OnArmature:
    @classmethod
    def poll(cls, context):
        if _armature(context) is None:
            cls.poll_message_set("Select an armature")
            return False
        return True


class SIGNAVATAR_OT_detect_mapping(_OnArmature, bpy.types.Operator):
    """Guess which bone plays which SMPL-X joint (presets: Rigify, Mixamo, VRM, Unreal; else by name), to review below"""

    bl_idname = "signavatar.detect_mapping"
    bl_label = "Detect Bone Mapping"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        obj = _armature(context)
        parents = {b.name: (b.parent.name if b.parent else None) for b in obj.data.bones}
        m = mapping_mod.detect(parents)
        store_mapping(obj, m, _joint_names())
        missing = mapping_mod.problems(m, parents, _joint_names())
        self.report({"WARNING" if missing else "INFO"},
                    f"'{obj.name}': {len(m.bones)} joints mapped ({m.source})"
                    + (f"; still to fix: {'; '.join(missing)}" if missing else ""))
        return {"FINISHED"}


class SIGNAVATAR_OT_save_mapping(_OnArmature, bpy.types.Operator, ExportHelper):
    """Save this armature's bone mapping as a JSON file, to load on another rig of the same kind"""

    bl_idname = "signavatar.save_mapping"
    bl_label = "Save Bone Mapping"
    filename_ext = ".json"
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})

    def execute(self, context):
        obj = _armature(context)
        m = stored_mapping(obj)
        if m is None:
            self.report({"ERROR"}, f"'{obj.name}' has no bone mapping yet: press 'Detect Bone Mapping' first")
            return {"CANCELLED"}
        try:
            path = mapping_mod.save(m, Path(bpy.path.abspath(self.filepath)))
        except OSError as e:
            self.report({"ERROR"}, f"Could not write {self.filepath}: {e}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"Saved {path.name}")
        return {"FINISHED"}


class SIGNAVATAR_OT_load_mapping(_OnArmature, bpy.types.Operator, ImportHelper):
    """Load a bone mapping (a saved mapping or a preset JSON file) onto this armature"""

    bl_idname = "signavatar.load_mapping"
    bl_label = "Load Bone Mapping"
    bl_options = {"REGISTER", "UNDO"}
    filename_ext = ".json"
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})

    def execute(self, context):
        obj = _armature(context)
        path = Path(bpy.path.abspath(self.filepath))
        try:
            m = mapping_mod.from_json(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            self.report({"ERROR"}, f"Cannot load {path.name}: {e}")
            return {"CANCELLED"}
        bad = mapping_mod.problems(m, obj.data.bones.keys(), _joint_names())
        if bad:
            self.report({"ERROR"}, f"{path.name} does not fit '{obj.name}': {'; '.join(bad)}")
            return {"CANCELLED"}
        store_mapping(obj, m, _joint_names())
        self.report({"INFO"}, f"Loaded {path.name}: {len(m.bones)} joints mapped")
        return {"FINISHED"}


class SIGNAVATAR_OT_clear_mapping(_OnArmature, bpy.types.Operator):
    """Forget this armature's stored bone mapping (it is detected again next time)"""

    bl_idname = "signavatar.clear_mapping"
    bl_label = "Clear Bone Mapping"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        obj = _armature(context)
        obj.signavatar_bones.clear()
        return {"FINISHED"}


class SIGNAVATAR_PT_bone_mapping(bpy.types.Panel):
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "SignAvatar"
    bl_label = "Bone Mapping"
    bl_idname = "SIGNAVATAR_PT_bone_mapping"
    bl_parent_id = "SIGNAVATAR_PT_avatar"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        layout = self.layout
        obj = _armature(context)
        if obj is None:
            layout.label(text="Select an armature", icon="INFO")
            return
        row = layout.row(align=True)
        row.operator("signavatar.detect_mapping", icon="VIEWZOOM")
        row.operator("signavatar.load_mapping", text="", icon="IMPORT")
        row.operator("signavatar.save_mapping", text="", icon="EXPORT")
        row.operator("signavatar.clear_mapping", text="", icon="X")
        rows = obj.signavatar_bones
        if not rows:
            layout.label(text="No mapping stored (SMPL-X rigs need none)", icon="INFO")
            return
        layout.label(text=f"{obj.get('signavatar_mapping_source', 'user')}: "
                          f"{sum(1 for r in rows if r.bone)} of {len(rows)} joints mapped")
        col = layout.column(align=True)
        for r in rows:
            line = col.row(align=True)
            ok = not r.bone or r.bone in obj.data.bones
            line.alert = not ok
            line.label(text=r.joint, icon="BLANK1" if r.bone else "DOT")
            line.prop_search(r, "bone", obj.data, "bones", text="")


classes = (SIGNAVATAR_OT_detect_mapping, SIGNAVATAR_OT_save_mapping, SIGNAVATAR_OT_load_mapping,
           SIGNAVATAR_OT_clear_mapping, SIGNAVATAR_PT_bone_mapping)
