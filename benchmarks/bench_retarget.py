"""Retargeting speed: retarget + key a 120-frame sign on a Rigify, a Mixamo and a VRM-named rig vs the built-in avatar.

    .venv/bin/python benchmarks/bench_retarget.py [--frames 120] [--repeats 5] [--fbx TAKE.fbx]

Every rig keys the same random motion (every joint moving). "key" is the time of
``keying.key_motion`` with the rig already bound (what every Sign / Sentence / Video operator pays
per sign: the SMPL-X -> rig conversion plus writing the F-curves); "bind" is the one-off inspection
of the rig (for Rigify: measuring its constraint-driven controls, cached while the rig is unchanged).
Medians over ``--repeats``; prints the ratio to the built-in avatar (goal: key within 2x).
The Mixamo rig is the shared fingerspelling take ``../shared/mocap/fingerspelling/A.fbx`` by default.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "blender"))


def _timed(fn, repeats):
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--frames", type=int, default=120)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--fbx", default=str(REPO.parent / "shared" / "mocap" / "fingerspelling" / "A.fbx"))
    a = p.parse_args(argv)

    import bpy  # noqa: I001
    import addon_utils

    from conftest import enable_addon, sub
    from test_retarget import vrm_rig

    enable_addon()
    keying = sub("signavatar_blender.rig.keying")
    motion = sub("model_runtime.motion").SignMotion(
        poses=np.random.default_rng(0).normal(0, 0.3, (a.frames, 55, 3)).astype(np.float32),
        trans=np.zeros((a.frames, 3), np.float32), fps=30.0, gloss="BENCH", gender="neutral", source="bench")
    rigs = {"built-in avatar": sub("signavatar_blender.avatar.build").create_avatar(bpy.context, "neutral", body_mesh=False)}
    rigs["VRM-named"] = vrm_rig()
    if Path(a.fbx).is_file():
        bpy.ops.import_scene.fbx(filepath=a.fbx)
        mixamo = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE" and o.name.startswith("Armature"))
        mixamo.animation_data.action = None
        rigs["Mixamo"] = mixamo
    else:
        print(f"(no {a.fbx}: Mixamo skipped)")
    addon_utils.enable("rigify", default_set=True)
    bpy.ops.object.armature_human_metarig_add()
    bpy.ops.pose.rigify_generate()
    rigs["Rigify"] = bpy.data.objects["rig"]
    rows = []
    for name, rig in rigs.items():
        t = time.perf_counter()
        binding = keying.bind(rig)
        bind_s = time.perf_counter() - t
        key_s = _timed(lambda: keying.key_motion(binding, motion, start=1, scene_fps=30), a.repeats)
        rows.append((name, len(binding.bones), bind_s, key_s))
    base = rows[0][3]
    print(f"retarget + key a {a.frames}-frame sign (median of {a.repeats}):")
    print(f"{'rig':18s} {'bones':>5s} {'bind (once)':>12s} {'key':>9s} {'vs built-in':>12s}")
    for name, n, bind_s, key_s in rows:
        print(f"{name:18s} {n:5d} {bind_s * 1000:10.1f}ms {key_s * 1000:7.1f}ms {key_s / base:11.2f}x")
    return 0


if __name__ == "__main__":
    import os

    code = main()
    sys.stdout.flush()
    os._exit(code)  # skip bpy's slow exit
