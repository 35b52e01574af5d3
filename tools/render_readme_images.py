"""Render the README's pictures of the Blender add-on with the add-on itself (Workbench, headless).

    .venv/bin/python tools/render_readme_images.py                       # sign with the default model
    .venv/bin/python tools/render_readme_images.py --gloss "thank you"
    .venv/bin/python tools/render_readme_images.py --video ../shared/videos/startasl_hello.mp4   # + a video
    .venv/bin/python tools/render_readme_images.py --model runs/my_model   # another model folder

Writes to ``docs/images/``:

* ``avatars.png``: the three built-in bodies (female, neutral, male);
* ``signing.png``: a strip of frames of the neutral avatar performing the sign;
* ``result.png``: one larger frame of what the Sign panel's Generate button produces, with
  the match it reported;
* ``video_ik.png`` (with ``--video``): the Video panel's raw inverse kinematics of a real video.

The working tree is enabled as a Blender extension (in a throw-away extension repository)
and everything goes through the add-on's operators (create avatar, generate or reconstruct
from video), exactly as in the N panel; only the camera and the picture layout are added here.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

BACKGROUND = (0.78, 0.80, 0.84)
CAPTION = (40, 44, 52)


EXT_REPO = "signavatar_readme"
ADDON = f"bl_ext.{EXT_REPO}.signavatar"


def enable_addon(bpy, tmp: Path, model: Path | None):
    """Factory settings and the working tree enabled as the SignAvatar extension; returns its package."""
    import addon_utils

    bpy.ops.wm.read_factory_settings(use_empty=True)
    repos = bpy.context.preferences.extensions.repos
    if not any(r.module == EXT_REPO for r in repos):
        folder = tmp / "extensions"
        folder.mkdir(exist_ok=True)
        if not (folder / "signavatar").exists():
            (folder / "signavatar").symlink_to(REPO, target_is_directory=True)
        repos.new(name=EXT_REPO, module=EXT_REPO, custom_directory=str(folder), source="USER")
    if addon_utils.enable(ADDON, default_set=True) is None:
        raise SystemExit("could not enable the SignAvatar extension")
    if model is not None:
        bpy.context.preferences.addons[ADDON].preferences.model_folder = str(model.resolve())
    return importlib.import_module(ADDON)


def setup_scene(bpy, width: int, height: int):
    scene = bpy.context.scene
    world = bpy.data.worlds.new("SignAvatar Backdrop")
    world.color = BACKGROUND
    scene.world = world
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.render.resolution_x, scene.render.resolution_y = width, height
    scene.render.film_transparent = False
    scene.display.render_aa = "8"
    sh = scene.display.shading
    sh.light, sh.color_type = "STUDIO", "MATERIAL"
    sh.show_cavity, sh.cavity_type = True, "BOTH"
    sh.cavity_ridge_factor, sh.cavity_valley_factor = 0.6, 0.8
    sh.show_shadows = True
    sh.shadow_intensity = 0.35
    sh.show_object_outline = True
    cam = bpy.data.cameras.new("Camera")
    cam_obj = bpy.data.objects.new("Camera", cam)
    scene.collection.objects.link(cam_obj)
    scene.camera = cam_obj
    return scene, cam_obj


def aim(cam_obj, target, distance: float, yaw_deg: float = 0.0, pitch_deg: float = 0.0, lens: float = 50.0):
    """Put the camera ``distance`` metres in front of ``target`` (the avatar faces -Y), turned by yaw/pitch."""
    yaw, pitch = math.radians(yaw_deg), math.radians(pitch_deg)
    offset = np.array([math.sin(yaw) * math.cos(pitch), -math.cos(yaw) * math.cos(pitch), math.sin(pitch)])
    cam_obj.location = tuple(np.asarray(target) + distance * offset)
    cam_obj.rotation_euler = (math.radians(90) - pitch, 0.0, yaw)
    cam_obj.data.lens = lens


def render(bpy, scene, path: Path):
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    from PIL import Image

    return Image.open(path).convert("RGB")


def caption(img, text: str, size: int = 20):
    """``img`` with ``text`` in a band underneath."""
    from PIL import Image, ImageDraw, ImageFont

    band = size * 2
    out = Image.new("RGB", (img.width, img.height + band), (236, 238, 242))
    out.paste(img, (0, 0))
    try:
        font = ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        font = ImageFont.load_default()
    ImageDraw.Draw(out).text((12, img.height + size // 2), text, fill=CAPTION, font=font)
    return out


def save_small(img, path: Path, limit: int = 300_000) -> None:
    """PNG under ``limit`` bytes: full colour if it fits, else a dithered 256-colour palette, shrunk if needed."""
    from PIL import Image

    img.save(path, optimize=True)
    while path.stat().st_size > limit:
        img.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG).save(
            path, optimize=True)
        if path.stat().st_size <= limit:
            return
        img = img.resize((int(img.width * 0.85), int(img.height * 0.85)), Image.LANCZOS)
        img.save(path, optimize=True)


def sign_on_new_avatar(bpy, tmp: Path, a, panel: str):
    """A fresh scene, the neutral avatar and one sign from ``panel`` ("Sign": Generate, "Video": raw IK).

    Returns (what the panel reported, 5 frames spread over the sign, the chest position)."""
    enable_addon(bpy, tmp, a.model)
    scene, _ = setup_scene(bpy, 460, 560)
    bpy.ops.signavatar.create_avatar(body="neutral")
    props = scene.signavatar
    if panel == "Video":
        props.video_mode = "RAW"
        bpy.ops.signavatar.sign_from_video(filepath=str(a.video.resolve()))
        label = f"{a.video.name} \u2192 inverse kinematics (Video panel, Raw)"
    else:
        props.gloss, props.seed = a.gloss, a.seed
        bpy.ops.signavatar.generate()
        label = bpy.context.window_manager.signavatar.last_match
    rig = props.armature
    strip = rig.animation_data.nla_tracks[0].strips[0]
    start, end = strip.frame_start, strip.frame_end
    frames = np.linspace(start + 0.1 * (end - start), start + 0.9 * (end - start), 5).round().astype(int)
    return label, frames, np.array(rig.data.bones["spine3"].head_local)


def strip_of_frames(bpy, scene, tmp: Path, frames, chest, label: str, out: Path) -> None:
    from PIL import Image

    aim(scene.camera, chest + np.array([0.0, 0.0, 0.08]), 2.2, yaw_deg=10, pitch_deg=2, lens=50)
    tiles = []
    for k, f in enumerate(frames):
        scene.frame_set(int(f))
        tiles.append(render(bpy, scene, tmp / f"frame{k}.png"))
    img = Image.new("RGB", (sum(t.width for t in tiles), tiles[0].height), tuple(int(c * 255) for c in BACKGROUND))
    x = 0
    for t in tiles:
        img.paste(t, (x, 0))
        x += t.width
    save_small(caption(img, f"{label}   frames {', '.join(str(f) for f in frames)}"), out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gloss", default="hello", help="sign to generate with the default model")
    p.add_argument("--video", type=Path, help="also show this video reconstructed by raw IK (video_ik.png)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", type=Path, help="model folder (default: the one shipped with the add-on)")
    p.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    a = p.parse_args(argv)

    import bpy

    a.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="signavatar-readme-"))
    ext = enable_addon(bpy, tmp, a.model)
    JOINT_INDEX = importlib.import_module(f"{ext.__name__}.model_runtime.skeleton").JOINT_INDEX
    keying = importlib.import_module(f"{ext.__name__}.signavatar_blender.rig.keying")
    rig_math = importlib.import_module(f"{ext.__name__}.signavatar_blender.rig.rig_math")

    # 1. the three bodies, side by side, arms relaxed
    scene, cam = setup_scene(bpy, 1000, 720)
    for x, body in zip((-0.95, 0.0, 0.95), ("female", "neutral", "male")):
        bpy.context.scene.cursor.location = (x, 0.0, 0.0)
        bpy.ops.signavatar.create_avatar(body=body)
        rig = bpy.context.scene.signavatar.armature
        pose = np.zeros((1, 55, 3))  # SMPL-X axis-angle: arms lowered from the T-pose, elbows a little bent
        pose[0, JOINT_INDEX["left_shoulder"]] = (0.0, 0.0, -1.2)
        pose[0, JOINT_INDEX["right_shoulder"]] = (0.0, 0.0, 1.2)
        pose[0, JOINT_INDEX["left_elbow"]] = (0.0, 0.25, 0.0)
        pose[0, JOINT_INDEX["right_elbow"]] = (0.0, -0.25, 0.0)
        binding = keying.bind(rig)
        quats = rig_math.bone_quaternions(pose[:, list(binding.joints)], binding.rest_quats)[0]
        for bone, q in zip(binding.bones, quats):
            rig.pose.bones[bone].rotation_quaternion = q
    aim(cam, (0.0, 0.0, 0.90), 5.4, yaw_deg=10, pitch_deg=4, lens=50)
    save_small(render(bpy, scene, tmp / "avatars.png"), a.out / "avatars.png")

    # 2. Generate (the Sign panel), as a strip of frames and one larger frame
    label, frames, chest = sign_on_new_avatar(bpy, tmp, a, "Sign")
    scene = bpy.context.scene
    strip_of_frames(bpy, scene, tmp, frames, chest, label, a.out / "signing.png")
    scene.render.resolution_x, scene.render.resolution_y = 800, 680
    scene.frame_set(int(frames[2]))
    aim(scene.camera, chest + np.array([0.0, 0.0, 0.02]), 2.3, yaw_deg=25, pitch_deg=6, lens=45)
    img = render(bpy, scene, tmp / "result.png")
    save_small(caption(img, f"SignAvatar > Sign: {label}"), a.out / "result.png")
    written = ["avatars.png", "signing.png", "result.png"]

    # 3. optionally a real video through the Video panel (raw inverse kinematics)
    if a.video:
        label, frames, chest = sign_on_new_avatar(bpy, tmp, a, "Video")
        strip_of_frames(bpy, bpy.context.scene, tmp, frames, chest, label, a.out / "video_ik.png")
        written.append("video_ik.png")
    for name in written:
        f = a.out / name
        print(f"wrote {f} ({f.stat().st_size / 1000:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
