"""The operators as an animator uses them: create an avatar, generate, image, video, export; bad input refused.

Operators run with EXEC_DEFAULT (the same work the modal version runs in a thread). In
background mode Blender turns an operator's ERROR report into a RuntimeError carrying
the message, which is what these tests read.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

from conftest import ADDON, REPO, bone_heads_world, fk_world, random_motion, require_shared, scene_fingerprint, sub

DEFAULT_MODEL = REPO / "model_runtime" / "checkpoints" / "default"


def _model_complete(folder: Path) -> bool:
    return all((folder / f).is_file() for f in ("config.json", "model.safetensors", "glosses.json"))


@pytest.fixture(scope="session")
def default_model() -> Path:
    """The shipped model; a test that needs it fails under CI and skips elsewhere when it is missing."""
    if _model_complete(DEFAULT_MODEL):
        return DEFAULT_MODEL
    msg = f"the default model is not in {DEFAULT_MODEL}"
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def clip_model(tmp_path_factory):
    """A tiny CLIP-conditioned model (random open_clip weights) trained for a moment on synthetic signs."""
    from model_synth import tiny_clip_files, trained_run

    root = tmp_path_factory.mktemp("clip_model")
    cfg, weights = tiny_clip_files(root / "clip")
    run = trained_run(root, name="clip", epochs=1,
                      extra=["--encoder", f"clip:{cfg}", "--clip-weights", str(weights)])
    return run, weights


def prefs():
    import bpy

    return bpy.context.preferences.addons[ADDON].preferences


def avatar(bpy, body="neutral"):
    assert bpy.ops.signavatar.create_avatar(body=body) == {"FINISHED"}
    return bpy.context.scene.signavatar.armature


def strips(obj):
    return [s for t in obj.animation_data.nla_tracks for s in t.strips] if obj.animation_data else []


# ---- avatar --------------------------------------------------------------------------------------

@pytest.mark.parametrize("body,stature", [("female", 1.63), ("neutral", 1.70)])
def test_create_avatar_gives_a_skinned_body_on_the_floor(addon, body, stature):
    import bpy

    rig = avatar(bpy, body)
    assert rig.type == "ARMATURE" and len(rig.data.bones) == 55
    meshes = [o for o in rig.children if o.type == "MESH"]
    assert len(meshes) == 1
    body_obj = meshes[0]
    assert body_obj.modifiers[0].type == "ARMATURE" and body_obj.modifiers[0].object == rig
    co = np.array([tuple(v.co) for v in body_obj.data.vertices])
    assert abs(co[:, 2].min()) < 0.01  # stands on the floor
    assert abs(co[:, 2].max() - stature) < 0.02  # as tall as its skeleton
    # every vertex is skinned, to at most four bones, weights summing to one
    for v in list(body_obj.data.vertices)[::97]:
        ws = [g.weight for g in v.groups]
        assert 1 <= len(ws) <= 4 and abs(sum(ws) - 1.0) < 0.02
    names = {m.name for m in body_obj.data.materials}
    assert {"SignAvatar Skin", "SignAvatar Shirt", "SignAvatar Eyes"} <= names


def test_avatar_fingers_bend_with_their_bones(addon):
    """Curling the right index finger moves the fingertip skin with it and leaves the middle finger alone."""
    import bpy

    rig = avatar(bpy, "neutral")
    body = rig.children[0]
    dg = bpy.context.evaluated_depsgraph_get()

    def verts():
        ev = body.evaluated_get(bpy.context.evaluated_depsgraph_get())
        return np.array([tuple(v.co) for v in ev.data.vertices])

    rest = verts()
    tip = np.array(rig.data.bones["right_index3"].tail_local)
    mid_tip = np.array(rig.data.bones["right_middle3"].tail_local)
    near_tip = np.linalg.norm(rest - tip, axis=1) < 0.008
    near_mid = np.linalg.norm(rest - mid_tip, axis=1) < 0.008
    assert near_tip.any() and near_mid.any()
    for n in ("right_index1", "right_index2", "right_index3"):
        pb = rig.pose.bones[n]
        pb.rotation_mode = "QUATERNION"
        pb.rotation_quaternion = (np.cos(0.4), np.sin(0.4), 0.0, 0.0)  # 46 degrees about the bone's X axis
    dg.update()
    posed = verts()
    assert np.linalg.norm(posed[near_tip] - rest[near_tip], axis=1).min() > 0.02
    assert np.linalg.norm(posed[near_mid] - rest[near_mid], axis=1).max() < 1e-5


def test_skin_deforms_smoothly_at_elbows_wrists_and_knuckles(addon):
    """Bent elbows, wrist and a fist: skin edges stretch and shrink within bounds, as with blended weights."""
    import bpy

    rig = avatar(bpy, "neutral")
    body = rig.children[0]
    J = sub("model_runtime.skeleton").JOINT_INDEX
    poses = np.zeros((1, 55, 3), np.float32)
    poses[0, J["right_shoulder"]], poses[0, J["left_shoulder"]] = (0, 0, 1.2), (0, 0, -1.2)
    poses[0, J["right_elbow"]], poses[0, J["left_elbow"]] = (0, -1.8, 0), (0, 1.8, 0)
    poses[0, J["right_wrist"]] = (0.0, 0.0, 0.8)
    for f in ("index", "middle", "ring", "pinky"):
        for k in (1, 2, 3):
            poses[0, J[f"right_{f}{k}"], 2] = 1.3  # a fist
    motion = sub("model_runtime.motion").SignMotion(poses=poses, trans=np.zeros((1, 3), np.float32), fps=30)
    sub("signavatar_blender.rig.keying").key_motion(rig, motion, start=1)
    bpy.context.scene.frame_set(1)
    posed = body.evaluated_get(bpy.context.evaluated_depsgraph_get()).data
    p = np.zeros(len(posed.vertices) * 3)
    posed.vertices.foreach_get("co", p)
    r = np.zeros(len(body.data.vertices) * 3)
    body.data.vertices.foreach_get("co", r)
    e = np.zeros(len(body.data.edges) * 2, np.int32)
    body.data.edges.foreach_get("vertices", e)
    p, r, e = p.reshape(-1, 3), r.reshape(-1, 3), e.reshape(-1, 2)
    ratio = np.linalg.norm(p[e[:, 0]] - p[e[:, 1]], axis=1) / np.linalg.norm(r[e[:, 0]] - r[e[:, 1]], axis=1)
    lo, hi = np.percentile(ratio, [0.1, 99.9])
    assert 0.25 < lo and hi < 1.8 and ratio.max() < 2.5, (ratio.min(), lo, hi, ratio.max())


def test_use_selected_armature(addon):
    import bpy

    rig = avatar(bpy)
    bpy.context.scene.signavatar.armature = None
    bpy.context.view_layer.objects.active = rig
    assert bpy.ops.signavatar.use_selected_armature() == {"FINISHED"}
    assert bpy.context.scene.signavatar.armature == rig
    bpy.ops.mesh.primitive_cube_add()
    before = scene_fingerprint()
    with pytest.raises(RuntimeError, match="'Cube' is a mesh object, not an armature"):
        bpy.ops.signavatar.use_selected_armature()
    assert scene_fingerprint() == before


# ---- generate ------------------------------------------------------------------------------------

def test_generate_keys_the_matched_sign(addon, default_model):
    import bpy

    gen = sub("signavatar_blender.runtime_bridge.models").generator(sub("signavatar_blender.ui.preferences").settings())
    gloss = sorted(gen.vocabulary)[0]
    rig = avatar(bpy, "female")
    props = bpy.context.scene.signavatar
    props.gloss, props.variations, props.seed = gloss.upper(), 2, 3  # spelling variants still match
    assert bpy.ops.signavatar.generate() == {"FINISHED"}
    st = bpy.context.window_manager.signavatar
    assert f"\u2192 {gloss} (exact)" in st.last_match
    keyed = strips(rig)
    assert len(keyed) == 2 and all(s.action.name.startswith(gloss) for s in keyed)
    assert keyed[1].frame_start > keyed[0].frame_end  # variations follow each other
    assert bpy.context.scene.frame_end >= keyed[1].frame_end
    # the keyed rig shows exactly the generated motion (same seed -> same motion)
    [motion] = gen.generate(gloss, seed=3, n=1)
    bpy.context.scene.render.fps = int(round(motion.fps))
    keyed[0].scale = 1.0
    sk = sub("model_runtime.skeleton")
    expected = fk_world(motion, "female", rig.matrix_world)
    got = bone_heads_world(rig, sk.JOINT_NAMES, int(keyed[0].frame_start) + 5)
    assert np.abs(got - expected[5]).max() < 1e-3


def test_sentence_is_keyed_as_one_clip_with_a_fingerspelled_name(addon, default_model):
    import bpy

    gen = sub("signavatar_blender.runtime_bridge.models").generator(sub("signavatar_blender.ui.preferences").settings())
    a, b = sorted(gen.vocabulary)[:2]
    rig = avatar(bpy)
    props = bpy.context.scene.signavatar
    props.sentence, props.sentence_hold, props.temperature = f"  {a}  {b} bob ", 0.2, 0.5
    assert bpy.ops.signavatar.generate_sentence() == {"FINISHED"}
    st = bpy.context.window_manager.signavatar
    assert f"{a} \u2192 {a}" in st.last_match and "B-O-B" in st.last_match
    [strip] = strips(rig)
    expected = sub("model_runtime.sentence").generate_sentence(f"{a} {b} bob", generator=gen, seed=0, hold=0.2,
                                                               temperature=0.5).motion
    assert strip.action_frame_end - strip.action_frame_start == pytest.approx(expected.num_frames - 1)
    props.sentence = "   "
    before = scene_fingerprint()
    with pytest.raises(RuntimeError, match="Sentence field"):
        bpy.ops.signavatar.generate_sentence()
    assert scene_fingerprint() == before


def test_unknown_sign_is_refused_with_suggestions_and_nothing_changes(addon, default_model):
    import bpy

    avatar(bpy)
    bpy.context.scene.signavatar.gloss = "qwzxv plorkh"
    before = scene_fingerprint()
    with pytest.raises(RuntimeError, match="qwzxv plorkh"):
        bpy.ops.signavatar.generate()
    assert scene_fingerprint() == before
    assert bpy.context.window_manager.signavatar.suggestions


def test_generate_without_avatar_or_text_is_refused(addon):
    import bpy

    bpy.context.scene.signavatar.gloss = "hello"
    before = scene_fingerprint()
    with pytest.raises(RuntimeError, match="no target armature"):
        bpy.ops.signavatar.generate()
    avatar(bpy)
    bpy.context.scene.signavatar.gloss = "   "
    before = scene_fingerprint()
    with pytest.raises(RuntimeError, match="type a sign"):
        bpy.ops.signavatar.generate()
    assert scene_fingerprint() == before


def test_a_missing_model_folder_is_reported(addon, tmp_path):
    import bpy

    avatar(bpy)
    prefs().model_folder = str(tmp_path / "nowhere")
    bpy.context.scene.signavatar.gloss = "hello"
    before = scene_fingerprint()
    with pytest.raises(RuntimeError, match="model folder not found"):
        bpy.ops.signavatar.generate()
    assert scene_fingerprint() == before


# ---- image ---------------------------------------------------------------------------------------

def test_sign_from_image_with_a_clip_model(addon, clip_model, tmp_path):
    import bpy
    from PIL import Image

    run, weights = clip_model
    prefs().model_folder, prefs().clip_weights = str(run), str(weights)
    rig = avatar(bpy)
    img = tmp_path / "cup.png"
    Image.fromarray((np.random.default_rng(0).random((40, 40, 3)) * 255).astype(np.uint8)).save(img)
    assert bpy.ops.signavatar.sign_from_image(filepath=str(img)) == {"FINISHED"}
    assert len(strips(rig)) == 1
    assert bpy.context.window_manager.signavatar.last_match.startswith("cup.png \u2192 ")
    # a corrupt image is refused and changes nothing
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a picture")
    before = scene_fingerprint()
    with pytest.raises(RuntimeError, match="not an image this reader knows"):
        bpy.ops.signavatar.sign_from_image(filepath=str(bad))
    assert scene_fingerprint() == before


def test_image_without_weights_file_is_refused(addon, tmp_path):
    import bpy

    prefs().clip_weights = str(tmp_path / "missing.safetensors")
    avatar(bpy)
    img = tmp_path / "x.png"
    img.write_bytes(b"")
    before = scene_fingerprint()
    with pytest.raises(RuntimeError, match="CLIP weights file not found"):
        bpy.ops.signavatar.sign_from_image(filepath=str(img))
    assert scene_fingerprint() == before


def test_sign_from_image_with_the_shipped_model_reads_the_word(addon, default_model, tmp_path):
    """A printed word dropped on the viewport becomes its sign; an unreadable picture is refused, scene unchanged."""
    import bpy
    import matplotlib
    from PIL import Image, ImageDraw, ImageFont

    prefs().model_folder = str(default_model)
    rig = avatar(bpy)
    font = ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans-Bold.ttf"), 80)
    img = Image.new("RGB", (480, 240), "white")
    ImageDraw.Draw(img).text((240, 120), "HELLO", fill="black", font=font, anchor="mm")
    img.save(tmp_path / "hello.png")
    assert bpy.ops.signavatar.sign_from_image(filepath=str(tmp_path / "hello.png")) == {"FINISHED"}
    st = bpy.context.window_manager.signavatar
    assert len(strips(rig)) == 1 and st.image_result.startswith("hello.png: read \u201chello\u201d")
    assert st.image_result.endswith("\u2192 hello") and "read" in st.image_evidence
    noise = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "noise.png")
    before = scene_fingerprint()
    with pytest.raises(RuntimeError, match="no sign for noise.png"):
        bpy.ops.signavatar.sign_from_image(filepath=str(tmp_path / "noise.png"))
    assert scene_fingerprint() == before
    assert st.image_result == "noise.png: no sign" and st.image_suggestions


# ---- video ---------------------------------------------------------------------------------------

def _shared_videos() -> list[dict]:
    folder = require_shared("videos")
    rows = list(csv.DictReader(open(folder / "manifest.csv")))
    for r in rows:
        r["path"] = folder / r["file"]
    return sorted(rows, key=lambda r: int(r["frames"]) * int(r["width"]) * int(r["height"]))


def test_video_raw_ik_then_reconstructed_by_the_model(addon):
    """Raw IK keys the signer's motion; switching to Reconstructed reuses the IK and runs the model on it."""
    import bpy

    videos = _shared_videos()
    video = videos[0]
    rig = avatar(bpy)
    props = bpy.context.scene.signavatar
    props.video_mode = "RAW"
    assert bpy.ops.signavatar.sign_from_video(filepath=str(video["path"])) == {"FINISHED"}
    [strip] = strips(rig)
    assert strip.action.name == f"{Path(video['file']).stem} (IK)"
    # the panel says how many seconds were keyed, and on which rig
    st = bpy.context.window_manager.signavatar
    keyed_s = (strip.frame_end - strip.frame_start) / bpy.context.scene.render.fps
    assert st.video_result.startswith(f"{strip.action.name}: ") and f"keyed on '{rig.name}'" in st.video_result
    said_s = float(st.video_result.split(": ", 1)[1].split(" s ", 1)[0])
    assert abs(said_s - keyed_s) <= 0.15 + 1 / bpy.context.scene.render.fps, (st.video_result, keyed_s)
    # the arms move during the sign
    sk = sub("model_runtime.skeleton")
    wrists = [sk.JOINT_NAMES.index(n) for n in ("left_wrist", "right_wrist")]
    first = bone_heads_world(rig, sk.JOINT_NAMES, int(strip.frame_start))[wrists]
    path = np.array([bone_heads_world(rig, sk.JOINT_NAMES, f)[wrists]
                     for f in range(int(strip.frame_start), int(strip.frame_end) + 1, 3)])
    assert np.linalg.norm(path - first, axis=-1).max() > 0.05

    if not _model_complete(DEFAULT_MODEL):  # the rest needs the shipped model
        if os.environ.get("CI"):
            pytest.fail(f"the default model is not in {DEFAULT_MODEL}")
        pytest.skip(f"the default model is not in {DEFAULT_MODEL} (raw IK part passed)")
    gen = sub("signavatar_blender.runtime_bridge.models").generator(sub("signavatar_blender.ui.preferences").settings())
    err = sub("model_runtime.errors").SignAvatarError

    def known_as(gloss):
        try:
            m = gen.match(gloss)
        except err:
            return None
        return m.gloss if m.exact else None

    known = [v for v in videos if known_as(v["gloss"])]
    if not known:  # the shipped model knows hello, thank you ...: under CI this is a regression, not a skip
        (pytest.fail if os.environ.get("CI") else pytest.skip)("no shared video shows a sign the default model knows")
    video = video if video in known else known[0]
    props.video_mode, props.video_gloss = "MODEL", video["gloss"]
    assert bpy.ops.signavatar.sign_from_video(filepath=str(video["path"])) == {"FINISHED"}
    last = max(strips(rig), key=lambda s: s.frame_start)
    assert last.action.name == f"{known_as(video['gloss'])} (video)"
    assert last.frame_start > strip.frame_end  # placed after the raw clip


