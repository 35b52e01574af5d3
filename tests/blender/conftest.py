"""The bpy test suite: Blender as a Python module, the add-on registered as a real extension.

The repository root is exposed to Blender as an extension named ``signavatar`` in a
throw-away extension repository (a symlink, so tests run the working tree), exactly as an
installed zip would be: the add-on is ``bl_ext.signavatar_test.signavatar``, its
``model_runtime`` a subpackage. The ``addon`` fixture resets Blender to factory settings
and enables the add-on again, so every test starts from a clean scene.

Modules here import ``bpy`` lazily: the numpy-only tests in this folder run without it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
REPO_NAME = "signavatar_test"
ADDON = f"bl_ext.{REPO_NAME}.signavatar"
_TMP = Path(tempfile.mkdtemp(prefix="signavatar-bpy-tests-"))
# a private user profile (takes effect when bpy is first imported by this suite)
os.environ.setdefault("BLENDER_USER_RESOURCES", str(_TMP / "user"))

_root = importlib.util.spec_from_file_location("_signavatar_tests_root", REPO / "tests" / "conftest.py")
_root_conftest = importlib.util.module_from_spec(_root)
_root.loader.exec_module(_root_conftest)
require_shared = _root_conftest.require_shared


def _repo_dir() -> Path:
    d = _TMP / "extensions"
    d.mkdir(exist_ok=True)
    link = d / "signavatar"
    if not link.exists():
        link.symlink_to(REPO, target_is_directory=True)
    return d


def enable_addon():
    """Factory settings, our extension repository, the add-on enabled; returns the add-on's package."""
    import bpy  # noqa: I001 - bpy first: it puts Blender's script modules (addon_utils) on sys.path
    import addon_utils

    bpy.ops.wm.read_factory_settings(use_empty=True)
    repos = bpy.context.preferences.extensions.repos
    if not any(r.module == REPO_NAME for r in repos):
        repos.new(name=REPO_NAME, module=REPO_NAME, custom_directory=str(_repo_dir()), source="USER")
    errors = []
    mod = addon_utils.enable(ADDON, default_set=True, handle_error=errors.append)
    if mod is None or errors:
        raise RuntimeError(f"could not enable {ADDON}: {errors}")
    return mod


def sub(name: str):
    """A submodule of the enabled add-on, e.g. ``sub("signavatar_blender.rig.keying")``."""
    return importlib.import_module(f"{ADDON}.{name}")


@pytest.fixture
def addon():
    yield enable_addon()
    import bpy  # noqa: F401
    import addon_utils

    addon_utils.disable(ADDON, default_set=True)


@pytest.fixture
def bpy_module(addon):
    import bpy

    return bpy


def motion_cls():
    return sub("model_runtime.motion").SignMotion


def random_motion(frames: int = 12, seed: int = 0, scale: float = 0.4, gender: str = "neutral", gloss: str = "TEST",
                  fps: float = 30.0, trans_scale: float = 0.05):
    """A motion of random (but moderate) rotations on every joint, as the add-on's own SignMotion."""
    rng = np.random.default_rng(seed)
    poses = rng.normal(0.0, scale, (frames, 55, 3)).astype(np.float32)
    trans = rng.normal(0.0, trans_scale, (frames, 3)).astype(np.float32)
    return motion_cls()(poses=poses, trans=trans, fps=fps, gloss=gloss, gender=gender, source="test")


def fk_world(motion, gender: str, matrix_world=None) -> np.ndarray:
    """(T, 55, 3) joint positions by model_runtime FK, converted to Blender (Z-up, floor at 0, object transform)."""
    import torch

    sk = sub("model_runtime.skeleton")
    rot = sub("model_runtime.rotations")
    rest = sk.rest_skeleton(gender)
    fk = sk.forward_kinematics(rot.axis_angle_to_matrix(torch.from_numpy(motion.poses).double()), rest.joints,
                               torch.from_numpy(motion.trans).double())
    p = fk.positions.numpy()
    zup = np.stack([p[..., 0], -p[..., 2], p[..., 1]], axis=-1) + np.array([0.0, 0.0, -rest.floor_y])
    if matrix_world is not None:
        m = np.array(matrix_world)
        zup = zup @ m[:3, :3].T + m[:3, 3]
    return zup


def bone_heads_world(obj, names, frame: int) -> np.ndarray:
    """World positions of the named bones' heads at ``frame`` (evaluated depsgraph)."""
    import bpy

    bpy.context.scene.frame_set(frame)
    ev = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
    return np.array([tuple(ev.matrix_world @ ev.pose.bones[n].head) for n in names])


def scene_fingerprint() -> dict:
    """What an operator that fails must leave unchanged."""
    import bpy

    sc = bpy.context.scene
    return {
        "objects": sorted(o.name for o in bpy.data.objects),
        "actions": sorted(a.name for a in bpy.data.actions),
        "meshes": len(bpy.data.meshes),
        "tracks": sorted((o.name, t.name, len(t.strips)) for o in bpy.data.objects if o.animation_data
                         for t in o.animation_data.nla_tracks),
        "frames": (sc.frame_start, sc.frame_end, sc.frame_current),
        "armature": sc.signavatar.armature.name if getattr(sc, "signavatar", None) and sc.signavatar.armature else None,
    }


def run_op(op, **kwargs):
    """Run ``bpy.ops.<...>`` with EXEC_DEFAULT; returns (result set, error message or '')."""
    try:
        return op("EXEC_DEFAULT", **kwargs), ""
    except RuntimeError as e:
        return {"CANCELLED"}, str(e)
