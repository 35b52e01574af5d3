"""The installable zip: built with Blender's own extension tool, installed into a fresh profile, enabled."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from conftest import REPO

INSTALL_AND_USE = r"""
import sys, bpy, addon_utils
zip_path = sys.argv[-1]
assert bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default",
                                                 enable_on_install=True) == {"FINISHED"}
assert "bl_ext.user_default.signavatar" in bpy.context.preferences.addons
import bl_ext.user_default.signavatar.signavatar_blender.rig.keying as keying
import bl_ext.user_default.signavatar.signavatar_blender.avatar.build as avatar
import bl_ext.user_default.signavatar.model_runtime.motion as motion
import numpy as np
assert bpy.ops.signavatar.create_avatar.poll()
rig = avatar.create_avatar(bpy.context, "neutral", body_mesh=False)
m = motion.SignMotion(poses=np.zeros((5, 55, 3), np.float32), trans=np.zeros((5, 3), np.float32), fps=30, gloss="HI")
keying.key_motion(rig, m, start=1)
print("OK", bpy.utils.extension_path_user("bl_ext.user_default.signavatar", path="deps"))
"""


@pytest.fixture(scope="module")
def built_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    r = subprocess.run([sys.executable, str(REPO / "tools" / "build_extension.py"), "--out", str(out)],
                       capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Success parsing TOML" in r.stdout  # validated by Blender's tool
    [zip_path] = out.glob("signavatar-*.zip")
    return zip_path


def test_zip_holds_the_extension_and_nothing_else(built_zip):
    names = zipfile.ZipFile(built_zip).namelist()
    for need in ("blender_manifest.toml", "__init__.py", "install_deps.py", "constraints.txt",
                 "signavatar_blender/rig/keying.py", "model_runtime/skeleton.py", "model_runtime/motion.py"):
        assert need in names, need
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", ".venv/", "benchmarks/", "docs/"))]
    default = REPO / "model_runtime" / "checkpoints" / "default"
    for f in default.glob("*") if default.is_dir() else ():
        if f.is_file():
            assert f"model_runtime/checkpoints/default/{f.name}" in names


def test_zip_installs_into_a_fresh_profile_and_works(built_zip, tmp_path):
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp_path / "profile"))
    r = subprocess.run([sys.executable, "-c", INSTALL_AND_USE, str(built_zip)], capture_output=True, text=True,
                       env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    ok = [line for line in r.stdout.splitlines() if line.startswith("OK ")]
    assert ok and str(tmp_path / "profile") in ok[0]  # the add-on's own folder lives in the user profile
    assert (tmp_path / "profile" / "extensions" / "user_default" / "signavatar" / "model_runtime").is_dir()
