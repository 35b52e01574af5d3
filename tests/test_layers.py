"""The rooms of ``signavatar_blender/`` and their import rules, checked by parsing every import.

Rooms (README "What is where"): ``ui/``, ``ops/``, ``rig/``, ``avatar/``, ``render/`` and the
``runtime_bridge/`` to ``model_runtime``. Rules:

* ``ui/`` never imports ``ops/``: panels and file handlers name operators by ``bl_idname``;
* nothing in ``render/``, ``rig/``, ``avatar/`` or ``runtime_bridge/`` imports ``ops/`` or ``ui/``
  (``runtime_bridge/`` imports no other room at all);
* the numpy-only modules never import Blender, directly or through a module they import;
* every import inside the add-on is relative (Blender's extension rules);
* no import cycles between the add-on's modules;
* no module over 400 lines, no function over 80.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ADDON = REPO / "signavatar_blender"
BLENDER = ("bpy", "mathutils", "bmesh", "bpy_extras", "addon_utils")
ROOMS = ("ui", "ops", "rig", "avatar", "render", "runtime_bridge")

# Modules imported and tested without Blender (dotted, relative to signavatar_blender).
NUMPY_ONLY = (
    "runtime_bridge", "runtime_bridge.formats", "runtime_bridge.installer",
    "rig", "rig.rig_math", "rig.quaternion", "rig.bone_plan", "rig.smplx_match", "rig.mapping", "rig.retarget_math",
    "avatar", "avatar.mesh", "avatar.sdf", "avatar.surface_nets", "avatar.skin_weights", "avatar.body_shape",
    "render", "render.worklist", "render.records", "render.outputs", "render.framing", "render.settings",
    "render.sheet",
)
# Which rooms each room may import (besides itself and the package root's nothing).
ALLOWED = {
    "runtime_bridge": set(),
    "avatar": {"runtime_bridge", "rig"},
    "rig": {"runtime_bridge", "avatar"},
    "render": {"runtime_bridge", "rig", "avatar"},
    "ui": {"runtime_bridge", "rig"},
    "ops": {"runtime_bridge", "rig", "avatar", "ui", "render"},
}


def module_name(path: Path) -> str:
    rel = path.relative_to(ADDON).with_suffix("")
    parts = rel.parts[:-1] if rel.parts[-1] == "__init__" else rel.parts
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(ADDON.rglob("*.py"))}


def imports(name: str):
    """(line, absolute target inside the add-on or None, top-level name of an outside import)."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    if name == "":
        package = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, None, a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                yield node.lineno, None, (node.module or "").split(".")[0]
                continue
            base = package[: len(package) - (node.level - 1)]
            mod = base + (node.module.split(".") if node.module else [])
            for a in node.names:
                full = ".".join([*mod, a.name])
                yield node.lineno, (full if full in MODULES else ".".join(mod)), None


def room(name: str) -> str:
    return name.split(".")[0] if name else ""


def violations(rule) -> list[str]:
    out = []
    for name in MODULES:
        for line, target, outside in imports(name):
            why = rule(name, target, outside)
            if why:
                out.append(f"signavatar_blender/{MODULES[name].relative_to(ADDON)}:{line} {why}")
    return out


def test_the_rooms_exist_and_nothing_lives_beside_them():
    top = sorted(p.name for p in ADDON.iterdir() if p.suffix == ".py" or (p.is_dir() and p.name != "__pycache__"))
    assert top == sorted(["__init__.py", "__main__.py", *ROOMS]), top
    for name in ROOMS:
        assert (ADDON / name / "__init__.py").is_file(), f"{name}/ is not a package"


def test_ui_never_imports_operators():
    bad = violations(lambda name, target, _: f"imports {target}" if room(name) == "ui" and target is not None
                     and room(target) == "ops" else "")
    assert not bad, "ui/ names operators by bl_idname only:\n" + "\n".join(bad)


def test_rooms_import_only_the_rooms_below_them():
    def rule(name, target, _):
        if target is None or room(name) in ("", "__main__") or room(target) == room(name):
            return ""
        allowed = ALLOWED.get(room(name), set())
        return "" if room(target) in allowed else f"imports {target} ({room(name)}/ may use {sorted(allowed)})"

    bad = violations(rule)
    assert not bad, "\n".join(bad)


def test_numpy_only_modules_never_reach_blender():
    missing = [m for m in NUMPY_ONLY if m not in MODULES]
    assert not missing, f"listed as numpy-only but not found: {missing}"

    def rule(name, target, outside):
        if name not in NUMPY_ONLY:
            return ""
        if outside in BLENDER:
            return f"imports {outside}"
        if target is not None and target not in NUMPY_ONLY:
            return f"imports {target}, which is not numpy-only"
        return ""

    bad = violations(rule)
    assert not bad, "\n".join(bad)
    code = ("import importlib, sys\n"
            f"for m in {NUMPY_ONLY!r}: importlib.import_module('signavatar_blender.' + m)\n"
            "from signavatar_blender.rig import mapping; assert mapping.load_presets()\n"
            "from signavatar_blender.render import cli; cli.build_parser()\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            f"{BLENDER!r} or m.split('.')[0] in ('torch', 'cv2', 'mediapipe'))\n"
            "assert not bad, bad\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_render_never_imports_operators():
    bad = violations(lambda name, target, _: f"imports {target}" if room(name) == "render" and target is not None
                     and room(target) == "ops" else "")
    assert not bad, "\n".join(bad)


def test_add_on_imports_are_relative():
    bad = violations(lambda name, target, outside: "imports signavatar_blender absolutely"
                     if outside in ("signavatar_blender", "model_runtime") else "")
    assert not bad, "\n".join(bad)


def test_no_import_cycles_between_modules():
    graph = {name: {t for _, t, _ in imports(name) if t is not None and t in MODULES and t != name}
             for name in MODULES}
    # a package's own __init__ being imported by its children is not a cycle we care about
    graph = {n: {t for t in ts if not n.startswith(t + ".") and t} for n, ts in graph.items()}
    state: dict = {}
    cycles = []

    def visit(n, stack):
        state[n] = 1
        for t in graph[n]:
            if state.get(t) == 1:
                cycles.append(" -> ".join(stack[stack.index(t):] + [t]))
            elif t not in state:
                visit(t, stack + [t])
        state[n] = 2

    for n in graph:
        if n not in state:
            visit(n, [n])
    assert not cycles, "\n".join(cycles)


@pytest.mark.parametrize("name", sorted(MODULES), ids=lambda n: n or "__init__")
def test_modules_and_functions_stay_small(name):
    path = MODULES[name]
    lines = path.read_text().splitlines()
    assert len(lines) <= 400, f"{path.relative_to(REPO)}: {len(lines)} lines"
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = node.end_lineno - node.lineno + 1
            assert n <= 80, f"{path.relative_to(REPO)}:{node.lineno} {node.name}() is {n} lines"
