"""Every problem a user can fix on a command line: one ``error:`` line, exit code 2, no traceback, no file.

The table walks ``python -m model_runtime`` (generate, data preview) and ``signavatar render``
in-process (their ``main(argv)``), so a few hundred milliseconds per case; one case per entry
point also runs as a real subprocess.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LONG = "a" * 10_000


def _setup(tmp: Path) -> None:
    (tmp / "afolder").mkdir()
    (tmp / "afile.txt").write_text("x")
    (tmp / "w.pt").write_bytes(pickle.dumps({"weights": 1}))
    (tmp / "clip.mp4").write_bytes(b"\x00" * 64)
    (tmp / "quote.csv").write_text('gloss,seed\nhello,0\n"please,1\nthank you,2\n')
    (tmp / "latin1.csv").write_bytes(b"gloss\nhello\ncaf\xe9\n")
    (tmp / "bigseed.csv").write_text(f"gloss,seed\nhello,{2**70}\n")
    (tmp / "pics").mkdir()
    (tmp / "pics" / "notes.png").write_text("not a picture")
    (tmp / "images.csv").write_text("image,gloss\n,hello\npics/notes.png,\n")


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


MODEL_RUNTIME = [
    ("generate hello --device bogus", "unknown device"),
    ("generate hello --device cuda", "CUDA"),
    (f"generate hello --seed {2**70}", "64 bits"),
    ("generate hello --seed -99999999999999999999", "64 bits"),
    ("generate hello -o afile.txt/x.npz", "not a writable folder"),
    ("generate hello -o out.txt", "must end in .npz"),
    ("generate hello --clip-weights w.pt", "pickle"),
    ("generate hello --clip-weights missing.safetensors", "not found"),
    ("generate hello --fps 0", "--fps"),
    ("generate hello --fps -5", "--fps"),
    ("generate hello -o afolder", "names the folder"),
    (["generate", LONG], "10000 characters"),
    ("generate hello -n 0", "-n must be"),
    ("generate hello --temperature 5", "--temperature"),
    ("generate hello --image missing.png", "not found"),
    ("generate --image missing.png", "image not found"),
    ("generate --image afile.txt", "not an image"),
    ("generate hello --image afile.txt", "not both"),
    ("generate --image afile.txt --image-mode embedding --prior gloss", "--prior gloss"),
    ("generate hello --checkpoint afolder", "incomplete model folder"),
    ("data preview clip.mp4 -o x.jpg", ".png"),
    ("data preview clip.mp4 -o x.png --frames 0", "--frames"),
    ("data preview clip.mp4 -o afolder/", ".png"),
]
RENDER = [
    ("render hello --out afile.txt", "is a file"),
    (f"render hello --seed {2**70}", "64 bits"),
    ("render hello --fps 0", "--fps"),
    ("render --input quote.csv", "quote.csv line 3"),
    ("render --input latin1.csv", "latin1.csv line 3: not UTF-8"),
    ("render --input bigseed.csv", "bigseed.csv line 2"),
    (["render", LONG], "10000 characters"),
    ("render hello --resolution 15x15", "--resolution"),
    ("render hello --shard 5/4", "--shard"),
    ("render --motion missing.npz", "not found"),
    ("render --image missing.png", "image not found"),
    ("render --image afile.txt", "not an image"),
    ("render --image pics", "notes.png"),
    ("render --input pics", "not an image"),
    ("render --input images.csv", "images.csv line 3: 'notes.png' is not an image"),
]


def _main(which: str):
    if which == "model_runtime":
        from model_runtime.cli import main
    else:
        from signavatar_blender.render.cli import main
    return main


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("which,argv,needle", [("model_runtime", a, n) for a, n in MODEL_RUNTIME]
                         + [("render", a, n) for a, n in RENDER])
def test_bad_arguments_give_one_error_line_exit_2_and_no_file(which, argv, needle, tmp_path, monkeypatch, capsys):
    if "--device cuda" in str(argv) and _cuda():
        pytest.skip("this machine has CUDA")
    _setup(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = _files(tmp_path)
    argv = argv.split() if isinstance(argv, str) else argv
    try:
        code = _main(which)(argv)
    except SystemExit as e:  # argparse's own refusals
        code = e.code
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "error:" in ln]
    assert code == 2, err
    assert len(lines) == 1 and needle in lines[0], err
    assert "Traceback" not in err
    assert len(lines[0]) < 600, "the error line must not echo a whole input"
    assert _files(tmp_path) == before


def test_a_read_only_output_folder_names_the_output_not_a_temp_file(tmp_path, monkeypatch, capsys):
    from model_runtime.motion import SignMotion

    import numpy as np

    ro = tmp_path / "ro"
    ro.mkdir()
    m = SignMotion(poses=np.zeros((2, 55, 3)), trans=np.zeros((2, 3)), fps=15)

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("builtins.open", refuse)  # as a read-only folder does (also when tests run as root)
    from model_runtime.errors import SignAvatarError

    with pytest.raises(SignAvatarError) as e:
        m.save(ro / "x.npz")
    monkeypatch.undo()
    assert str(ro / "x.npz") in str(e.value) and ".tmp" not in str(e.value)
    assert list(ro.iterdir()) == []


@pytest.mark.parametrize("argv", [
    ["-m", "model_runtime", "generate", "hello", "--device", "bogus"],
    ["-m", "signavatar_blender", "render", "hello", "--fps", "0"],
])
def test_a_real_process_prints_one_error_line(argv, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    r = subprocess.run([sys.executable, *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert [ln for ln in r.stderr.splitlines() if ln.strip()] == [r.stderr.strip()] and \
        r.stderr.startswith("error: ")
    assert list(tmp_path.iterdir()) == []


def test_command_loader_hides_only_missing_optional_packages(tmp_path, monkeypatch):
    """A command whose optional package is missing is named in --help; a broken import of our own propagates."""
    from model_runtime import commands

    pkg = tmp_path / "fakecmds"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "good.py").write_text("def register(sub):\n    sub.add_parser('good')\n")
    (pkg / "needs_extra.py").write_text("import signavatar_test_extra_pkg\n")
    (pkg / "typo.py").write_text("import fakecmds.no_such_module\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(commands, "OPTIONAL_PACKAGES", commands.OPTIONAL_PACKAGES | {"signavatar_test_extra_pkg"})
    modules, unavailable = commands.load_commands((".good", ".needs_extra"), "fakecmds")
    assert [m.__name__ for m in modules] == ["fakecmds.good"]
    assert unavailable == {"needs_extra": "signavatar_test_extra_pkg"}
    assert "needs_extra (needs signavatar_test_extra_pkg)" in commands.unavailable_note(unavailable)
    with pytest.raises(ModuleNotFoundError):
        commands.load_commands((".good", ".typo"), "fakecmds")
