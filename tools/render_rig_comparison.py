"""Render one generated sign on the built-in avatar, a Rigify rig and a Mixamo rig, side by side (Workbench).

    .venv/bin/python tools/render_rig_comparison.py --out docs/images/retarget_rigs.png
    .venv/bin/python tools/render_rig_comparison.py --gloss thankyou --seed 3 --frames 3 --out rigs.png

One PNG, a row per rig (built-in avatar, Rigify generated from Blender's Human metarig, the Mixamo
rig of the shared fingerspelling take ``../shared/mocap/fingerspelling/A.fbx``), a column per frame
(start to end of the sign). Every rig gets the sign the way a user gives it: *Create Avatar* or
*Use Selected Armature*, then *Generate* with the same gloss and seed (the same motion on all three).

The Rigify and Mixamo rigs have no mesh, so this script (and only this script's scene) gives them a
plain body: a tapered capsule per deform bone (Rigify's ``DEF-`` bones without the face, which
follow the keyed FK controls through Rigify's constraints; Mixamo's mapped bones), parented to its
bone, and a sphere on the head. Camera: the built-in avatar's framing of the shown frames, moved to
each rig's chest and scaled by its trunk length, so the three rows frame their bodies alike.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from render_readme_images import caption, enable_addon

REPO = Path(__file__).resolve().parents[1]
TAKE = REPO.parent / "shared" / "mocap" / "fingerspelling" / "A.fbx"
TILE = (360, 420)  # width, height of one frame
BODY_COLOUR = (0.82, 0.66, 0.55, 1.0)  # linear RGBA of the stand-in bodies
LEGS = ("hip", "knee", "ankle", "foot")  # SMPL-X joints left out of the framing


def _addon_module(ext, name: str):
    return importlib.import_module(f"{ext.__name__}.{name}")


def _sign(bpy, ext, gloss: str, seed: int):
    """*Generate* on the scene's target armature, as the Sign panel does; returns (match text, its NLA strip)."""
    props = bpy.context.scene.signavatar
    props.gloss, props.seed, props.variations = gloss, seed, 1
    if bpy.ops.signavatar.generate() != {"FINISHED"}:
        raise SystemExit(f"error: Generate failed on '{props.armature.name}'")
    track = _addon_module(ext, "signavatar_blender.rig.keying").TRACK
    strip = max((s for t in props.armature.animation_data.nla_tracks if t.name.startswith(track) for s in t.strips),
                key=lambda s: s.frame_start)
    return bpy.context.window_manager.signavatar.last_match, strip


def _use_selected(bpy, obj) -> None:
    """Select ``obj`` and press *Use Selected Armature*."""
    for o in bpy.context.view_layer.objects.selected:
        o.select_set(False)
    obj.select_set(True)
    bpy.context.view_layer.objects.active = obj
    if bpy.ops.signavatar.use_selected_armature() != {"FINISHED"}:
        raise SystemExit(f"error: Use Selected Armature refused '{obj.name}'")


def build_rigs(bpy, ext, take: Path) -> dict:
    """The three armatures in the working scene: {row label: (armature, the bones to give a stand-in body)}."""
    import addon_utils

    bpy.ops.import_scene.fbx(filepath=str(take))  # sets the scene to the take's 60 fps
    mixamo = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE")
    bpy.context.scene.render.fps, bpy.context.scene.render.fps_base = 30, 1.0
    addon_utils.enable("rigify", default_set=True)
    bpy.ops.object.armature_human_metarig_add()
    metarig = bpy.context.active_object
    bpy.ops.pose.rigify_generate()
    rigify = bpy.data.objects["rig"]
    bpy.data.objects.remove(metarig)
    bpy.ops.signavatar.create_avatar(body="neutral")
    avatar = bpy.context.scene.signavatar.armature
    keying = _addon_module(ext, "signavatar_blender.rig.keying")
    face = {b.name for b in rigify.data.bones if any("face" in a.name or "jaw" in a.name
                                                      for a in [b, *b.parent_recursive])}
    return {
        "built-in avatar": (avatar, []),  # it has its own body
        "Rigify (FK controls)": (rigify, [b.name for b in rigify.data.bones
                                          if b.use_deform and b.name.startswith("DEF-") and b.name not in face
                                          and "breast" not in b.name]),
        "Mixamo": (mixamo, list(keying.bind(mixamo).bones)),  # what its mapping drives: every bone but the root
    }


