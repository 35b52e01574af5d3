"""Add-on preferences (machine settings) and their one typed accessor, :func:`settings`."""

from __future__ import annotations

from pathlib import Path

import bpy
from bpy.props import EnumProperty, StringProperty

from ..runtime_bridge import deps
from ..runtime_bridge.models import DEFAULT_MODEL, Settings


def settings(context=None) -> Settings:
    """The preferences as typed settings (defaults when the add-on is not registered)."""
    context = context or bpy.context
    addon = context.preferences.addons.get(deps.ADDON) if deps.ADDON else None
    prefs = addon.preferences if addon is not None else None
    if prefs is None:
        return Settings(DEFAULT_MODEL, None, "cpu")
    folder = Path(bpy.path.abspath(prefs.model_folder)) if prefs.model_folder.strip() else DEFAULT_MODEL
    clip = Path(bpy.path.abspath(prefs.clip_weights)) if prefs.clip_weights.strip() else None
    return Settings(folder, clip, prefs.device.lower())


def _device_items(self, context):
    return [("CPU", "CPU", "Run the model on the processor"),
            ("CUDA", "CUDA", "Run the model on an NVIDIA GPU (needs a CUDA build of PyTorch)")]


class SIGNAVATAR_AP_preferences(bpy.types.AddonPreferences):
    bl_idname = deps.ADDON or __package__.rpartition(".")[0]  # the add-on's package, as before

    model_folder: StringProperty(
        name="Model Folder", subtype="DIR_PATH", default="",
        description="Folder of a SignAvatar model (config, weights, gloss table). Empty: the model shipped "
                    "with the add-on")
    clip_weights: StringProperty(
        name="CLIP Weights", subtype="FILE_PATH", default="",
        description="open_clip weights file for CLIP-conditioned models; needed for signs from images")
    device: EnumProperty(name="Device", items=_device_items, default=0,
                         description="Where the model runs")

    def draw(self, context):
        layout = self.layout
        col = layout.column()
        col.prop(self, "model_folder")
        if not self.model_folder.strip():
            col.label(text=f"Using the embedded model ({DEFAULT_MODEL.name})", icon="INFO")
        col.prop(self, "clip_weights")
        col.prop(self, "device")

        box = layout.box()
        box.label(text="Dependencies", icon="PACKAGE")
        wm = context.window_manager
        target = deps.deps_dir()
        box.label(text=f"Folder: {target}" if target else "Folder: (available once installed as an extension)")
        for feature, label in (("generate", "Signs from text"), ("image", "Signs from images"),
                               ("video", "Signs from video")):
            miss = deps.missing(feature)
            box.label(text=f"{label}: " + ("ready" if not miss else "missing " + ", ".join(miss)),
                      icon="CHECKMARK" if not miss else "ERROR")
        if wm.signavatar.install_running:
            box.progress(factor=wm.signavatar.install_progress, text=wm.signavatar.install_message)
            box.label(text="Press Esc over the Blender window to cancel")
        else:
            row = box.row()
            row.operator("signavatar.install_dependencies", icon="IMPORT")
            if not bpy.app.online_access:
                box.label(text="Online access is off: allow it in Preferences > System > Network to install",
                          icon="INFO")
        if wm.signavatar.install_message and not wm.signavatar.install_running:
            box.label(text=wm.signavatar.install_message)
        for line in wm.signavatar.install_log.splitlines()[-6:]:
            box.label(text=line)


classes = (SIGNAVATAR_AP_preferences,)