def test_bad_videos_are_refused_and_nothing_changes(addon, tmp_path):
    import bpy

    avatar(bpy)
    props = bpy.context.scene.signavatar
    props.video_mode = "RAW"
    corrupt = tmp_path / "broken.mp4"
    corrupt.write_bytes(os.urandom(4096))
    before = scene_fingerprint()
    with pytest.raises(RuntimeError, match="broken.mp4"):
        bpy.ops.signavatar.sign_from_video(filepath=str(corrupt))
    with pytest.raises(RuntimeError, match="video not found"):
        bpy.ops.signavatar.sign_from_video(filepath=str(tmp_path / "none.mp4"))
    with pytest.raises(RuntimeError, match="not a video file"):
        bpy.ops.signavatar.sign_from_video(filepath=str(REPO / "README.md"))
    props.video_mode = "MODEL"
    props.video_gloss = ""
    with pytest.raises(RuntimeError, match="Sign Shown"):
        bpy.ops.signavatar.sign_from_video(filepath=str(corrupt))
    assert scene_fingerprint() == before


# ---- export --------------------------------------------------------------------------------------

def test_export_npz_round_trips_the_keyed_motion(addon, tmp_path):
    import bpy

    rig = avatar(bpy, "male")
    scene = bpy.context.scene
    scene.render.fps = 30
    motion = random_motion(frames=10, seed=5, gender="male", gloss="WATER")
    sub("signavatar_blender.rig.keying").key_motion(rig, motion, start=1, scene_fps=30)
    scene.frame_start, scene.frame_end = 1, 10
    out = tmp_path / "water.npz"
    assert bpy.ops.signavatar.export_npz(filepath=str(out)) == {"FINISHED"}
    back = sub("model_runtime.motion").SignMotion.load(out)
    assert back.num_frames == 10 and back.fps == 30 and back.gender == "male" and back.gloss == "WATER"
    rot = sub("model_runtime.rotations")
    import torch

    a = rot.axis_angle_to_matrix(torch.from_numpy(motion.poses).double())
    b = rot.axis_angle_to_matrix(torch.from_numpy(back.poses).double())
    assert (a - b).abs().max() < 1e-4
    assert np.abs(back.trans - motion.trans).max() < 1e-5


