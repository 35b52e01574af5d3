"""The render scene: engine, output format, world, lights and camera (thin bpy adapter).

One scene per batch, named :data:`SCENE_NAME`, created fresh so a user's own scenes are
never touched. Workbench (default) uses studio lighting with screen-space cavity, which reads
finger creases and handshapes without any lamp (its shadows cost more than the rest of a
frame on a software renderer and are left off); EEVEE and Cycles get a three-point
rig of area lights (key, fill, rim) aimed at the signing space.
"""

from __future__ import annotations

from pathlib import Path

import bpy
from mathutils import Vector

from .framing import Framing
from .settings import RenderSettings

SCENE_NAME = "SignAvatar Render"
EEVEE_IDS = ("BLENDER_EEVEE_NEXT", "BLENDER_EEVEE")  # 4.2-4.5 call it EEVEE_NEXT, 5.0 EEVEE again


def srgb_to_linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def engine_id(name: str) -> str:
    if name == "workbench":
        return "BLENDER_WORKBENCH"
    if name == "cycles":
        return "CYCLES"
    items = {e.identifier for e in bpy.types.RenderSettings.bl_rna.properties["engine"].enum_items}
    return next((e for e in EEVEE_IDS if e in items), EEVEE_IDS[-1])


def make_scene(settings: RenderSettings) -> bpy.types.Scene:
    """A new, empty render scene set up for ``settings`` (replacing an earlier one of ours)."""
    old = bpy.data.scenes.get(SCENE_NAME)
    if old is not None:
        bpy.data.scenes.remove(old)
    scene = bpy.data.scenes.new(SCENE_NAME)
    r = scene.render
    r.engine = engine_id(settings.engine)
    r.resolution_x, r.resolution_y, r.resolution_percentage = settings.width, settings.height, 100
    r.film_transparent = False
    r.use_stamp = False
    scene.view_settings.view_transform = "Standard"  # colours as designed, background exactly as asked
    scene.view_settings.look = "None"

    world = bpy.data.worlds.new(SCENE_NAME)
    world.color = tuple(srgb_to_linear(c) for c in settings.background)
    if settings.engine != "workbench":
        _world_nodes(world)
    scene.world = world

    if settings.engine == "workbench":
        shading = scene.display.shading
        shading.light = "STUDIO"
        shading.color_type = "MATERIAL"
        shading.show_cavity = True
        shading.cavity_type = "SCREEN"
        shading.curvature_ridge_factor, shading.curvature_valley_factor = 0.5, 1.0
        shading.show_shadows = False
        shading.show_object_outline = False
        scene.display.render_aa = "OFF" if settings.aa == "auto" else settings.aa.upper()  # auto: see pipeline
    elif settings.engine == "cycles":
        scene.cycles.samples = settings.samples
        scene.cycles.device = "CPU"
        scene.cycles.use_denoising = False  # samples decide the noise; keeps renders deterministic
    else:
        scene.eevee.taa_render_samples = settings.samples

    cam_data = bpy.data.cameras.new(f"{SCENE_NAME} Camera")
    cam_data.sensor_fit = "HORIZONTAL"
    cam = bpy.data.objects.new(f"{SCENE_NAME} Camera", cam_data)
    scene.collection.objects.link(cam)
    scene.camera = cam
    if settings.engine != "workbench":
        _add_lights(scene)
    return scene


AMBIENT = 0.35  # the background's share in the lighting of EEVEE/Cycles renders (the lamps do the rest)


def _world_nodes(world) -> None:
    """Camera rays see the background colour exactly; everything else is lit by a dimmer copy of it."""
    world.use_nodes = True
    nt = world.node_tree
    nt.nodes.clear()
    out = nt.nodes.new("ShaderNodeOutputWorld")
    seen, lit = nt.nodes.new("ShaderNodeBackground"), nt.nodes.new("ShaderNodeBackground")
    for node, strength in ((seen, 1.0), (lit, AMBIENT)):
        node.inputs["Color"].default_value = (*world.color, 1.0)
        node.inputs["Strength"].default_value = strength
    path, mix = nt.nodes.new("ShaderNodeLightPath"), nt.nodes.new("ShaderNodeMixShader")
    nt.links.new(path.outputs["Is Camera Ray"], mix.inputs["Fac"])
    nt.links.new(lit.outputs["Background"], mix.inputs[1])
    nt.links.new(seen.outputs["Background"], mix.inputs[2])
    nt.links.new(mix.outputs["Shader"], out.inputs["Surface"])


