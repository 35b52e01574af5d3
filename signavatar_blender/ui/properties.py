"""Per-scene settings (``scene.signavatar``) and transient UI state (``window_manager.signavatar``)."""

from __future__ import annotations

import bpy
from bpy.props import (BoolProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty,
                       StringProperty)

from ..runtime_bridge import models
from .preferences import settings

BODIES = [("neutral", "Neutral", "Neutral proportions, 1.70 m"),
          ("female", "Female", "Female proportions, 1.63 m"),
          ("male", "Male", "Male proportions, 1.77 m")]


def _is_armature(self, obj) -> bool:
    return obj.type == "ARMATURE"


def _gloss_search(self, context, edit_text):
    """Suggestions for the gloss field: known glosses containing what was typed."""
    vocab = models.vocabulary(settings(context))
    text = edit_text.strip().lower().replace(" ", "")
    if not text:
        return list(vocab)
    starts = [g for g in vocab if g.lower().startswith(text)]
    contains = [g for g in vocab if text in g.lower().replace(" ", "") and g not in starts]
    return starts + contains


class SignAvatarSceneSettings(bpy.types.PropertyGroup):
    armature: PointerProperty(name="Avatar", type=bpy.types.Object, poll=_is_armature,
                              description="The SMPL-X armature that signs are keyed on")
    body: EnumProperty(name="Body", items=BODIES, default="neutral", description="Proportions of a new avatar")

    gloss: StringProperty(name="Sign", default="", search=_gloss_search, search_options={"SUGGESTION"},
                          description="A gloss the model knows (e.g. 'drink') or a word or phrase to match")
    seed: IntProperty(name="Seed", default=0, min=0, description="Random seed: the same seed gives the same motion")
    temperature: FloatProperty(name="Variation", default=1.0, min=0.0, max=2.0, soft_max=1.0,
                               description="How freely the model varies the sign: 1 samples it as trained, lower "
                                           "gives clearer, more typical signs (0 = the most typical motion)")
    variations: IntProperty(name="Variations", default=1, min=1, max=16,
                            description="How many different versions of the sign to add, one after another")
    speed: FloatProperty(name="Speed", default=1.0, min=0.25, max=4.0, soft_min=0.5, soft_max=2.0,
                         description="Playback speed of the sign (NLA strip scale)")
    after_last: BoolProperty(name="After Last Sign", default=True,
                             description="Start each new sign where the previous one ends instead of at 'Start'")
    start_frame: IntProperty(name="Start", default=1, description="Frame where a new sign starts")
    gap: IntProperty(name="Gap", default=6, min=0, max=240, description="Frames between consecutive signs")

    sentence: StringProperty(name="Sentence", default="",
                             description="Words to sign in order as one clip, joined by natural transitions; a word "
                                         "the model does not know is fingerspelled")
    sentence_hold: FloatProperty(name="Hold", default=0.0, min=0.0, max=10.0, soft_max=1.0, unit="TIME_ABSOLUTE",
                                 description="Seconds each word's last pose is held before the next word")
    image_path: StringProperty(name="Image", subtype="FILE_PATH", default="",
                               description="A picture to sign: a printed word, or a photo of one object")
    image_mode: EnumProperty(name="From Image", default="nearest_gloss", items=[
        ("nearest_gloss", "Nearest Sign", "Sign the known gloss the picture shows: a printed word read, or the "
                                          "object recognised (CLIP models: the gloss closest to the picture)"),
        ("embedding", "Picture Itself", "Condition the model on the picture's CLIP embedding directly (zero-shot; "
                                        "CLIP models with their weights only)")])

    video_path: StringProperty(name="Video", subtype="FILE_PATH", default="",
                               description="A video of one signer performing one sign")
    video_mode: EnumProperty(name="Result", default="MODEL", items=[
        ("RAW", "Raw (IK only)", "Inverse kinematics of the video's landmarks, smoothed"),
        ("MODEL", "Reconstructed", "The IK motion encoded and decoded by the model: cleaner, needs the sign")])
    video_gloss: StringProperty(name="Sign Shown", default="", search=_gloss_search, search_options={"SUGGESTION"},
                                description="Which sign the video shows (the model is conditioned on it)")
    video_mirrored: BoolProperty(name="Mirrored Recording", default=False,
                                 description="The video is a mirror image (a 'selfie' webcam preview)")


class SignAvatarUIState(bpy.types.PropertyGroup):
    """Transient state shown by the panel (not saved in any meaningful way)."""

    busy: BoolProperty(default=False)
    task: StringProperty(default="")
    progress: FloatProperty(default=0.0, min=0.0, max=1.0, subtype="FACTOR")
    started: FloatProperty(default=0.0)
    last_match: StringProperty(default="")
    suggestions: StringProperty(default="")  # comma separated
    image_result: StringProperty(default="")  # what the last image was read as and the sign it became
    image_evidence: StringProperty(default="")  # what was seen in it, one item per line
    image_suggestions: StringProperty(default="")  # alternatives, comma separated
    video_result: StringProperty(default="")  # the last video: seconds and frames keyed, where
    video_notes: StringProperty(default="")  # what was trimmed, bridged, who was followed: one item per line
    install_running: BoolProperty(default=False)
    install_progress: FloatProperty(default=0.0, min=0.0, max=1.0, subtype="FACTOR")
    install_message: StringProperty(default="")
    install_log: StringProperty(default="")


classes = (SignAvatarSceneSettings, SignAvatarUIState)


def register_props() -> None:
    bpy.types.Scene.signavatar = PointerProperty(type=SignAvatarSceneSettings)
    bpy.types.WindowManager.signavatar = PointerProperty(type=SignAvatarUIState)


def unregister_props() -> None:
    del bpy.types.WindowManager.signavatar
    del bpy.types.Scene.signavatar