def _capsule(bpy, name: str, length: float, r0: float, r1: float, direction=None, segments: int = 16):
    """A closed tapered capsule from the origin ``length`` along +Y (or ``direction``): a half ball of radius
    ``r0`` at the origin, one of ``r1`` at the far end, a cone between (``length`` 0: a ball)."""
    from mathutils import Vector

    quarter = [k * math.pi / 12 for k in range(7)]  # 0..90 degrees
    profile = [(-r0 * math.cos(a), r0 * math.sin(a)) for a in quarter]  # (y, ring radius), south pole first
    profile += [(length + r1 * math.sin(a), r1 * math.cos(a)) for a in quarter]
    turn = [(math.cos(2 * math.pi * k / segments), math.sin(2 * math.pi * k / segments)) for k in range(segments)]
    verts = [(0.0, profile[0][0], 0.0)]
    for y, r in profile[1:-1]:
        verts += [(r * c, y, r * s) for c, s in turn]
    verts.append((0.0, profile[-1][0], 0.0))
    rings, last = len(profile) - 2, len(verts) - 1
    faces = [(0, 1 + (k + 1) % segments, 1 + k) for k in range(segments)]
    for i in range(rings - 1):
        a, b = 1 + i * segments, 1 + (i + 1) * segments
        faces += [(a + k, a + (k + 1) % segments, b + (k + 1) % segments, b + k) for k in range(segments)]
    top = 1 + (rings - 1) * segments
    faces += [(top + k, top + (k + 1) % segments, last) for k in range(segments)]
    faces = [f[::-1] for f in faces]  # outward normals
    if direction is not None:
        turn_y = Vector((0.0, 1.0, 0.0)).rotation_difference(Vector(direction)).to_matrix()
        verts = [tuple(turn_y @ Vector(v)) for v in verts]
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(verts, [], faces)
    mesh.shade_smooth()
    return mesh


