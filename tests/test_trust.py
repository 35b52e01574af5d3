"""Hardening: an untrusted model folder, bounded inputs and an isolated installer (issue 16).

Every test here reproduces one probe of the issue: before the fix it escaped a folder,
allocated without bound, ran foreign code or ended in a traceback.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from model_runtime.errors import SignAvatarError
from model_runtime.motion import SignMotion, load_npz
from model_runtime.semantic.base import EncoderSpec

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "model_runtime" / "checkpoints" / "default"


def _model_copy(tmp_path, edit_config=None, edit_glosses=None) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(DEFAULT, folder)
    if edit_config:
        cfg = json.loads((folder / "config.json").read_text())
        edit_config(cfg)
        (folder / "config.json").write_text(json.dumps(cfg))
    if edit_glosses:
        recs = json.loads((folder / "glosses.json").read_text())
        edit_glosses(recs)
        (folder / "glosses.json").write_text(json.dumps(recs))
    return folder


# -- model folder strings ----------------------------------------------------------------------
def test_a_clip_encoder_name_cannot_write_outside_its_temporary_folder(tmp_path):
    from model_runtime.semantic.clip import ClipEncoder

    target = tmp_path / "escaped" / "evil"
    target.parent.mkdir()
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"x")
    spec = EncoderSpec(kind="clip", name=str(target), dim=8, clip_model_cfg={"embed_dim": 8, "text": "payload"})
    with pytest.raises(SignAvatarError, match="encoder.name"):
        ClipEncoder(spec, weights=str(weights))._load()
    assert not Path(f"{target}.json").exists()
    spec = replace(spec, name="../../evil")
    with pytest.raises(SignAvatarError, match="encoder.name"):
        ClipEncoder(spec, weights=str(weights))._load()


@pytest.mark.parametrize("edit", [
    lambda c: c["encoder"].update(name="../../../evil"),
    lambda c: c["encoder"].update(name="/abs/evil"),
    lambda c: c["encoder"].update(text_template="{0.__class__.__mro__}"),
    lambda c: c["encoder"].update(text_template="{} {}"),
])
def test_a_model_folder_with_unsafe_encoder_strings_is_refused(tmp_path, edit):
    from model_runtime.model.checkpoint import load_model

    with pytest.raises(SignAvatarError, match="encoder"):
        load_model(_model_copy(tmp_path, edit))


def test_the_text_template_never_reaches_str_format():
    spec = EncoderSpec(kind="minilm", name="all-MiniLM-L6-v2", dim=4, text_template="a sign: {} {0.__class__}")
    assert spec.text_for("drink") == "a sign: drink {0.__class__}"


@pytest.mark.parametrize("gloss", ["../../evil", "/tmp/abs/evil", "a/../../b", "..", "  "])
def test_gloss_names_never_become_paths_outside_the_current_folder(gloss):
    from model_runtime.generation.cli import _outputs

    for n in (1, 3):
        for p in _outputs(None, gloss, n):
            assert len(p.parts) == 1 and p.suffix == ".npz" and not p.name.startswith("."), p


def test_safe_join_refuses_to_leave_the_folder(tmp_path):
    from model_runtime.safe_paths import inside

    assert inside(tmp_path, "a.json") == (tmp_path / "a.json").resolve()
    for bad in ("../a.json", "/etc/a.json", "x/../../a.json"):
        with pytest.raises(SignAvatarError, match="leave the folder"):
            inside(tmp_path, bad)


def test_huge_layer_sizes_are_refused_before_anything_is_built(tmp_path, monkeypatch):
    import torch

    from model_runtime.model import checkpoint

    real = checkpoint.build_net
    built = []

    def only_on_meta(cfg):  # building the real net would allocate tens of GB: never let it happen here
        on_meta = torch.empty(0).device.type == "meta"
        built.append(on_meta)
        if not on_meta:
            raise AssertionError("the network was built for real before its sizes were checked")
        return real(cfg)

    monkeypatch.setattr(checkpoint, "build_net", only_on_meta)
    folder = _model_copy(tmp_path, lambda c: c["net"].update(ff_dim=100_000_000))
    with pytest.raises(SignAvatarError, match="ff_dim = 100000000"):
        checkpoint.load_model(folder)
    folder = _model_copy(tmp_path / "b", lambda c: c["net"].update(ff_dim=512))  # plausible, still wrong
    with pytest.raises(SignAvatarError, match="wrong shapes"):
        checkpoint.load_model(folder)
    folder = _model_copy(tmp_path / "c", lambda c: c["motion"].update(max_frames=10**9))
    with pytest.raises(SignAvatarError, match="max_frames"):
        checkpoint.load_model(folder)
    assert built and all(built)


# -- bounded motion files ----------------------------------------------------------------------
def _npy_bytes(shape, dtype="<f4", data=b"") -> bytes:
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %r, }" % (dtype, tuple(shape))
    header = header + " " * (63 - (len(header) + 10) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data


def test_an_npz_whose_header_claims_a_billion_frames_is_refused_without_allocating(tmp_path):
    import zipfile

    path = tmp_path / "claims.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("poses.npy", _npy_bytes((10**9, 165), data=bytes(15_000)))
        z.writestr("trans.npy", _npy_bytes((10**9, 3)))
        z.writestr("betas.npy", _npy_bytes((10,), data=bytes(40)))
        z.writestr("gender.npy", _npy_bytes((), "<U7", "neutral".encode("utf-32-le")))
        z.writestr("mocap_frame_rate.npy", _npy_bytes((), "<f8", struct.pack("<d", 30.0)))
    with pytest.raises(SignAvatarError, match="claims shape|frames"):
        load_npz(path)


def test_a_motion_longer_than_the_limit_is_refused_from_its_header(tmp_path):
    from model_runtime.limits import MAX_MOTION_FRAMES

    T = MAX_MOTION_FRAMES + 1
    path = tmp_path / "long.npz"
    np.savez_compressed(path, poses=np.zeros((T, 165), np.float32), trans=np.zeros((T, 3), np.float32),
                        betas=np.zeros(10, np.float32), gender=np.array("neutral"),
                        mocap_frame_rate=np.array(30.0))
    assert path.stat().st_size < 2_000_000  # a small file
    with pytest.raises(SignAvatarError, match=f"{T} frames; at most {MAX_MOTION_FRAMES}"):
        load_npz(path)


@pytest.mark.parametrize("value", [1e30, -1e6, 1e3])
def test_absurd_rotations_are_refused_by_the_motion_itself(value, tmp_path):
    poses = np.zeros((4, 55, 3), np.float32)
    poses[2, 20, 0] = value
    with pytest.raises(SignAvatarError, match="rotations longer than"):
        SignMotion(poses=poses, trans=np.zeros((4, 3)), fps=30)
    with pytest.raises(SignAvatarError, match="not metres"):
        SignMotion(poses=np.zeros((4, 55, 3)), trans=np.full((4, 3), 1e9), fps=30)
    SignMotion(poses=np.full((4, 55, 3), 1.8), trans=np.zeros((4, 3)), fps=30)  # |r| = 3.1 rad is fine


# -- bounded images ----------------------------------------------------------------------------
def _png_header_only(path: Path, w: int, h: int) -> None:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(1000)))
                     + chunk(b"IEND", b""))


def test_a_huge_image_is_refused_by_its_header_and_big_ones_decode_downscaled(tmp_path):
    from PIL import Image

    from model_runtime.imageio import load_image

    bomb = tmp_path / "bomb.png"
    _png_header_only(bomb, 20000, 20000)
    with pytest.raises(SignAvatarError, match="at most 50 megapixels"):
        load_image(bomb)
    big = tmp_path / "big.jpg"
    Image.new("RGB", (3000, 2000), (200, 10, 10)).save(big)
    im = load_image(big)
    h, w, channels = im.rgb.shape
    assert max(w, h) <= 1024 and channels == 3 and abs(w / h - 1.5) < 0.01 and im.size == (3000, 2000)
    with pytest.raises(SignAvatarError, match="not an image"):
        load_image(tmp_path / "big.jpg.txt") if (tmp_path / "big.jpg.txt").write_text("x") else None


def test_clip_image_input_goes_through_the_bounded_decoder(tmp_path):
    from model_runtime.semantic.clip import ClipEncoder

    bomb = tmp_path / "bomb.png"
    _png_header_only(bomb, 20000, 20000)
    enc = ClipEncoder(EncoderSpec(kind="clip", name="ViT-B-32", dim=512), weights=None)
    with pytest.raises(SignAvatarError, match="megapixels"):
        enc.encode_image([bomb])


def test_a_pickle_clip_weights_file_is_refused_before_unpickling(tmp_path):
    import pickle

    from model_runtime.semantic.clip import check_weights_file

    p = tmp_path / "w.pt"
    p.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(SignAvatarError, match="pickle"):
        check_weights_file(p)


def test_a_truncated_video_is_reported():
    from model_runtime.landmarks.video import truncation_notice

    assert "only 40 could be decoded" in truncation_notice("x.mp4", 40, 78, None)
    assert truncation_notice("x.mp4", 77, 78, None) == ""  # containers' counts are off by a frame
    assert truncation_notice("x.mp4", 30, 78, 30) == ""  # asked for 30


# -- the installer -----------------------------------------------------------------------------
def test_install_deps_never_runs_code_from_the_current_folder(tmp_path, monkeypatch):
    sys.path.insert(0, str(REPO))
    try:
        import install_deps
    finally:
        sys.path.remove(str(REPO))
    evil = tmp_path / "evil"
    (evil / "pip").mkdir(parents=True)
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('ran')\n"
    (evil / "safetensors.py").write_text(code)
    (evil / "pip" / "__init__.py").write_text("")
    (evil / "pip" / "__main__.py").write_text(code)
    monkeypatch.chdir(evil)
    assert install_deps.imports_ok(sys.executable, ["safetensors"])
    assert not marker.exists()
    r = install_deps.run_isolated([sys.executable, "-I", "-m", "pip", "--version"], capture_output=True)
    assert r.returncode == 0 and not marker.exists()
    cmds = []
    monkeypatch.setattr(install_deps, "run_isolated", lambda cmd, **kw: cmds.append(cmd) or
                        subprocess.CompletedProcess(cmd, 0))
    install_deps.run_pip(sys.executable, ["x"], install_deps.CONSTRAINTS_FILE, None, True)
    assert cmds[0][:4] == [sys.executable, "-I", "-m", "pip"]


def test_install_deps_checks_imports_come_from_the_target_folder(tmp_path):
    sys.path.insert(0, str(REPO))
    try:
        import install_deps
    finally:
        sys.path.remove(str(REPO))
    # safetensors is installed in this environment but not in the (empty) target: the check must fail
    assert not install_deps.imports_ok(sys.executable, ["safetensors"], extra_path=tmp_path)
