"""The house rules that keep the layers apart, checked."""

import ast
import importlib
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNTIME = REPO / "model_runtime"


def imported_modules(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name, 0
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, node.module or "", node.level


def test_model_runtime_never_imports_bpy():
    bad = [f"{p.relative_to(REPO)}:{line} imports {name}"
           for p in RUNTIME.rglob("*.py")
           for line, name, _ in imported_modules(p)
           if name.split(".")[0] in ("bpy", "mathutils", "bmesh", "signavatar_blender")]
    assert not bad, "\n".join(bad)


def test_model_runtime_uses_relative_imports_only():
    bad = [f"{p.relative_to(REPO)}:{line} imports {name} absolutely"
           for p in RUNTIME.rglob("*.py")
           for line, name, level in imported_modules(p)
           if level == 0 and name.split(".")[0] == "model_runtime"]
    assert not bad, "\n".join(bad)


def test_importing_everything_does_not_load_bpy():
    code = ("import sys, pkgutil, importlib, model_runtime\n"
            "for m in pkgutil.walk_packages(model_runtime.__path__, 'model_runtime.'):\n"
            "    if not m.name.endswith('__main__'): importlib.import_module(m.name)\n"
            "assert 'bpy' not in sys.modules, 'bpy was imported'\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_modules_and_functions_stay_small():
    """No module of ``model_runtime`` over 400 lines, no function over 80 (the add-on's rooms: test_layers.py)."""
    bad = []
    for p in sorted(RUNTIME.rglob("*.py")):
        lines = p.read_text().splitlines()
        if len(lines) > 400:
            bad.append(f"{p.relative_to(REPO)}: {len(lines)} lines")
        for node in ast.walk(ast.parse("\n".join(lines), filename=str(p))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 80:
                bad.append(f"{p.relative_to(REPO)}:{node.lineno} {node.name}() is "
                           f"{node.end_lineno - node.lineno + 1} lines")
    assert not bad, "\n".join(bad)


def test_cli_help_works_and_is_light():
    r = subprocess.run([sys.executable, "-m", "model_runtime", "--help"], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "COMMAND" in r.stdout and "info" in r.stdout
    code = "import sys; from model_runtime import cli; cli.build_parser(); print(sorted(m for m in ('torch','mediapipe','open_clip','cv2') if m in sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]", f"--help imported heavy modules: {r.stdout}"


def test_cli_reports_project_errors_once(tmp_path):
    """A ``SignAvatarError`` raised deep inside a command (a landmark file that is not one) reaches the
    user as one ``error:`` line naming the file, exit code 2, no traceback and no output file."""
    bad = tmp_path / "clip.parquet"
    bad.write_bytes(b"nonsense")
    out = tmp_path / "preview.png"
    env = dict(__import__("os").environ, PYTHONPATH=str(REPO))
    r = subprocess.run([sys.executable, "-m", "model_runtime", "data", "preview", str(bad), "-o", str(out)],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2, r.stderr
    assert len(lines) == 1 and lines[0].startswith("error: ") and "clip.parquet" in lines[0], r.stderr
    assert "Traceback" not in r.stderr and not out.exists() and r.stdout == ""


def test_model_runtime_works_as_a_subpackage(tmp_path):
    ext = tmp_path / "bl_ext_fake" / "signavatar"
    ext.mkdir(parents=True)
    (tmp_path / "bl_ext_fake" / "__init__.py").write_text("")
    (ext / "__init__.py").write_text("")
    shutil.copytree(RUNTIME, ext / "model_runtime", ignore=shutil.ignore_patterns("__pycache__", "checkpoints"))
    code = ("import sys; sys.path.insert(0, %r)\n"
            "from bl_ext_fake.signavatar.model_runtime.motion import SignMotion\n"
            "from bl_ext_fake.signavatar.model_runtime.skeleton import rest_skeleton\n"
            "from bl_ext_fake.signavatar.model_runtime import cli\n"
            "cli.build_parser()\n"
            "assert 'model_runtime' not in sys.modules\n" % str(tmp_path))
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_runtime_env_is_applied_in_one_place_only():
    hits = [str(p.relative_to(REPO)) for p in list(RUNTIME.rglob("*.py")) + list((REPO / "signavatar_blender").rglob("*.py"))
            if ("HF_HUB_OFFLINE\"] =" in p.read_text() or "torchvision::" in p.read_text())
            and p.name != "runtime_env.py"]
    assert not hits, f"runtime environment set outside runtime_env.py: {hits}"


def test_runtime_env_makes_open_clip_importable():
    code = ("import os; from model_runtime import runtime_env; runtime_env.apply(); import open_clip, torchvision; "
            "assert os.environ['HF_HUB_OFFLINE'] == '1'")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                       env={k: v for k, v in __import__('os').environ.items() if k != "SIGNAVATAR_ALLOW_DOWNLOAD"})
    assert r.returncode == 0, r.stderr


def test_torchvision_stays_importable_when_the_runtime_is_reloaded():
    # Blender re-enabling the add-on: a fresh copy of runtime_env applies while the old copy is
    # still alive (so it sees the schemas and declares nothing), then the old copy is collected.
    code = """
import gc, importlib.util, sys
def fresh():
    spec = importlib.util.spec_from_file_location("rt", "model_runtime/runtime_env.py")
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m
old = fresh(); old.apply()
new = fresh(); new.apply()
del old; gc.collect()
import torchvision
"""
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]


def test_constraints_pin_the_install():
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    assert pins["torch"] == "2.13.0" and pins["torchvision"] == "0.28.0"
    assert pins["numpy"].startswith("1.") and pins["mediapipe"] == "0.10.21"
    assert pins["open-clip-torch"] == "3.3.0" and pins["smplx"] == "0.1.28" and pins["bpy"].startswith("4.5.")
    major, minor = (int(x) for x in pins["opencv-python-headless"].split(".")[:2])
    assert (major, minor) < (4, 12)
    spec = importlib.util.spec_from_file_location("install_deps", REPO / "install_deps.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for _, args in mod.TORCH + mod.RUNTIME + mod.DEV:
        for a in args:
            if not a.startswith("-"):
                assert a.lower().replace("_", "-") in pins, f"{a} is installed but not pinned in constraints.txt"
    assert "jax" not in pins and "sentence-transformers" not in pins and "opencv-contrib-python" not in pins
