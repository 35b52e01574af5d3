"""Keying speed: the add-on's bulk keying vs per-frame ``keyframe_insert`` on the same rig, same run.

    .venv/bin/python benchmarks/bench_keying.py [--frames 120] [--repeats 3]

Both paths key the same motion (55 bones x 4 quaternion channels + pelvis location) on the
built-in neutral armature (no body mesh, so only keying is measured). The baseline is the
obvious script: per frame, set every pose bone and call ``keyframe_insert``; it gets the
same numpy-converted quaternions, so only the writing differs. Prints the median times
and the speed-up (goal: >= 20x).
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--frames", type=int, default=120)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args(argv)

    import bpy

    from model_runtime.motion import SignMotion
    from signavatar_blender.avatar import build as avatar
    from signavatar_blender.rig import keying, rig_math

    bpy.ops.wm.read_factory_settings(use_empty=True)
    rig = avatar.create_avatar(bpy.context, "neutral", body_mesh=False)
    rng = np.random.default_rng(0)
    motion = SignMotion(poses=rng.normal(0, 0.3, (a.frames, 55, 3)).astype(np.float32),
                        trans=rng.normal(0, 0.02, (a.frames, 3)).astype(np.float32), fps=30.0, gloss="BENCH")
    binding = keying.bind(rig)

    def bulk():
        keying.key_motion(binding, motion, start=1)

    def per_frame():
        quats = rig_math.bone_quaternions(motion.poses[:, list(binding.joints)], binding.rest_quats)
        loc = rig_math.pelvis_locations(motion.trans, binding.pelvis_rest, binding.smplx_to_arm, binding.scale)
        rig.animation_data_clear()
        pbs = [rig.pose.bones[b] for b in binding.bones]
        pelvis = rig.pose.bones[binding.bones[0]]
        for t in range(motion.num_frames):
            for j, pb in enumerate(pbs):
                pb.rotation_quaternion = quats[t, j]
                pb.keyframe_insert("rotation_quaternion", frame=t + 1)
            pelvis.location = loc[t]
            pelvis.keyframe_insert("location", frame=t + 1)

    def clean():
        rig.animation_data_clear()
        for act in list(bpy.data.actions):
            bpy.data.actions.remove(act)

    times = {"bulk (keyframe_points.add + foreach_set)": [], "per-frame keyframe_insert": []}
    for _ in range(a.repeats):
        for name, fn in (("bulk (keyframe_points.add + foreach_set)", bulk), ("per-frame keyframe_insert", per_frame)):
            clean()
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    keys = motion.num_frames * (len(binding.bones) * 4 + 3)
    print(f"bpy {bpy.app.version_string}, {motion.num_frames} frames, {len(binding.bones)} bones, {keys} keys, "
          f"median of {a.repeats}")
    for k, v in med.items():
        print(f"  {k:42s} {v * 1000:9.1f} ms  ({keys / v / 1e6:6.2f} M keys/s)")
    bulk_t, slow_t = med["bulk (keyframe_points.add + foreach_set)"], med["per-frame keyframe_insert"]
    print(f"  speed-up: {slow_t / bulk_t:.1f}x (goal >= 20x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
