"""Bone mapping operators: detect it, save it as JSON, load it on another rig, clear it (panel: ``ui.panels``)."""

from __future__ import annotations

from pathlib import Path

import bpy
from bpy.props import StringProperty
from bpy_extras.io_utils import ExportHelper, ImportHelper

from .. import runtime_bridge as bridge
from ..rig import mapping as mapping_mod
from ..rig.props import mapping_target, store_mapping, stored_mapping
from .jobs import reported


def _joint_names():
    return bridge.runtime("skeleton").JOINT_NAMES


class _OnArmature:
    @classmethod
    def poll(cls, context):
        if mapping_target(context) is None:
            cls.poll_message_set("Select an armature")
            return False
        return True


class SIGNAVATAR_OT_detect_mapping(_OnArmature, bpy.types.Operator):
    """Guess which bone plays which SMPL-X joint (presets: Rigify, Mixamo, VRM, Unreal; else by name), to review below"""

    bl_idname = "signavatar.detect_mapping"
    bl_label = "Detect Bone Mapping"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        obj = mapping_target(context)
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
        obj = mapping_target(context)
        m = stored_mapping(obj)
        if m is None:
            self.report({"ERROR"}, f"'{obj.name}' has no bone mapping yet: press 'Detect Bone Mapping' first")
            return {"CANCELLED"}
        return reported(self, lambda: self._save(m))

    def _save(self, m) -> set:
        path = mapping_mod.save(m, Path(bpy.path.abspath(self.filepath)))
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
        obj = mapping_target(context)
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
        obj = mapping_target(context)
        obj.signavatar_bones.clear()
        return {"FINISHED"}


classes = (SIGNAVATAR_OT_detect_mapping, SIGNAVATAR_OT_save_mapping, SIGNAVATAR_OT_load_mapping,
           SIGNAVATAR_OT_clear_mapping)
