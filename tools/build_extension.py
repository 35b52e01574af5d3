"""Build the installable Blender extension zip with Blender's own extension tool.

    .venv/bin/python tools/build_extension.py            # -> dist/signavatar-<version>.zip
    .venv/bin/python tools/build_extension.py --out DIR

The tool is ``blender_ext.py`` from the ``bl_pkg`` add-on that ships inside the ``bpy``
wheel (Blender's ``blender --command extension build/validate`` runs the same code), so no
Blender binary is needed. The package is staged first with exactly what the extension
needs: the manifest, the root ``__init__.py``, ``signavatar_blender/``, ``model_runtime/``
(as a subpackage, with the default checkpoint when it exists), ``install_deps.py`` and
``constraints.txt``; then built and validated.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONTENTS = ("blender_manifest.toml", "__init__.py", "signavatar_blender", "model_runtime", "install_deps.py",
            "constraints.txt", "LICENSE")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


def blender_ext_script() -> Path:
    """``blender_ext.py`` inside the installed bpy wheel (found without importing bpy)."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the bpy module is not installed: run 'python3 install_deps.py' first")
    root = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(root.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not found:
        raise SystemExit(f"Blender's extension tool (bl_pkg/cli/blender_ext.py) not found under {root}")
    return found[-1]


def stage(dest: Path) -> None:
    for name in CONTENTS:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=IGNORE)
        elif src.is_file():
            shutil.copy2(src, dest / name)
        elif name != "LICENSE":
            raise SystemExit(f"missing {src}")


def run_tool(*args: str) -> None:
    cmd = [sys.executable, str(blender_ext_script()), *args]
    r = subprocess.run(cmd, capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    if out:
        print(out)
    if r.returncode != 0:
        raise SystemExit(f"{args[0]} failed ({r.returncode})")


def build(out_dir: Path) -> Path:
    manifest = tomllib.loads((REPO / "blender_manifest.toml").read_text())
    out_dir.mkdir(parents=True, exist_ok=True)
    zip_path = out_dir / f"{manifest['id']}-{manifest['version']}.zip"
    with tempfile.TemporaryDirectory(prefix="signavatar-ext-") as tmp:
        src = Path(tmp) / manifest["id"]
        src.mkdir()
        stage(src)
        run_tool("build", "--source-dir", str(src), "--output-filepath", str(zip_path))
    run_tool("validate", str(zip_path))
    return zip_path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=REPO / "dist", help="output folder (default: dist/)")
    a = p.parse_args(argv)
    path = build(a.out)
    print(f"built {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
