"""model_runtime.atomic: a write either lands whole or leaves the old file/folder and no temporary."""

from __future__ import annotations

import numpy as np
import pytest

from model_runtime import atomic
from model_runtime.errors import SignAvatarError


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "table.json"
    atomic.write_json(target, {"v": 1})

    def half_then_fail(p):
        p.write_text('{"v": 2, "trunc')
        raise ValueError("writer crashed")

    with pytest.raises(ValueError):
        atomic.write_with(target, half_then_fail)
    assert target.read_text() == '{"v": 1}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["table.json"]


def test_temporary_keeps_the_suffix_so_format_picking_writers_add_none(tmp_path):
    seen = []
    atomic.write_with(tmp_path / "poses.npy", lambda p: (seen.append(p), np.save(p, np.arange(3))))
    assert seen[0].suffix == ".npy" and seen[0].name.startswith(".") and seen[0].parent == tmp_path
    assert np.array_equal(np.load(tmp_path / "poses.npy"), np.arange(3))
    atomic.write_npz(tmp_path / "sub" / "m.npz", a=np.ones(2))  # parent folder created
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["m.npz"]


def test_csv_and_text_helpers(tmp_path):
    atomic.write_csv(tmp_path / "i.csv", ["a", "b"], [{"a": 1, "b": 2, "c": 3}], extrasaction="ignore")
    assert (tmp_path / "i.csv").read_text().splitlines() == ["a,b", "1,2"]
    atomic.write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"


def test_os_error_names_the_target_not_the_temporary(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SignAvatarError) as e:
        atomic.write_text(blocker / "inside.txt", "y")  # a file where a folder should be
    assert str(blocker / "inside.txt") in str(e.value) and ".tmp" not in str(e.value)


def test_folder_is_replaced_only_when_complete(tmp_path):
    root = tmp_path / "dataset"
    with atomic.atomic_dir(root) as d:
        (d / "index.csv").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic.atomic_dir(root) as d:
            (d / "index.csv").write_text("new, half")
            raise RuntimeError("build failed")
    assert (root / "index.csv").read_text() == "old"
    with atomic.atomic_dir(root) as d:
        (d / "index.csv").write_text("new")
    assert (root / "index.csv").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["dataset"]


def test_a_finished_folder_or_file_made_elsewhere_moves_into_place(tmp_path, monkeypatch):
    import os

    final = tmp_path / "clip_frames"
    final.mkdir()
    (final / "frame_0001.png").write_text("old")
    made = tmp_path / ".clip_frames.partial"
    made.mkdir()
    (made / "frame_0001.png").write_text("new")
    assert atomic.move_into_place(made, final) == final
    assert (final / "frame_0001.png").read_text() == "new"
    (tmp_path / ".clip.partial.mp4").write_text("video")
    atomic.move_into_place(tmp_path / ".clip.partial.mp4", tmp_path / "clip.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "clip_frames"]

    # the rename of the new folder fails: the old one is put back and nothing is left beside it
    again = tmp_path / ".clip_frames.partial"
    again.mkdir()
    real = os.replace

    def failing(src, dst):
        if os.fspath(src) == os.fspath(again):
            raise PermissionError(13, "Permission denied")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(SignAvatarError, match="cannot write .*clip_frames: Permission denied"):
        atomic.move_into_place(again, final)
    assert (final / "frame_0001.png").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".clip_frames.partial", "clip.mp4", "clip_frames"]
