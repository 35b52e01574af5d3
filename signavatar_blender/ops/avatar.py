"""Avatar operators: create a built-in avatar, or adopt the selected armature (SMPL-X or any mapped humanoid)."""

from __future__ import annotations

import bpy
from bpy.props import EnumProperty

from .. import runtime_bridge as bridge
from ..rig import keying
from ..ui.properties import BODIES
from . import jobs


class SIGNAVATAR_OT_create_avatar(bpy.types.Operator):
    """Add a built-in avatar (SMPL-X-named armature with a skinned stylised body) and make it the target"""

    bl_idname = "signavatar.create_avatar"
    bl_label = "Create Avatar"
    bl_options = {"REGISTER", "UNDO"}

    body: EnumProperty(name="Body", items=BODIES, default="neutral")

    def invoke(self, context, event):
        self.body = context.scene.signavatar.body
        return self.execute(context)

    def execute(self, context):
        from ..avatar.build import create_avatar

        if context.mode != "OBJECT":
            self.report({"ERROR"}, "Switch to Object Mode to add an avatar")
            return {"CANCELLED"}
        return jobs.reported(self, lambda: self._create(context, create_avatar))

    def _create(self, context, create_avatar) -> set:
        rig = create_avatar(context, self.body, location=tuple(context.scene.cursor.location))
        context.scene.signavatar.armature = rig
        for obj in context.view_layer.objects.selected:
            obj.select_set(False)
        rig.select_set(True)
        context.view_layer.objects.active = rig
        self.report({"INFO"}, f"Added '{rig.name}'")
        return {"FINISHED"}


class SIGNAVATAR_OT_use_selected(bpy.types.Operator):
    """Sign on the active armature: an SMPL-X rig, or any humanoid (Rigify, Mixamo, VRM, Unreal, ...) through its bone mapping"""

    bl_idname = "signavatar.use_selected_armature"
    bl_label = "Use Selected Armature"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        obj = context.active_object
        if obj is None:
            self.report({"ERROR"}, "Select an armature first (click it in the viewport or the outliner)")
            return {"CANCELLED"}
        return jobs.reported(self, lambda: self._use(context, obj))

    def _use(self, context, obj) -> set:
        binding = keying.bind(obj)
        context.scene.signavatar.armature = obj
        extra = ""
        if hasattr(binding, "mapping"):  # retargeted: keep the mapping on the rig, to review and edit
            from ..rig.props import store_mapping, stored_mapping

            if stored_mapping(obj) is None:
                store_mapping(obj, binding.mapping, bridge.runtime("skeleton").JOINT_NAMES)
            extra = f" via its {binding.mapping.source} bone mapping ({len(binding.bones)} joints"
            if binding.unmapped:
                shown = ", ".join(binding.unmapped[:6]) + (" ..." if len(binding.unmapped) > 6 else "")
                extra += f"; not mapped: {shown}"
            extra += "; see Avatar > Bone Mapping)"
            if binding.warnings:
                extra += "; " + "; ".join(binding.warnings[:3])
        elif binding.missing_optional:
            extra = f" (no {', '.join(binding.missing_optional)}: those joints are left as they are)"
        self.report({"INFO"}, f"Signing on '{obj.name}'{extra}")
        return {"FINISHED"}


classes = (SIGNAVATAR_OT_create_avatar, SIGNAVATAR_OT_use_selected)