def _part(bpy, rig, bone, mesh, mat):
    """``mesh`` (in ``bone``'s rest space, origin at its head) as an object parented to ``bone``."""
    mesh.materials.append(mat)
    obj = bpy.data.objects.new(mesh.name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    obj.parent, obj.parent_type, obj.parent_bone = rig, "BONE", bone.name
    obj.location = (0.0, -bone.length, 0.0)  # bone parenting places the child at the tail; the mesh starts at the head
    return obj


def give_body(bpy, rig, bones: list[str], head_bone: str) -> list:
    """A capsule per bone of ``bones`` (radius from its length), bone-parented; a ball for ``head_bone``; and a
    capsule from a bone's head to each child in ``bones`` that starts away from its tail (hips, palms)."""
    from mathutils import Matrix

    mat = bpy.data.materials.get("stand-in body") or bpy.data.materials.new("stand-in body")
    mat.diffuse_color = BODY_COLOUR
    scale = float(rig.matrix_world.to_scale()[0])  # armature units -> metres (the FBX rig is in centimetres)

    def radius(length):
        return min(max(0.28 * length * scale, 0.006), 0.045) / scale

    parts, body = [], set(bones)
    for name in bones:
        bone = rig.data.bones[name]
        r = radius(bone.length)
        if name == head_bone:  # a ball of half the head bone's length, a little above its middle
            mesh = _capsule(bpy, f"{rig.name} {name}", 0.0, 0.5 * bone.length, 0.5 * bone.length)
            mesh.transform(Matrix.Translation((0.0, 0.55 * bone.length, 0.0)))
        else:
            mesh = _capsule(bpy, f"{rig.name} {name}", bone.length, r, 0.8 * r)
        parts.append(_part(bpy, rig, bone, mesh, mat))
        for child in bone.children:
            if child.name not in body or (child.head_local - bone.tail_local).length < 0.3 * bone.length:
                continue
            v = bone.matrix_local.inverted() @ child.head_local  # the child's head in this bone's rest space
            rc = min(r, radius(child.length))
            parts.append(_part(bpy, rig, bone, _capsule(bpy, f"{rig.name} {name} > {child.name}", v.length,
                                                        rc, rc, direction=v), mat))
    return parts


def _head_bone(ext, rig, bones: list[str]) -> str:
    """The bone of ``bones`` that starts where the bone driven for SMPL-X's head does (Rigify: ``DEF-spine.006``)."""
    head = np.array(rig.data.bones[_landmarks(ext, rig)["head"]].head_local)
    return min(bones, key=lambda n: float(np.linalg.norm(np.array(rig.data.bones[n].head_local) - head)))


def _world_heads(rig, bones: list[str]) -> np.ndarray:
    mw = np.array(rig.matrix_world)
    return np.array([tuple(rig.pose.bones[b].head) for b in bones]) @ mw[:3, :3].T + mw[:3, 3]


def _landmarks(ext, rig) -> dict:
    """SMPL-X joint name -> the rig's bone driven for it (legs left out)."""
    binding = _addon_module(ext, "signavatar_blender.rig.keying").bind(rig)
    names = _addon_module(ext, "model_runtime.skeleton").JOINT_NAMES
    return {names[j]: b for j, b in zip(binding.joints, binding.bones) if not any(leg in names[j] for leg in LEGS)}


def _frame_points(scene, rig, bones, frames) -> np.ndarray:
    pts = []
    for f in frames:
        scene.frame_set(int(f))
        pts.append(_world_heads(rig, bones))
    return np.concatenate(pts)


def framings(ext, scene, rows: dict, frames, aspect: float) -> dict:
    """One camera per row: the built-in avatar's fit over ``frames``, moved to each rig's chest, scaled by its trunk."""
    framing = _addon_module(ext, "signavatar_blender.render.framing")
    from dataclasses import replace

    scene.frame_set(int(frames[0]))
    anchors = {}
    for label, (rig, _) in rows.items():
        lm = _landmarks(ext, rig)
        pelvis, chest, head = _world_heads(rig, [lm["pelvis"], lm["spine3"], lm["head"]])
        anchors[label] = (rig, lm, chest, float(np.linalg.norm(head - pelvis)), head)
    rig, lm, chest0, trunk0, head0 = next(iter(anchors.values()))
    pts = _frame_points(scene, rig, list(lm.values()), frames)
    pts = np.concatenate([pts, [head0 + [0.0, 0.0, 0.4 * trunk0]]])  # the top of the head
    base = framing.fit_front_camera(framing.widen(pts, 0.08 * trunk0), aspect, lens_mm=50.0, margin=0.03)
    out = {}
    for label, (_, _, chest, trunk, _) in anchors.items():
        k = trunk / trunk0
        loc = chest + k * (np.array(base.location) - chest0)
        out[label] = replace(base, location=tuple(float(v) for v in loc))
    return out


def render_rows(bpy, ext, rows: dict, cams: dict, frames, tmp: Path) -> list[list[np.ndarray]]:
    """Each row's objects alone in the project's render scene (Workbench), at ``frames``; (H, W, 3) tiles."""
    scene_mod = _addon_module(ext, "signavatar_blender.render.scene")
    settings = _addon_module(ext, "signavatar_blender.render.settings").RenderSettings(
        engine="workbench", width=TILE[0], height=TILE[1], aa="8")
    load_png = _addon_module(ext, "signavatar_blender.render.images").load_png
    quiet = _addon_module(ext, "signavatar_blender.render.pipeline").quiet
    scene = scene_mod.make_scene(settings)
    scene_mod.output_png(scene, str(tmp / "frame.png"))
    tiles = []
    for r, (label, (rig, _)) in enumerate(rows.items()):
        coll = bpy.data.collections.new(f"row {r}")
        for obj in [rig, *rig.children_recursive]:
            coll.objects.link(obj)
        scene.collection.children.link(coll)
        scene_mod.set_camera(scene, cams[label])
        row = []
        for k, f in enumerate(frames):
            scene.render.filepath = str(tmp / f"row{r}_{k}.png")
            # our scene as *the* scene, as the renderer does: else its animation is not evaluated (no window)
            with quiet(), bpy.context.temp_override(scene=scene, view_layer=scene.view_layers[0]):
                scene.frame_set(int(f))
                bpy.ops.render.render(write_still=True, scene=scene.name)
            row.append(load_png(scene.render.filepath)[..., :3])
        scene.collection.children.unlink(coll)
        tiles.append(row)
    return tiles


def contact_sheet(ext, tiles, labels, frames, path: Path) -> Path:
    """Rows of frames, each captioned with its rig, laid out by the project's contact-sheet code and written
    atomically as a 256-colour PNG (a quarter of the full-colour size, no visible difference on flat shading)."""
    from PIL import Image

    sheet = _addon_module(ext, "signavatar_blender.render.sheet")
    background = _addon_module(ext, "signavatar_blender.render.settings").DEFAULT_BACKGROUND
    rows = []
    for row, label in zip(tiles, labels):
        strip = sheet.compose(row, columns=len(row), gap=4, background=background)
        img = Image.fromarray(np.clip(np.round(strip * 255), 0, 255).astype(np.uint8))
        text = f"{label}   (frames {', '.join(str(int(f)) for f in frames)})"
        rows.append(np.asarray(caption(img, text, size=18), dtype=np.float32) / 255.0)
    whole = np.clip(np.round(sheet.compose(rows, columns=1, gap=0, background=background) * 255), 0, 255)
    picture = Image.fromarray(whole.astype(np.uint8)).quantize(
        colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG)
    atomic = _addon_module(ext, "signavatar_blender.runtime_bridge").atomic()
    return atomic.write_with(path, lambda tmp: picture.save(tmp, format="PNG", optimize=True))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gloss", default="drink", help="sign to generate with the shipped model (drink: arm and "
                   "handshape both move)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--frames", type=int, default=4, help="frames per row, start to end of the sign (2-6)")
    p.add_argument("--take", type=Path, default=TAKE, help="FBX with the Mixamo rig")
    p.add_argument("--out", type=Path, required=True, help="PNG to write")
    a = p.parse_args(argv)
    if not 2 <= a.frames <= 6:
        p.error(f"--frames must be from 2 to 6, got {a.frames}")
    if not a.take.is_file():
        p.error(f"no such file: {a.take}")
    if not a.out.parent.is_dir():
        p.error(f"no such folder: {a.out.parent}")

    import bpy

    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="signavatar-rigs-"))
    ext = enable_addon(bpy, tmp, None)
    rows = build_rigs(bpy, ext, a.take)
    strips = {}
    for label, (rig, _) in rows.items():
        if label != "built-in avatar":
            _use_selected(bpy, rig)
        else:
            bpy.context.scene.signavatar.armature = rig
        match, strip = _sign(bpy, ext, a.gloss, a.seed)
        strips[label] = (strip.frame_start, strip.frame_end)
        print(f"{label}: {match}, frames {strip.frame_start:g}-{strip.frame_end:g}")
    if len(set(strips.values())) != 1:
        raise SystemExit(f"error: the sign was keyed differently on the rigs: {strips}")
    first, last = next(iter(strips.values()))
    frames = _addon_module(ext, "signavatar_blender.render.sheet").sheet_frames(int(first), int(math.floor(last)),
                                                                                a.frames)
    for rig, bones in rows.values():
        if bones:
            give_body(bpy, rig, bones, _head_bone(ext, rig, bones))
    cams = framings(ext, bpy.context.scene, rows, frames, TILE[0] / TILE[1])
    t1 = time.perf_counter()
    (tmp / "frames").mkdir()
    tiles = render_rows(bpy, ext, rows, cams, frames, tmp / "frames")
    shutil.rmtree(tmp / "frames")
    t2 = time.perf_counter()
    out = contact_sheet(ext, tiles, list(rows), frames, a.out)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"wrote {out} ({out.stat().st_size / 1000:.0f} kB): set-up {t1 - t0:.0f} s, "
          f"{len(rows) * len(frames)} Workbench frames {t2 - t1:.0f} s (load average {load})")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # skip bpy's slow exit (it hangs with Rigify enabled)
