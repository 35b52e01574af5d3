"""``import-motion``: a sign animation made on a humanoid rig (FBX, BVH, or an action in a .blend) -> ``SignMotion``.

The file is opened in an empty scene, its armature bound through the bone mapping (a preset, the
heuristic, or ``--mapping FILE.json``), and the evaluated animation is turned back into SMPL-X
axis-angle (:func:`.retarget_math.poses_from_world`) at the file's frame rate. ``--rest-frame N``
uses the pose at frame N as the rig's reference instead of its rest pose, for takes whose rest
pose is not their T-pose.
"""

from __future__ import annotations

from pathlib import Path

SUFFIXES = (".fbx", ".bvh", ".blend")


def add_parser(sub):
    p = sub.add_parser("import-motion", help="turn a sign animation on a humanoid rig (FBX/BVH/.blend) into a "
                                             "SignMotion .npz",
                       description="Import a sign animation made on a Mixamo, Rigify, VRM, Unreal or other humanoid "
                                   "rig (FBX, BVH, or an action in a .blend file) as an AMASS-style SMPL-X motion file.")
    p.add_argument("file", metavar="FILE", help="FBX, BVH or .blend file")
    p.add_argument("-o", "--out", required=True, metavar="NPZ", help="the motion file to write (.npz)")
    p.add_argument("--mapping", metavar="JSON", help="bone mapping file (default: detected from the bone names)")
    p.add_argument("--armature", metavar="NAME", help="the armature to read when the file has several")
    p.add_argument("--action", metavar="NAME", help="the action to read (default: the armature's active one)")
    p.add_argument("--frames", metavar="A:B", help="frame range to read (default: the action's)")
    p.add_argument("--gloss", default="", help="gloss stored in the motion (default: the file name)")
    p.set_defaults(func=run)
    return p


def _frames(text: str | None, action) -> range:
    if text:
        a, sep, b = text.partition(":")
        try:
            first, last = int(a), int(b)
        except ValueError:
            raise ValueError(f"--frames expects A:B (two whole frame numbers), got '{text}'") from None
        if not sep or last < first:
            raise ValueError(f"--frames expects A:B with A <= B, got '{text}'")
        return range(first, last + 1)
    lo, hi = action.frame_range
    return range(int(round(lo)), int(round(hi)) + 1)


def import_motion(path, mapping_file=None, armature=None, action=None, frames=None, gloss=""):
    """Read ``path`` into a fresh scene and return its animation as a ``SignMotion``."""
    import bpy
    import numpy as np

    from .. import runtime_bridge as bridge
    from . import binding as rb
    from . import mapping as mapping_mod

    err = bridge.error()
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise err(f"'{path.name}': expected an FBX, BVH or .blend file")
    if not path.is_file():
        raise err(f"no such file: {path}")
    mapping = None
    if mapping_file:
        try:
            mapping = mapping_mod.from_json(Path(mapping_file).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise err(f"cannot read the mapping {mapping_file}: {e}") from None
    if path.suffix.lower() == ".blend":
        bpy.ops.wm.open_mainfile(filepath=str(path))
    else:
        bpy.ops.wm.read_factory_settings(use_empty=True)
        try:
            if path.suffix.lower() == ".fbx":
                result = bpy.ops.import_scene.fbx(filepath=str(path), use_anim=True)
            else:
                result = bpy.ops.import_anim.bvh(filepath=str(path), update_scene_fps=True,
                                                 update_scene_duration=True)
        except RuntimeError as e:
            raise err(f"'{path.name}' could not be read: {str(e).strip()}") from None
        if "FINISHED" not in result:
            raise err(f"'{path.name}' could not be read")
    rigs = [o for o in bpy.context.scene.objects if o.type == "ARMATURE"]
    if armature:
        rigs = [o for o in rigs if o.name == armature]
        if not rigs:
            raise err(f"'{path.name}' has no armature named '{armature}'")
    if len(rigs) != 1:
        names = ", ".join(o.name for o in rigs) or "none"
        raise err(f"'{path.name}' has {len(rigs)} armatures ({names}): choose one with --armature")
    obj = rigs[0]
    adt = obj.animation_data
    if action:
        act = bpy.data.actions.get(action)
        if act is None:
            raise err(f"'{path.name}' has no action named '{action}'")
        adt = adt or obj.animation_data_create()
        adt.action = act
        if getattr(adt, "action_suitable_slots", None):
            adt.action_slot = adt.action_suitable_slots[0]
    if adt is None or adt.action is None:
        raise err(f"'{obj.name}' in '{path.name}' has no animation to import")
    try:
        span = _frames(frames, adt.action)
    except ValueError as e:
        raise err(str(e)) from None
    binding = rb.bind(obj, mapping)
    poses, trans = rb.bake(bpy.context, binding, span)
    scene = bpy.context.scene
    fps = scene.render.fps / scene.render.fps_base
    return bridge.runtime("motion").SignMotion(
        poses=poses.astype(np.float32), trans=trans.astype(np.float32), fps=fps, gloss=gloss or path.stem,
        gender="neutral", source=f"import:{path.name}:{binding.mapping.source}")


def run(args) -> int:
    import sys

    from .. import runtime_bridge as bridge

    try:
        out = Path(args.out)
        if out.suffix != ".npz":
            raise bridge.error()(f"the output is a motion file ending in .npz, got '{out.name}'")
        motion = import_motion(args.file, args.mapping, args.armature, args.action, args.frames, args.gloss)
        motion.save(out)
    except bridge.error() as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({motion.num_frames} frames at {motion.fps:g} fps, gloss '{motion.gloss}')")
    return 0