def test_export_bvh_and_fbx(addon, tmp_path):
    import bpy

    rig = avatar(bpy)
    sub("signavatar_blender.rig.keying").key_motion(rig, random_motion(frames=6), start=1, scene_fps=24)
    bpy.context.scene.frame_start, bpy.context.scene.frame_end = 1, 6
    selected = [o.name for o in bpy.context.selected_objects]
    bvh = tmp_path / "sign.bvh"
    assert bpy.ops.signavatar.export_bvh(filepath=str(bvh)) == {"FINISHED"}
    text = bvh.read_text()
    assert "ROOT pelvis" in text and "JOINT right_thumb3" in text and "Frames: 6" in text
    fbx = tmp_path / "sign.fbx"
    assert bpy.ops.signavatar.export_fbx(filepath=str(fbx)) == {"FINISHED"}
    assert fbx.read_bytes()[:18] == b"Kaydara FBX Binary"
    assert [o.name for o in bpy.context.selected_objects] == selected  # the user's selection is kept
    assert (bpy.context.scene.frame_start, bpy.context.scene.frame_end) == (1, 6)


def test_export_without_avatar_is_refused(addon, tmp_path):
    import bpy

    with pytest.raises(RuntimeError, match="no target armature"):
        bpy.ops.signavatar.export_npz(filepath=str(tmp_path / "x.npz"))
    assert not (tmp_path / "x.npz").exists()


@pytest.mark.parametrize("op", ["export_npz", "export_bvh", "export_fbx"])
def test_export_to_a_place_that_cannot_be_written_is_one_error_and_no_file(addon, tmp_path, op):
    import bpy

    rig = avatar(bpy)
    sub("signavatar_blender.rig.keying").key_motion(rig, random_motion(frames=3), start=1, scene_fps=24)
    bpy.context.scene.frame_start, bpy.context.scene.frame_end = 1, 3
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder should be")
    ext = op.rpartition("_")[2]
    with pytest.raises(RuntimeError) as e:
        getattr(bpy.ops.signavatar, op)(filepath=str(blocker / f"sign.{ext}"))
    lines = [ln for ln in str(e.value).splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Unexpected error" not in lines[0], lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not_a_folder"]
