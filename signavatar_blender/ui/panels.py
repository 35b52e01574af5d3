"""The "SignAvatar" tab in the 3D viewport's sidebar (N panel).

Panels name operators by their ``bl_idname`` string only and never import ``ops``; what a
button needs to know (missing packages, the mapping's armature) comes from the bridge and
``rig``.
"""

from __future__ import annotations

import bpy

from ..rig.props import mapping_target
from ..runtime_bridge import deps


class _Panel:
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "SignAvatar"


def _progress(layout, context) -> None:
    st = context.window_manager.signavatar
    if st.busy:
        layout.progress(factor=st.progress, text=st.task or "Working")
        layout.label(text="Esc cancels", icon="INFO")


def _unavailable(layout, why: str) -> None:
    box = layout.box()
    col = box.column(align=True)
    col.scale_y = 0.8
    words, line = why.split(), ""
    first = True
    for w in words:  # wrap the reason over a few lines
        if len(line) + len(w) > 38:
            col.label(text=line, icon="ERROR" if first else "BLANK1")
            line, first = w, False
        else:
            line = f"{line} {w}".strip()
    if line:
        col.label(text=line, icon="ERROR" if first else "BLANK1")


class SIGNAVATAR_PT_avatar(_Panel, bpy.types.Panel):
    bl_label = "Avatar"
    bl_idname = "SIGNAVATAR_PT_avatar"

    def draw(self, context):
        layout = self.layout
        props = context.scene.signavatar
        row = layout.row(align=True)
        row.prop(props, "body", expand=True)
        layout.operator("signavatar.create_avatar", icon="ARMATURE_DATA").body = props.body
        layout.operator("signavatar.use_selected_armature", icon="RESTRICT_SELECT_OFF")
        layout.prop(props, "armature")


class SIGNAVATAR_PT_sign(_Panel, bpy.types.Panel):
    bl_label = "Sign"
    bl_idname = "SIGNAVATAR_PT_sign"

    def draw(self, context):
        layout = self.layout
        props = context.scene.signavatar
        st = context.window_manager.signavatar
        why = deps.why_unavailable("generate")
        if why:
            _unavailable(layout, why)
        layout.prop(props, "gloss", icon="VIEWZOOM")
        row = layout.row(align=True)
        row.prop(props, "seed")
        row.prop(props, "variations")
        layout.prop(props, "temperature", slider=True)
        layout.prop(props, "speed", slider=True)
        row = layout.row(align=True)
        row.prop(props, "after_last")
        sub = row.row(align=True)
        sub.active = not props.after_last
        sub.prop(props, "start_frame")
        layout.prop(props, "gap")
        col = layout.column()
        col.scale_y = 1.4
        col.enabled = not st.busy
        col.operator("signavatar.generate", icon="PLAY")
        if st.last_match:
            layout.label(text=st.last_match, icon="CHECKMARK")
        if st.suggestions:
            layout.label(text="Did you mean:")
            flow = layout.grid_flow(columns=3, align=True)
            for g in st.suggestions.split(","):
                flow.operator("signavatar.use_suggestion", text=g).gloss = g
        layout.separator()
        layout.prop(props, "sentence", icon="TEXT")
        row = layout.row(align=True)
        row.prop(props, "sentence_hold")
        sub = row.row(align=True)
        sub.enabled = not st.busy
        sub.operator("signavatar.generate_sentence", icon="SEQ_STRIP_DUPLICATE")
        _progress(layout, context)


class SIGNAVATAR_PT_image(_Panel, bpy.types.Panel):
    bl_label = "Image"
    bl_idname = "SIGNAVATAR_PT_image"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        layout = self.layout
        props = context.scene.signavatar
        why = deps.why_unavailable("image")
        if why:
            _unavailable(layout, why)
        layout.prop(props, "image_path", text="")
        layout.prop(props, "image_mode", text="")
        col = layout.column()
        col.enabled = not context.window_manager.signavatar.busy
        col.operator("signavatar.sign_from_image", icon="IMAGE_DATA")
        layout.label(text="Or drop an image on the 3D viewport", icon="INFO")
        st = context.window_manager.signavatar
        if st.image_result:
            ok = not st.image_result.endswith(": no sign")
            layout.label(text=st.image_result, icon="CHECKMARK" if ok else "ERROR")
            col = layout.column(align=True)
            col.scale_y = 0.8
            for line in st.image_evidence.splitlines():
                col.label(text=line, icon="DOT")
        if st.image_suggestions:
            layout.label(text="Or sign one of these (goes to the Sign field):")
            flow = layout.grid_flow(columns=3, align=True)
            for g in st.image_suggestions.split(","):
                flow.operator("signavatar.use_suggestion", text=g).gloss = g
        _progress(layout, context)


class SIGNAVATAR_PT_video(_Panel, bpy.types.Panel):
    bl_label = "Video"
    bl_idname = "SIGNAVATAR_PT_video"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        layout = self.layout
        props = context.scene.signavatar
        why = deps.why_unavailable("video")
        if why:
            _unavailable(layout, why)
        layout.prop(props, "video_path", text="")
        layout.prop(props, "video_mirrored")
        layout.prop(props, "video_mode", expand=True)
        sub = layout.column()
        sub.active = props.video_mode == "MODEL"
        sub.prop(props, "video_gloss")
        col = layout.column()
        col.enabled = not context.window_manager.signavatar.busy
        col.operator("signavatar.sign_from_video", icon="FILE_MOVIE")
        st = context.window_manager.signavatar
        if st.video_result:
            layout.label(text=st.video_result, icon="CHECKMARK")
            col = layout.column(align=True)
            col.scale_y = 0.8
            for line in st.video_notes.splitlines():
                col.label(text=line, icon="INFO")
        _progress(layout, context)


class SIGNAVATAR_PT_export(_Panel, bpy.types.Panel):
    bl_label = "Export"
    bl_idname = "SIGNAVATAR_PT_export"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        layout = self.layout
        layout.label(text=f"Frames {context.scene.frame_start}\u2013{context.scene.frame_end} of the avatar")
        col = layout.column(align=True)
        col.operator("signavatar.export_npz", text="SMPL-X Motion (.npz)", icon="EXPORT")
        col.operator("signavatar.export_bvh", text="BVH", icon="EXPORT")
        col.operator("signavatar.export_fbx", text="FBX", icon="EXPORT")


class SIGNAVATAR_PT_bone_mapping(_Panel, bpy.types.Panel):
    bl_label = "Bone Mapping"
    bl_idname = "SIGNAVATAR_PT_bone_mapping"
    bl_parent_id = "SIGNAVATAR_PT_avatar"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        layout = self.layout
        obj = mapping_target(context)
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


classes = (SIGNAVATAR_PT_avatar, SIGNAVATAR_PT_bone_mapping, SIGNAVATAR_PT_sign, SIGNAVATAR_PT_image,
           SIGNAVATAR_PT_video, SIGNAVATAR_PT_export)
