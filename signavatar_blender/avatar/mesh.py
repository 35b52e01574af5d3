"""The built-in avatar's mesh as arrays: vertices, quads, materials, skin weights (numpy only).

Combines :mod:`.body_shape` (what the body is), :mod:`.surface_nets` (meshing) and
:mod:`.skin_weights`. Meshing takes a few seconds, so results can be cached in a folder
(:func:`cached_avatar_mesh`), keyed by a hash of the bone plan and of the source code of
every module that shapes the mesh: change either and the cache is rebuilt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..rig.bone_plan import BonePlan
from ..runtime_bridge import atomic, error
from .body_shape import MATERIALS, body_shape
from .skin_weights import skin
from .surface_nets import mesh_sdf


@dataclass(frozen=True)
class AvatarMesh:
    verts: np.ndarray  # (V, 3) armature space
    quads: np.ndarray  # (F, 4)
    face_material: np.ndarray  # (F,) index into MATERIALS
    bone_names: tuple  # bones with any weight
    weights: np.ndarray  # (V, len(bone_names)), rows sum to 1, at most 4 non-zeros


def build_avatar_mesh(plan: BonePlan, gender: str) -> AvatarMesh:
    shape = body_shape(plan, gender)
    label_bones = [lab.bones for lab in shape.labels]
    verts, quads, mats, cols, blocks = [], [], [], [], []
    offset = 0
    for part in shape.parts:
        m = mesh_sdf(part.tree, part.voxel)
        used, w = skin(m.verts, m.edges(), m.labels, label_bones, plan.names, plan.heads, plan.tails,
                       part.smooth_radius)
        verts.append(m.verts)
        quads.append(m.quads + offset)
        mats.append(np.full(len(m.quads), MATERIALS.index(part.material)))
        cols.append(used)
        blocks.append(w)
        offset += len(m.verts)
    all_bones = np.unique(np.concatenate(cols))
    col = {b: i for i, b in enumerate(all_bones)}
    weights = np.zeros((offset, len(all_bones)))
    row = 0
    for used, w in zip(cols, blocks):
        weights[row: row + len(w), [col[b] for b in used]] = w
        row += len(w)
    return AvatarMesh(verts=np.concatenate(verts), quads=np.concatenate(quads), face_material=np.concatenate(mats),
                      bone_names=tuple(plan.names[b] for b in all_bones), weights=weights)


# relative to signavatar_blender/ (the cache key hashes their bytes: moving or editing one rebuilds the cache)
_SOURCES = ("avatar/mesh.py", "avatar/body_shape.py", "avatar/sdf.py", "avatar/surface_nets.py",
            "avatar/skin_weights.py", "rig/bone_plan.py")


def cache_key(plan: BonePlan, gender: str) -> str:
    h = hashlib.sha256(gender.encode())
    for arr in (plan.heads, plan.tails, plan.z_axis):
        h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    here = Path(__file__).resolve().parents[1]
    for name in _SOURCES:
        h.update((here / name).read_bytes())
    return h.hexdigest()[:20]


def save(mesh: AvatarMesh, path: Path) -> None:
    """Store compactly: float32 positions, each vertex's 4 strongest bones as (index, weight)."""
    k = min(4, mesh.weights.shape[1])
    top = np.argsort(-mesh.weights, axis=1)[:, :k]
    w = np.take_along_axis(mesh.weights, top, axis=1)
    atomic().write_npz(path, verts=mesh.verts.astype(np.float32), quads=mesh.quads.astype(np.int32),
                       face_material=mesh.face_material.astype(np.int8), bone_names=np.array(mesh.bone_names),
                       top=top.astype(np.int16), top_w=w.astype(np.float32))


def load(path: Path) -> AvatarMesh:
    with np.load(path, allow_pickle=False) as z:
        top, top_w = z["top"].astype(np.int64), z["top_w"].astype(np.float64)
        names = tuple(str(n) for n in z["bone_names"])
        weights = np.zeros((len(top), len(names)))
        np.put_along_axis(weights, top, top_w, axis=1)
        return AvatarMesh(verts=z["verts"].astype(np.float64), quads=z["quads"].astype(np.int64),
                          face_material=z["face_material"].astype(np.int64), bone_names=names, weights=weights)


def cached_avatar_mesh(plan: BonePlan, gender: str, folder: Path | None) -> AvatarMesh:
    """:func:`build_avatar_mesh`, read from / written to ``folder`` when one is given."""
    if folder is None:
        return build_avatar_mesh(plan, gender)
    path = Path(folder) / f"avatar-{gender}-{cache_key(plan, gender)}.npz"
    if path.is_file():
        try:
            return load(path)
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)  # unreadable: rebuild
    mesh = build_avatar_mesh(plan, gender)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob(f"avatar-{gender}-*.npz"):
            old.unlink()
        save(mesh, path)
    except (OSError, error()):
        pass  # a read-only profile: just no cache
    return mesh
