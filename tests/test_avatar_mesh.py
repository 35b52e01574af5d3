"""The built-in avatar's mesh, without Blender: meshing, skin weights, separate fingers, cache."""

from __future__ import annotations

import numpy as np
import pytest

from model_runtime.skeleton import JOINT_NAMES, PARENTS, rest_skeleton
from signavatar_blender.avatar import sdf, skin_weights
from signavatar_blender.avatar.mesh import build_avatar_mesh, cache_key, cached_avatar_mesh, load, save
from signavatar_blender.avatar.body_shape import FINGERS, MATERIALS
from signavatar_blender.rig.bone_plan import plan_bones
from signavatar_blender.avatar.surface_nets import mesh_sdf, quad_edges


def closed_and_outward(verts, quads) -> tuple[bool, float]:
    e = np.concatenate([quads[:, [0, 1]], quads[:, [1, 2]], quads[:, [2, 3]], quads[:, [3, 0]]])
    _, counts = np.unique(np.sort(e, axis=1), axis=0, return_counts=True)
    tri = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])
    vol = np.einsum("ij,ij->i", verts[tri[:, 0]], np.cross(verts[tri[:, 1]], verts[tri[:, 2]])).sum() / 6
    return bool(np.all(counts == 2)), float(vol)


def test_surface_nets_mesh_a_blended_shape_accurately():
    node = sdf.Union((sdf.cone(0, [0, 0, 0], [0.3, 0, 0], 0.05, 0.03), sdf.ellipsoid(1, [0, 0, 0.1], [0.1, 0.06, 0.05])),
                     k=0.02)
    m = mesh_sdf(node, 0.005)
    d, _ = sdf.evaluate(node, m.verts, 1.0)
    assert np.abs(d).max() < 1e-4  # vertices lie on the surface
    closed, vol = closed_and_outward(m.verts, m.quads)
    assert closed and vol > 0  # watertight, faces wound outwards
    assert set(np.unique(m.labels)) == {0, 1}


def test_round_cone_distance_is_exact_on_simple_cases():
    c = sdf.cone(0, [0, 0, 0], [1, 0, 0], 0.2, 0.1)
    p = np.array([[0.5, 0.5, 0.0], [-0.5, 0, 0], [1.5, 0, 0], [0.0, 0.0, 0.0]])
    d = sdf.prim_distance(c, p)
    assert d[1] == pytest.approx(0.3) and d[2] == pytest.approx(0.4) and d[3] == pytest.approx(-0.2)


def test_weights_diffuse_across_a_joint_and_are_limited():
    # a strip of vertices along x, half owned by bone 0 and half by bone 1
    n = 41
    verts = np.stack([np.linspace(0, 0.4, n), np.zeros(n), np.zeros(n)], 1)
    edges = np.stack([np.arange(n - 1), np.arange(1, n)], 1)
    w = np.zeros((n, 2))
    w[: n // 2, 0] = 1
    w[n // 2:, 1] = 1
    out = skin_weights.limit(skin_weights.diffuse(w, edges, verts, radius=0.05))
    assert np.allclose(out.sum(1), 1)
    assert out[0, 0] == 1 and out[-1, 1] == 1  # far from the joint: one bone
    mid = out[n // 2 - 2: n // 2 + 2, 0]
    assert np.all((mid > 0.1) & (mid < 0.9)) and np.all(np.diff(out[:, 0]) <= 1e-12)  # smooth blend


@pytest.fixture(scope="module")
def body_mesh():
    """The female body (the one with the most blended shapes)."""
    r = rest_skeleton("female")
    plan = plan_bones(r.joints, r.end_sites, r.floor_y, JOINT_NAMES, PARENTS)
    return plan, build_avatar_mesh(plan, "female")


def test_avatar_mesh_is_watertight_and_skinned_with_at_most_four_bones(body_mesh):
    _, m = body_mesh
    closed, vol = closed_and_outward(m.verts, m.quads)
    assert closed and 0.04 < vol < 0.12  # every part closed, faces outwards, a body's volume in m^3
    assert np.allclose(m.weights.sum(1), 1) and np.all((m.weights > 0).sum(1) <= 4)
    assert m.face_material.max() < len(MATERIALS)
    assert set(m.bone_names) >= {"head", "jaw", "left_eye_smplhf", "right_thumb3", "left_pinky3"}
    assert 40_000 < len(m.verts) < 200_000


def test_fingers_are_separate_surfaces(body_mesh):
    """No vertex carries the weights of two different fingers' tips, and tips do not share edges."""
    _, m = body_mesh
    col = {n: i for i, n in enumerate(m.bone_names)}
    edges = quad_edges(m.quads, len(m.verts))
    for side in ("left", "right"):
        owner = {}
        for f in FINGERS + ("thumb",):
            for k in (2, 3):
                owner[f] = owner.get(f, np.zeros(len(m.verts), bool)) | (m.weights[:, col[f"{side}_{f}{k}"]] > 0.5)
        for a in owner:
            for b in owner:
                if a < b:
                    assert not np.any(owner[a][edges[:, 0]] & owner[b][edges[:, 1]]), (side, a, b)
                    assert not np.any(owner[a][edges[:, 1]] & owner[b][edges[:, 0]]), (side, a, b)


def test_avatar_mesh_cache_round_trip(body_mesh, tmp_path):
    plan, m = body_mesh
    save(m, tmp_path / "a.npz")
    back = load(tmp_path / "a.npz")
    assert np.allclose(back.verts, m.verts, atol=1e-6) and np.array_equal(back.quads, m.quads)
    assert np.allclose(back.weights, m.weights, atol=1e-6) and back.bone_names == m.bone_names
    # a cached mesh is found by its key (plan + source code); an unreadable one is rebuilt
    folder = tmp_path / "cache"
    folder.mkdir()
    save(m, folder / f"avatar-female-{cache_key(plan, 'female')}.npz")
    assert np.array_equal(cached_avatar_mesh(plan, "female", folder).quads, m.quads)
    assert cache_key(plan, "female") != cache_key(plan, "male")


def test_a_cache_that_cannot_be_written_is_no_cache(body_mesh, tmp_path, monkeypatch):
    """A read-only or full profile: the cache write fails inside the atomic helper, the mesh is still made."""
    from model_runtime import atomic
    from signavatar_blender.avatar import mesh as mesh_mod

    plan, m = body_mesh
    monkeypatch.setattr(mesh_mod, "build_avatar_mesh", lambda p, g: m)

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", full_disk)
    assert cached_avatar_mesh(plan, "female", tmp_path / "cache") is m
    assert list((tmp_path / "cache").iterdir()) == []  # no temporary left behind
