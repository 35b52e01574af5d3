"""Anatomical degrees of freedom of the signing joints, with their limits.

Every joint's local rotation (parent frame, SMPL-X convention: rest frames = world axes,
Y-up, facing +Z, body's left = +X, T-pose palms down) is written as a product of two
exponentials of weighted anatomical angles ``theta`` (radians)::

    R_j = exp(sum_p theta_p * A1[j, p]) @ exp(sum_p theta_p * A2[j, p])

where ``A1``/``A2`` hold rotation axes (3-vectors) times a share. Examples: an elbow is a
hinge (flexion about its rest -Y for the left arm) followed by half of the forearm twist
about the forearm axis; a wrist is the other half of that twist followed by a two-angle
swing (flexion, deviation); a finger MCP is a two-angle swing (no twist); PIP and DIP are
hinges. The forearm twist is one parameter shared by elbow and wrist (pronation and
supination happen along the forearm, so half of it shows at each end).

Axes are stated for the **left** side; the right side uses the mirror image (a rotation
axis is a pseudovector: ``(x, y, z) -> (x, -y, -z)``), so a positive angle means the same
anatomical motion on both sides (flexion, supination, radial abduction...).

``T-pose palms down`` is the mid-prone forearm (thumb forward), so forearm twist 0 is
neutral, supination is positive (palm turns forward/up), pronation negative.

Limits (degrees) are active ranges of healthy adults, rounded and slightly widened for
MediaPipe noise: Kapandji, *The Physiology of the Joints* (vols. 1-3) and the AAOS
average ranges (elbow 0-150, forearm pronation 80 / supination 80, wrist flexion 80 /
extension 70, radial 20 / ulnar 30, MCP flexion 90, PIP 100-110, DIP 80-90). The
shoulder and the root are free (the shoulder has its own cone/twist limit in
:func:`shoulder_excess`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..skeleton import JOINT_INDEX, NUM_JOINTS, RestSkeleton

FINGERS4 = ("index", "middle", "ring", "pinky")
SIDES = ("left", "right")

# Radial (+) / ulnar (-) abduction range of each finger's MCP, degrees (radial = towards the thumb).
_MCP_ABD = {"index": (-15.0, 25.0), "middle": (-20.0, 20.0), "ring": (-25.0, 15.0), "pinky": (-35.0, 15.0)}

# Shoulder: how far the upper arm may point behind the body (dot with -Z in the torso frame)
# and how far the humerus may twist about its own axis, degrees.
SHOULDER_BACK_MAX_DEG = 40.0
SHOULDER_TWIST_MAX_DEG = 100.0


@dataclass(frozen=True)
class Param:
    """One anatomical angle: name, limits in degrees (None = free), and where it acts.

    ``acts``: tuple of (joint index, factor 0|1, axis (3,), share) contributions.
    """

    name: str
    lo: float | None
    hi: float | None
    acts: tuple


def _mirror_axis(axis, side: str) -> np.ndarray:
    a = np.asarray(axis, dtype=np.float64)
    return a if side == "left" else a * np.array([1.0, -1.0, -1.0])


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


def thumb_axes(rest: RestSkeleton, side: str = "left") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(direction d, pad direction p, flexion axis a = d x p) of the rest thumb, for ``side``.

    ``d`` runs along the thumb (CMC -> MCP); ``p`` is where the thumb's pad faces: palmar
    (-Y) turned 30 degrees towards the index finger; thumb flexion curls ``d`` towards ``p``.
    Returned for the left hand and mirrored (pseudovectors) for the right.
    """
    j1, j2 = JOINT_INDEX["left_thumb1"], JOINT_INDEX["left_thumb2"]
    d = _unit(rest.joints[j2] - rest.joints[j1])
    # towards the index finger within the palm plane, perpendicular to the thumb
    to_index = _unit(rest.joints[JOINT_INDEX["left_index1"]] - rest.joints[j1])
    to_index = _unit(to_index - d * (to_index @ d))
    palmar = np.array([0.0, -1.0, 0.0])
    ang = np.deg2rad(30.0)
    p = np.cos(ang) * palmar + np.sin(ang) * to_index
    p = _unit(p - d * (p @ d))
    a = np.cross(d, p)
    return tuple(_mirror_axis(v, side) if side == "right" else v for v in (d, p, a))