def _add_lights(scene) -> None:
    """Key (front left, above), fill (front right, soft) and rim (behind) area lights; placed by :func:`aim_lights`."""
    for name, energy, size in (("Key", 60.0, 1.2), ("Fill", 20.0, 2.0), ("Rim", 40.0, 1.0)):
        data = bpy.data.lights.new(f"{SCENE_NAME} {name}", "AREA")
        data.energy, data.size = energy, size
        obj = bpy.data.objects.new(data.name, data)
        scene.collection.objects.link(obj)
        obj["signavatar_light"] = name


def aim_lights(scene, target) -> None:
    """Place the three lights around ``target`` (the chest, world coordinates) and point them at it."""
    t = Vector(target)
    places = {"Key": (-1.2, -1.8, 0.9), "Fill": (1.5, -1.6, 0.2), "Rim": (0.6, 1.6, 1.0)}
    for obj in scene.collection.objects:
        name = obj.get("signavatar_light")
        if name in places:
            obj.location = t + Vector(places[name])
            obj.rotation_euler = (t - obj.location).to_track_quat("-Z", "Y").to_euler()


def set_camera(scene, framing: Framing) -> None:
    cam = scene.camera
    cam.location = framing.location
    cam.rotation_euler = framing.rotation_euler
    cam.data.lens = framing.lens_mm
    cam.data.sensor_width = framing.sensor_mm
    cam.data.clip_start, cam.data.clip_end = framing.clip_start, framing.clip_end


def set_frames(scene, first: int, last: int, fps: float) -> None:
    scene.frame_start, scene.frame_end = first, last
    whole = max(1, round(fps))
    scene.render.fps, scene.render.fps_base = whole, whole / fps


def set_label(scene, text: str | None) -> None:
    """Burn ``text`` and the frame number into rendered images (``None``: no label)."""
    r = scene.render
    r.use_stamp = text is not None
    if text is None:
        return
    for field in ("date", "time", "render_time", "camera", "lens", "scene", "filename", "memory", "hostname",
                  "frame_range", "marker", "sequencer_strip"):
        setattr(r, f"use_stamp_{field}", False)
    r.use_stamp_frame = True
    r.use_stamp_note = True
    r.stamp_note_text = text
    r.stamp_font_size = max(12, scene.render.resolution_y // 28)


def _media_type(settings, kind: str) -> None:
    """Blender >= 5.0 splits output formats by media type ("IMAGE" / "VIDEO"); FFMPEG exists only under "VIDEO"."""
    if hasattr(settings, "media_type"):
        settings.media_type = kind


def output_video(scene, path: Path) -> None:
    """MP4 container, H.264 video, no audio, good quality at a fast preset."""
    r = scene.render
    _media_type(r.image_settings, "VIDEO")
    r.image_settings.file_format = "FFMPEG"
    r.ffmpeg.format = "MPEG4"
    r.ffmpeg.codec = "H264"
    r.ffmpeg.constant_rate_factor = "MEDIUM"
    r.ffmpeg.ffmpeg_preset = "REALTIME"
    r.ffmpeg.gopsize = max(1, round(scene.render.fps / scene.render.fps_base))
    r.ffmpeg.audio_codec = "NONE"
    r.use_file_extension = False
    r.filepath = str(path)


def output_png(scene, path_pattern: str) -> None:
    """PNG stills; ``path_pattern`` uses ``#`` for the frame number."""
    r = scene.render
    _media_type(r.image_settings, "IMAGE")
    r.image_settings.file_format = "PNG"
    r.image_settings.color_mode = "RGB"
    r.image_settings.compression = 50
    r.use_file_extension = True
    r.filepath = path_pattern
