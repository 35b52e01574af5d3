"""The built-in avatar's stylised body as signed-distance primitives (numpy only).

Everything is laid out from the bone plan (Blender armature space, Z-up, facing -Y,
metres), so the body fits the skeleton it is skinned to for every body type. Sizes are
fractions of stature (``s = stature / 1.70 m``).

The body is a set of closed parts, each one material, that overlap like a dressed
mannequin: shirt (torso and arms), trousers, shoes, head and neck, hair, eyes, brows,
lips and the two hands. Where two parts meet their surfaces intersect, which draws
crisp collar, waist, cuff and hairlines at any mesh resolution. Inside a part the
primitives blend smoothly; fingers are hard-unioned chains so they never web together.
Each primitive carries a label; :class:`Label` says which bones may own its surface (the
nearest of them, by distance to the bone segment).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rig.bone_plan import BonePlan
from . import sdf

SIDES = (("left", 1.0), ("right", -1.0))
FINGERS = ("index", "middle", "ring", "pinky")
MATERIALS = ("skin", "shirt", "trousers", "shoes", "hair", "eyes", "lips")


@dataclass(frozen=True)
class Label:
    name: str
    bones: tuple  # candidate owner bones (nearest segment wins)


@dataclass(frozen=True)
class Part:
    """One separately meshed, single-material region."""

    name: str
    material: str
    tree: object
    voxel: float  # grid spacing of the mesh
    smooth_radius: float  # metres over which skin weights blend across a joint


@dataclass(frozen=True)
class BodyShape:
    parts: tuple
    labels: tuple  # Label per label index


class _Labels:
    def __init__(self):
        self.items: list[Label] = []

    def __call__(self, name, *bones) -> int:
        self.items.append(Label(name, tuple(bones)))
        return len(self.items) - 1


def _v(*xyz) -> np.ndarray:
    return np.array(xyz, dtype=np.float64)


def _hand(plan: BonePlan, side: str, s: float, lab: _Labels) -> Part:
    j = plan.head
    wrist = j(f"{side}_wrist")
    mid1 = j(f"{side}_middle1")
    along = (mid1 - wrist) / np.linalg.norm(mid1 - wrist)
    rot = sdf.frame(along, _v(0, -1, 0))  # x along the hand, y towards the thumb side, z = palm normal
    knuckles = np.array([j(f"{side}_{f}1") for f in FINGERS])
    across = knuckles @ rot[:, 1]
    palm_len = float((knuckles.mean(0) - wrist) @ along)
    palm_c = wrist + along * (0.5 * palm_len) + rot[:, 1] * float((knuckles.mean(0) - wrist) @ rot[:, 1])
    palm_c = palm_c - _v(0, 0, 0.002 * s)
    palm = sdf.box(lab(f"{side}_palm", f"{side}_wrist"), palm_c,
                   [0.5 * palm_len - 0.004 * s, 0.5 * (across.max() - across.min()) - 0.002 * s, 0.003 * s],
                   0.0105 * s, rot)
    heel = sdf.ellipsoid(lab(f"{side}_heel", f"{side}_wrist"), wrist + along * 0.018 * s,
                         _v(0.022, 0.026, 0.013) * s, rot)
    cuff = sdf.cone(lab(f"{side}_cuff", f"{side}_elbow", f"{side}_wrist"),
                    wrist - along * 0.040 * s, wrist + along * 0.004 * s, 0.0190 * s, 0.0200 * s)
    t1, t2 = j(f"{side}_thumb1"), j(f"{side}_thumb2")
    thenar = sdf.cone(lab(f"{side}_thenar", f"{side}_thumb1"), t1 - (t2 - t1) * 0.2, t2, 0.0140 * s, 0.0100 * s)
    base = sdf.Union((palm, heel, cuff, thenar), k=0.012 * s)
    chains = []
    radii = {"index": 0.0061, "middle": 0.0062, "ring": 0.0059, "pinky": 0.0053, "thumb": 0.0085}
    for f in FINGERS + ("thumb",):
        pts = [j(f"{side}_{f}{k}") for k in (1, 2, 3)]
        tip = plan.tails[plan.names.index(f"{side}_{f}3")]
        r0 = radii[f] * s
        pts.append(tip - (tip - pts[2]) / np.linalg.norm(tip - pts[2]) * 0.85 * r0)
        segs = []
        for k in range(1 if f == "thumb" else 0, 3):  # the thumb's first segment is the thenar cone
            segs.append(sdf.cone(lab(f"{side}_{f}{k + 1}", f"{side}_{f}{k + 1}"), pts[k], pts[k + 1],
                                 r0 * (1.0 - 0.09 * k), r0 * (1.0 - 0.09 * (k + 1))))
        chains.append(sdf.Union(tuple(segs), k=0.002 * s))
    # fingers never blend with each other, only with the palm (a little webbing at their roots)
    tree = sdf.Union((base, sdf.Union(tuple(chains), k=0.0)), k=0.004 * s)
    return Part(f"{side}_hand", "skin", tree, voxel=0.0016 * s, smooth_radius=0.011 * s)


def _head(plan: BonePlan, s: float, lab: _Labels) -> list[Part]:
    head = plan.head("head")
    top = plan.tails[plan.names.index("head")]
    chin = plan.tails[plan.names.index("jaw")]
    eye_l = plan.head("left_eye_smplhf")
    ez, ey = eye_l[2], eye_l[1]  # eye height, eye depth (the face is at -Y)
    skull_c = _v(0.0, head[1] + 0.008 * s, top[2] - 0.10 * s)
    skull = sdf.ellipsoid(lab("skull", "head"), skull_c, _v(0.074, 0.090, 0.100) * s)
    # a flat-fronted face: forehead, cheeks and mouth in one rounded slab
    face = sdf.box(lab("face", "head", "jaw"), _v(0.0, ey + 0.030 * s, ez - 0.012 * s), _v(0.030, 0.008, 0.030) * s,
                   0.036 * s)
    chin_shape = sdf.cone(lab("chin", "jaw"), _v(0.0, ey + 0.036 * s, ez - 0.048 * s),
                          _v(0.0, ey + 0.022 * s, chin[2] + 0.024 * s), 0.052 * s, 0.026 * s)
    nose = sdf.cone(lab("nose", "head"), _v(0.0, ey - 0.008 * s, ez - 0.006 * s), _v(0.0, ey - 0.017 * s, ez - 0.034 * s),
                    0.006 * s, 0.0105 * s)
    neck = sdf.cone(lab("neck", "neck", "head"), plan.head("spine3") + _v(0, 0.01, 0.03) * s,
                    head + _v(0, 0.012, 0.0) * s, 0.057 * s, 0.051 * s)
    ears, parts = [], []
    for side, sg in SIDES:
        e = plan.head(f"{side}_eye_smplhf")
        ears.append(sdf.ellipsoid(lab(f"{side}_ear", "head"), _v(sg * 0.072 * s, skull_c[1] + 0.006 * s, ez - 0.014 * s),
                                  _v(0.010, 0.016, 0.026) * s))
        eye = sdf.ellipsoid(lab(f"{side}_eye", f"{side}_eye_smplhf"), e + _v(0, -0.011, 0) * s,
                            _v(0.0112, 0.0090, 0.0108) * s)
        parts.append(Part(f"{side}_eye", "eyes", eye, voxel=0.0011 * s, smooth_radius=0.0))
        brow = sdf.cone(lab(f"{side}_brow", "head"), e + _v(sg * -0.011, -0.013, 0.019) * s,
                        e + _v(sg * 0.014, -0.009, 0.021) * s, 0.0040 * s, 0.0033 * s)
        parts.append(Part(f"{side}_brow", "hair", brow, voxel=0.0011 * s, smooth_radius=0.0))
    skin = sdf.Union((sdf.Union((skull, face, chin_shape, nose, *ears), k=0.025 * s), neck), k=0.03 * s)
    parts.append(Part("head", "skin", skin, voxel=0.0040 * s, smooth_radius=0.02 * s))
    lips = sdf.ellipsoid(lab("lips", "jaw", "head"), _v(0.0, ey - 0.009 * s, chin[2] + 0.042 * s),
                         _v(0.019, 0.008, 0.0055) * s)
    parts.append(Part("lips", "lips", lips, voxel=0.0011 * s, smooth_radius=0.004 * s))
    hair = sdf.ellipsoid(lab("hair", "head"), skull_c + _v(0.0, 0.008, 0.012) * s, _v(0.078, 0.092, 0.097) * s)
    parts.append(Part("hair", "hair", hair, voxel=0.006 * s, smooth_radius=0.0))
    return parts


def body_shape(plan: BonePlan, gender: str) -> BodyShape:
    """The avatar's parts for a bone plan (see the module docstring)."""
    lab = _Labels()
    j = plan.head
    stature = float(plan.tails[plan.names.index("head")][2])
    s = stature / 1.70
    female, male = gender == "female", gender == "male"
    chest_w = 0.128 if female else (0.145 if male else 0.137)
    hip_w = 0.162 if female else (0.140 if male else 0.148)
    waist_w = 0.126 if female else (0.142 if male else 0.135)
    pelvis, sp1, sp3, neck = j("pelvis"), j("spine1"), j("spine3"), j("neck")
    ls, rs = j("left_shoulder"), j("right_shoulder")
    chest = sdf.ellipsoid(lab("chest", "spine2", "spine3"), sp3 + _v(0, 0.0, -0.025) * s, _v(chest_w, 0.094, 0.15) * s)
    upper = sdf.cone(lab("upper_chest", "spine3"), _v(ls[0] - 0.075 * s, sp3[1] + 0.006 * s, ls[2] - 0.04 * s),
                     _v(rs[0] + 0.075 * s, sp3[1] + 0.006 * s, rs[2] - 0.04 * s), 0.072 * s)
    waist = sdf.ellipsoid(lab("waist", "pelvis", "spine1", "spine2"), sp1 + _v(0, 0.006, 0.01) * s,
                          _v(waist_w, 0.085, 0.12) * s)
    torso = [chest, upper, waist]
    if female:
        for side, sg in SIDES:
            torso.append(sdf.ellipsoid(lab(f"{side}_breast", "spine3"), sp3 + _v(sg * 0.050, -0.060, -0.050) * s,
                                       _v(0.050, 0.042, 0.046) * s))
    shirt = [sdf.Union(tuple(torso), k=0.08 * s)]
    legs, shoes = [], []
    for side, sg in SIDES:
        shoulder, elbow, wrist = (j(f"{side}_{n}") for n in ("shoulder", "elbow", "wrist"))
        girdle = sdf.cone(lab(f"{side}_girdle", f"{side}_collar", "spine3"),
                          _v(sg * 0.03 * s, sp3[1] + 0.012 * s, neck[2] - 0.035 * s),
                          shoulder + _v(-sg * 0.025, 0.006, -0.004) * s, 0.042 * s, 0.046 * s)
        delt = sdf.ellipsoid(lab(f"{side}_deltoid", f"{side}_shoulder", f"{side}_collar"),
                             shoulder + _v(sg * 0.010, 0.0, -0.006) * s, _v(0.050, 0.049, 0.051) * s * (1.05 if male else 1.0))
        arm_up = sdf.cone(lab(f"{side}_upperarm", f"{side}_shoulder"), shoulder, elbow,
                          (0.044 if female else 0.048) * s, 0.038 * s)
        fore = sdf.cone(lab(f"{side}_forearm", f"{side}_elbow"), elbow, wrist - (wrist - elbow) * 0.06, 0.039 * s,
                        0.027 * s)
        shirt.append(sdf.Union((sdf.Union((girdle, delt), k=0.03 * s), sdf.Union((arm_up, fore), k=0.03 * s)),
                               k=0.03 * s))
        hip, knee, ankle = (j(f"{side}_{n}") for n in ("hip", "knee", "ankle"))
        toe = plan.tails[plan.names.index(f"{side}_foot")]
        thigh = sdf.cone(lab(f"{side}_thigh", f"{side}_hip"), hip + _v(0, 0, 0.02) * s, knee,
                         (0.086 if female else 0.080) * s, 0.052 * s)
        shin = sdf.cone(lab(f"{side}_shin", f"{side}_knee"), knee, ankle + _v(0, 0, 0.02) * s, 0.050 * s, 0.036 * s)
        calf = sdf.ellipsoid(lab(f"{side}_calf", f"{side}_knee"), knee + (ankle - knee) * 0.32 + _v(0, 0.012, 0) * s,
                             _v(0.047, 0.048, 0.11) * s)
        legs.append(sdf.Union((thigh, shin, calf), k=0.05 * s))
        heading = toe - ankle
        heading[2] = 0.0
        heading /= np.linalg.norm(heading)
        rot = sdf.frame(heading, [0, 0, 1])  # x forward along the foot, y up, z across
        ground = _v(ankle[0], ankle[1], 0.011 * s)  # the blended sole bulges ~1 cm: lift it onto the floor
        heel = sdf.ellipsoid(lab(f"{side}_heel", f"{side}_ankle"), ground + heading * 0.005 * s + _v(0, 0, 0.040 * s),
                             _v(0.060, 0.040, 0.040) * s, rot)
        front = _v(toe[0], toe[1], ground[2]) - heading * 0.035 * s
        sole = sdf.cone(lab(f"{side}_shoe", f"{side}_foot", f"{side}_ankle"), ground + _v(0, 0, 0.032 * s),
                        front + _v(0, 0, 0.029 * s), 0.034 * s, 0.029 * s)
        toe_cap = sdf.ellipsoid(lab(f"{side}_toecap", f"{side}_foot"), front + _v(0, 0, 0.027 * s),
                                _v(0.050, 0.027, 0.041) * s, rot)
        top = sdf.cone(lab(f"{side}_shoe_top", f"{side}_ankle"), ankle + _v(0, 0, 0.030) * s,
                       ground + _v(0, 0, 0.045 * s), 0.038 * s, 0.040 * s)
        shoe = sdf.Union((heel, sole, toe_cap), k=0.03 * s)
        shoes.append(Part(f"{side}_shoe", "shoes", sdf.Union((top, shoe), k=0.03 * s), voxel=0.005 * s,
                          smooth_radius=0.02 * s))
    hips = sdf.ellipsoid(lab("hips", "pelvis", "left_hip", "right_hip"), pelvis + _v(0, 0.010, -0.05) * s,
                         _v(hip_w, 0.094, 0.10) * s)
    # the waistband: straight sides and rounded edges around the shirt's lower end (the shirt is tucked in)
    band = sdf.box(lab("waistband", "pelvis", "spine1"), pelvis + _v(0, 0.008, 0.005) * s,
                   _v(waist_w - 0.002 - 0.04, 0.090 - 0.04, 0.028) * s, 0.04 * s)
    parts = [
        Part("shirt", "shirt", sdf.Union(tuple(shirt), k=0.035 * s), voxel=0.0065 * s, smooth_radius=0.04 * s),
        Part("trousers", "trousers", sdf.Union((sdf.Union((band, hips), k=0.06 * s), sdf.Union(tuple(legs), k=0.0)),
                                               k=0.04 * s), voxel=0.0075 * s,
             smooth_radius=0.04 * s),
        *shoes,
        *_head(plan, s, lab),
    ]
    for side, _ in SIDES:
        parts.append(_hand(plan, side, s, lab))
    return BodyShape(parts=tuple(parts), labels=tuple(lab.items))