def _build_params(rest: RestSkeleton) -> tuple[Param, ...]:
    J = JOINT_INDEX
    X, Y, Z = np.eye(3)
    params: list[Param] = []

    def add(name, lo, hi, *acts):
        params.append(Param(name, lo, hi, tuple((J[j], f, np.asarray(ax, float), s) for j, f, ax, s in acts)))

    # root: free orientation (rotation vector components)
    for k, ax in zip("xyz", (X, Y, Z)):
        add(f"pelvis_r{k}", None, None, ("pelvis", 0, ax, 1.0))
    # spine, neck, head: flexion (+X bends forward), axial rotation (Y), lateral bend (Z)
    for joint, flex, axial, lat in (("spine1", (-20, 30), 20, 15), ("spine2", (-20, 30), 20, 15),
                                    ("spine3", (-20, 30), 20, 15), ("neck", (-40, 45), 45, 30),
                                    ("head", (-40, 40), 45, 30)):
        add(f"{joint}_flex", *flex, (joint, 0, X, 1.0))
        add(f"{joint}_axial", -axial, axial, (joint, 0, Y, 1.0))
        add(f"{joint}_lateral", -lat, lat, (joint, 0, Z, 1.0))
    for side in SIDES:
        m = lambda v: _mirror_axis(v, side)  # noqa: E731
        # collar: elevation (+Z lifts the left shoulder), protraction (-Y brings it forward)
        add(f"{side}_collar_elev", -12, 30, (f"{side}_collar", 0, m(Z), 1.0))
        add(f"{side}_collar_protr", -15, 20, (f"{side}_collar", 0, m(-Y), 1.0))
        # shoulder: free rotation vector (cone and twist limits in shoulder_excess)
        for k, ax in zip("xyz", (X, Y, Z)):
            add(f"{side}_shoulder_r{k}", None, None, (f"{side}_shoulder", 0, ax, 1.0))
        # elbow hinge (flexion brings the forearm forward), forearm twist (supination +)
        add(f"{side}_elbow_flex", -8, 155, (f"{side}_elbow", 0, m(-Y), 1.0))
        add(f"{side}_forearm_twist", -95, 95, (f"{side}_elbow", 1, m(-X), 0.5), (f"{side}_wrist", 0, m(-X), 0.5))
        # wrist swing: palmar flexion (-Z for the left hand), radial deviation (-Y)
        add(f"{side}_wrist_flex", -75, 85, (f"{side}_wrist", 1, m(-Z), 1.0))
        add(f"{side}_wrist_dev", -35, 25, (f"{side}_wrist", 1, m(-Y), 1.0))
        for f in FINGERS4:
            add(f"{side}_{f}1_flex", -25, 95, (f"{side}_{f}1", 0, m(-Z), 1.0))
            add(f"{side}_{f}1_abd", *_MCP_ABD[f], (f"{side}_{f}1", 0, m(-Y), 1.0))
            add(f"{side}_{f}2_flex", -8, 110, (f"{side}_{f}2", 0, m(-Z), 1.0))
            add(f"{side}_{f}3_flex", -12, 90, (f"{side}_{f}3", 0, m(-Z), 1.0))
        d, p, a = thumb_axes(rest, side)
        # thumb CMC: swing (flexion towards the pad, abduction away from the palm plane), then axial
        # rotation (opposition); MCP: flexion and a little abduction; IP: flexion
        add(f"{side}_thumb1_flex", -25, 55, (f"{side}_thumb1", 0, a, 1.0))
        add(f"{side}_thumb1_abd", -35, 40, (f"{side}_thumb1", 0, p, 1.0))
        add(f"{side}_thumb1_twist", -25, 55, (f"{side}_thumb1", 1, d, 1.0))
        add(f"{side}_thumb2_flex", -20, 70, (f"{side}_thumb2", 0, a, 1.0))
        add(f"{side}_thumb2_abd", -15, 15, (f"{side}_thumb2", 0, p, 1.0))
        add(f"{side}_thumb3_flex", -25, 90, (f"{side}_thumb3", 0, a, 1.0))
    return tuple(params)


@dataclass(frozen=True)
class DofModel:
    """The parameter table as arrays.

    ``names`` (P,), ``lo``/``hi`` (P,) radians (-inf/inf when free), ``A`` (2, 55, 3, P)
    axis x share of each parameter in each joint's two factors, ``free`` (P,) bool,
    ``index`` name -> column.
    """

    params: tuple
    names: tuple
    lo: np.ndarray
    hi: np.ndarray
    A: np.ndarray
    free: np.ndarray
    index: dict

    @property
    def size(self) -> int:
        return len(self.names)

    def columns(self, prefix: str) -> list[int]:
        return [i for i, n in enumerate(self.names) if n.startswith(prefix)]


@lru_cache(maxsize=None)
def _dof_model_cached(gender: str) -> DofModel:
    from ..skeleton import rest_skeleton

    return dof_model_for(rest_skeleton(gender))


def dof_model(gender: str = "neutral") -> DofModel:
    """The DOF table for the rest skeleton of ``gender`` (cached)."""
    return _dof_model_cached(gender)


def dof_model_for(rest: RestSkeleton) -> DofModel:
    params = _build_params(rest)
    P = len(params)
    A = np.zeros((2, NUM_JOINTS, 3, P))
    lo = np.full(P, -np.inf)
    hi = np.full(P, np.inf)
    for i, p in enumerate(params):
        if p.lo is not None:
            lo[i], hi[i] = np.deg2rad(p.lo), np.deg2rad(p.hi)
        for j, f, ax, share in p.acts:
            A[f, j, :, i] += ax * share
    names = tuple(p.name for p in params)
    return DofModel(params=params, names=names, lo=lo, hi=hi, A=A, free=~np.isfinite(lo),
                    index={n: i for i, n in enumerate(names)})


def limit_excess(theta: np.ndarray, model: DofModel) -> np.ndarray:
    """(..., P) radians by which each bounded angle lies outside its range (0 inside)."""
    lo = np.where(model.free, -np.inf, model.lo)
    hi = np.where(model.free, np.inf, model.hi)
    return np.maximum(lo - theta, 0.0) + np.maximum(theta - hi, 0.0)


def shoulder_excess(rotvec_local: np.ndarray, side: str) -> np.ndarray:
    """(...,) radians by which a shoulder's local rotation (parent = collar frame) passes
    the cone (upper arm at most ``SHOULDER_BACK_MAX_DEG`` behind the coronal plane) or the
    humeral twist limit (``SHOULDER_TWIST_MAX_DEG`` about the arm, swing-twist split)."""
    from .. import rotations as rot

    rv = np.asarray(rotvec_local, dtype=np.float64)
    shape = rv.shape[:-1]
    rv = rv.reshape(-1, 3)
    axis = np.array([1.0, 0.0, 0.0]) * (1.0 if side == "left" else -1.0)
    d = rot.axis_angle_to_matrix(rv) @ axis
    back = np.arcsin(np.clip(-d[:, 2], -1.0, 1.0))
    twist = rot.twist_angle(rot.axis_angle_to_quat(rv), axis)
    ex = np.maximum(back - np.deg2rad(SHOULDER_BACK_MAX_DEG), 0.0)
    ex = np.maximum(ex, np.abs(twist) - np.deg2rad(SHOULDER_TWIST_MAX_DEG))
    return np.maximum(ex, 0.0).reshape(shape)


def clamp_shoulder(rotvec_local: np.ndarray, side: str) -> np.ndarray:
    """(..., 3) shoulder rotation vectors moved to the nearest pose inside the limits of
    :func:`shoulder_excess` (twist clipped; an arm pointing too far back is turned forward
    just enough, the rest of its orientation kept)."""
    from .. import rotations as rot
    from .geometry import axis_angle_matrix, min_rotation

    rv = np.asarray(rotvec_local, dtype=np.float64)
    shape = rv.shape
    R = rot.axis_angle_to_matrix(rv.reshape(-1, 3))
    axis = np.array([1.0, 0.0, 0.0]) * (1.0 if side == "left" else -1.0)
    twist = rot.twist_angle(rot.axis_angle_to_quat(rv.reshape(-1, 3)), axis)
    S = R @ axis_angle_matrix(axis, -twist)
    d = S @ axis
    zmin = -np.sin(np.deg2rad(SHOULDER_BACK_MAX_DEG))
    back = d[:, 2] < zmin
    if np.any(back):
        dn = d[back].copy()
        xy = dn[:, :2]
        n = np.linalg.norm(xy, axis=1, keepdims=True)
        xy = np.where(n > 1e-9, xy / np.maximum(n, 1e-12), np.array([[axis[0], 0.0]]))
        dn = np.concatenate([xy * np.sqrt(1.0 - zmin ** 2), np.full((len(xy), 1), zmin)], axis=1)
        S[back] = min_rotation(np.broadcast_to(axis, dn.shape), dn)  # still a pure swing
    lim = np.deg2rad(SHOULDER_TWIST_MAX_DEG)
    R2 = S @ axis_angle_matrix(axis, np.clip(twist, -lim, lim))
    return rot.matrix_to_axis_angle(R2).reshape(shape)
