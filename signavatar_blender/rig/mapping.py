"""Which bone of a rig plays which SMPL-X joint: presets, a structural heuristic, validation (no numpy, no bpy).

A *mapping* is ``{SMPL-X joint name: bone name}`` for the joints the rig has. It comes from

1. a **preset** (``presets/*.json``: Rigify, Mixamo, VRM, Unreal): for each joint a list of candidate
   bone names, tried in order, each bone used once (so UE4's ``spine_03`` becomes ``spine3`` while
   UE5's five spine bones give ``spine_05``). A namespace prefix (``mixamorig:``, ``mixamorig1:``,
   ``Armature|``) is ignored when matching. The preset matching the most joints wins;
   presets may also name rig settings to apply while signing (Rigify's IK/FK switches);
2. else the **heuristic** (:func:`heuristic`): it finds the head, hands and feet by name, walks the
   hierarchy up from them (hand -> forearm -> upper arm -> collar, foot -> shin -> thigh) and down
   the fingers, and spreads the bones between pelvis and neck over SMPL-X's three spine joints
   (two bones: the middle joint is dropped; its rotation reaches the upper bone);
3. or the **user**: the mapping is stored on the armature, editable in the panel, and can be saved
   as a JSON file of the same form as a preset and loaded on another rig.

:func:`problems` names everything wrong with a mapping in one list (required joints missing, bones
that are not in the rig, one bone used twice).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..runtime_bridge import atomic

PRESET_DIR = Path(__file__).resolve().parent / "presets"
REQUIRED = ("pelvis", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
            "right_wrist")
FINGERS = ("index", "middle", "pinky", "ring", "thumb")
FORMAT = "signavatar-mapping-1"


@dataclass(frozen=True)
class Setting:
    """A custom property of a pose bone held at a value while signing (e.g. Rigify's ``IK_FK`` = 1)."""

    bone: str
    prop: str
    value: float


@dataclass(frozen=True)
class Preset:
    name: str
    about: str
    bones: tuple  # ((joint, (candidate, ...)), ...) in matching order
    settings: tuple = ()


@dataclass(frozen=True)
class Mapping:
    """A rig's joint -> bone table and where it came from (a preset's name, 'heuristic', 'user')."""

    bones: dict
    source: str
    settings: tuple = field(default=())

    def unmapped(self, joint_names) -> tuple:
        return tuple(j for j in joint_names if j not in self.bones)

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "source": self.source, "bones": self.bones,
                           "settings": [{"bone": s.bone, "property": s.prop, "value": s.value}
                                        for s in self.settings]}, indent=1)


def _settings(items) -> tuple:
    return tuple(Setting(str(s["bone"]), str(s["property"]), float(s["value"])) for s in items)


def _preset_from_dict(d: dict) -> Preset:
    return Preset(name=str(d["name"]), about=str(d.get("about", "")),
                  bones=tuple((j, tuple(c)) for j, c in d["bones"].items()), settings=_settings(d.get("settings", ())))


def load_presets(folder: Path = PRESET_DIR) -> tuple:
    """Every preset in ``folder`` (sorted by file name)."""
    return tuple(_preset_from_dict(json.loads(p.read_text(encoding="utf-8"))) for p in sorted(folder.glob("*.json")))


def strip_namespace(name: str) -> str:
    """``mixamorig:Hips`` -> ``Hips`` (also ``Armature|Hips``)."""
    return re.split(r"[:|]", name)[-1]


def match_preset(preset: Preset, bone_names) -> dict:
    """``{joint: bone}`` for the joints of ``preset`` found among ``bone_names``."""
    by_plain: dict = {}
    for b in bone_names:
        by_plain.setdefault(strip_namespace(b), b)
        by_plain.setdefault(strip_namespace(b).lower(), b)
    used, out = set(), {}
    for joint, candidates in preset.bones:
        for c in candidates:
            b = by_plain.get(c) or by_plain.get(c.lower())
            if b is not None and b not in used:
                out[joint] = b
                used.add(b)
                break
    return out


# ---------------------------------------------------------------------------------------------- heuristic

def _tokens(name: str) -> list:
    plain = strip_namespace(name)
    plain = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", plain)
    plain = re.sub(r"([A-Za-z])([0-9])", r"\1 \2", plain)
    return [t for t in re.split(r"[^a-z0-9]+", plain.lower()) if t]


def _side(name: str) -> str:
    t = _tokens(name)
    if "left" in t or "l" in t:
        return "left"
    if "right" in t or "r" in t:
        return "right"
    return ""


_FINGER_WORDS = {"thumb": ("thumb",), "index": ("index", "pointer"), "middle": ("middle",),
                 "ring": ("ring",), "pinky": ("pinky", "little", "small")}
_SKIP = ("twist", "roll", "end", "nub", "tip", "ik", "pole", "target", "helper", "corrective")


def _has(name: str, words) -> bool:
    t = _tokens(name)
    return any(w in t for w in words) or any(w in "".join(t) for w in words if len(w) > 4)


def _usable(name: str) -> bool:
    return not any(w in _tokens(name) for w in _SKIP)


class _Tree:
    """A rig's bone hierarchy, for the name heuristic: parents, children, chains and depths."""

    def __init__(self, bone_parents: dict):
        self.parents = dict(bone_parents)
        self.children: dict = {}
        for b, p in self.parents.items():
            self.children.setdefault(p, []).append(b)

    def chain_up(self, b) -> list:
        out = []
        while b is not None:
            out.append(b)
            b = self.parents.get(b)
        return out

    def depth(self, b) -> int:
        return len(self.chain_up(b))

    def below(self, root) -> set:
        found, stack = set(), [root]
        while stack:
            b = stack.pop()
            found.add(b)
            stack.extend(self.children.get(b, ()))
        return found

    def pick(self, words, side, exclude=()):
        found = [b for b in self.parents if _has(b, words) and _usable(b) and (_side(b) == side)
                 and not _has(b, tuple(exclude))]
        return min(found, key=self.depth) if found else None


_ALL_FINGER_WORDS = tuple(w for ws in _FINGER_WORDS.values() for w in ws)


def _fingers(tree: _Tree, hand, side: str, out: dict) -> None:
    below = tree.below(hand)
    for finger, words in _FINGER_WORDS.items():
        cands = [b for b in below if b != hand and _has(b, words) and _usable(b)]
        if not cands:
            continue
        b = min(cands, key=tree.depth)
        chain = []
        while b is not None:
            chain.append(b)
            nxt = [c for c in tree.children.get(b, ()) if _has(c, words) and _usable(c)]
            b = nxt[0] if nxt else None
        if finger != "thumb" and len(chain) > 3 and _has(chain[0], ("meta", "metacarpal", "carpal")):
            chain = chain[1:]
        for k, b in enumerate(chain[:3], 1):
            out[f"{side}_{finger}{k}"] = b


def _arm(tree: _Tree, side: str, head_line: set, out: dict) -> None:
    hand = tree.pick(("hand", "wrist"), side, exclude=_ALL_FINGER_WORDS)
    if hand is None:
        return
    up = tree.chain_up(hand)
    if len(up) >= 3:
        out[f"{side}_wrist"], out[f"{side}_elbow"], out[f"{side}_shoulder"] = up[0], up[1], up[2]
        if len(up) >= 4 and up[3] not in head_line:
            out[f"{side}_collar"] = up[3]
    _fingers(tree, hand, side, out)


def _leg(tree: _Tree, side: str, out: dict) -> None:
    foot = tree.pick(("foot", "ankle"), side, exclude=("toe",) + _ALL_FINGER_WORDS)
    if foot is None:
        return
    up = tree.chain_up(foot)
    if len(up) >= 3:
        out[f"{side}_ankle"], out[f"{side}_knee"], out[f"{side}_hip"] = up[0], up[1], up[2]
    toes = [c for c in tree.children.get(foot, ()) if _usable(c)]
    named = [c for c in toes if _has(c, ("toe", "ball"))]
    if named or len(toes) == 1:
        out[f"{side}_foot"] = (named or toes)[0]


def _torso(tree: _Tree, head, out: dict) -> None:
    """Head, neck, pelvis (where the legs meet, else named), three spine joints between, jaw."""
    out["head"] = head
    neck = tree.parents.get(head)
    if neck is not None and _has(neck, ("neck",)):
        out["neck"] = neck
    top = out.get("neck", head)
    hips = [out.get("left_hip"), out.get("right_hip")]
    pelvis = None
    if all(hips):
        common = [b for b in tree.chain_up(tree.parents.get(hips[0])) if b in set(tree.chain_up(hips[1]))]
        pelvis = common[0] if common else None
    line = tree.chain_up(tree.parents.get(top))
    if pelvis is None:  # no legs: the pelvis is the bone named like one on the head's line
        named = [b for b in line if _has(b, ("pelvis", "hips", "hip"))]
        pelvis = named[0] if named else (line[-1] if line else None)
    if pelvis is not None and pelvis in line:
        out["pelvis"] = pelvis
        spine = list(reversed(line[:line.index(pelvis)]))  # pelvis (excl.) -> below the neck (incl.)
        if len(spine) >= 3:
            out["spine1"], out["spine2"], out["spine3"] = spine[0], spine[(len(spine) - 1) // 2], spine[-1]
        elif len(spine) == 2:
            out["spine1"], out["spine3"] = spine
        elif len(spine) == 1:
            out["spine3"] = spine[0]
    jaws = [b for b in tree.parents if _has(b, ("jaw",)) and head in tree.chain_up(b) and _usable(b)]
    if jaws:
        out["jaw"] = min(jaws, key=tree.depth)


def heuristic(bone_parents: dict) -> dict:
    """Guess ``{joint: bone}`` from names and the hierarchy (see the module docstring)."""
    tree = _Tree(bone_parents)
    heads = [b for b in tree.parents if _has(b, ("head",)) and _usable(b) and not _has(b, ("top",))]
    head = min(heads, key=tree.depth) if heads else None
    head_line = set(tree.chain_up(head)) if head else set()
    out: dict = {}
    for side in ("left", "right"):
        _arm(tree, side, head_line, out)
        _leg(tree, side, out)
    if head is not None:
        _torso(tree, head, out)
    seen: dict = {}
    for j, b in list(out.items()):  # one bone, one joint
        if b in seen:
            out.pop(j)
        else:
            seen[b] = j
    return out


# ---------------------------------------------------------------------------------------------- detect, check

def detect(bone_parents: dict, presets=None) -> Mapping:
    """The best preset for this rig, or the heuristic when it maps more of the required joints."""
    presets = load_presets() if presets is None else presets
    best = None
    for p in presets:
        m = match_preset(p, bone_parents)
        score = (sum(j in m for j in REQUIRED), len(m))
        if best is None or score > best[0]:
            best = (score, Mapping(bones=m, source=p.name, settings=p.settings))
    h = heuristic(bone_parents)
    h_score = (sum(j in h for j in REQUIRED), len(h))
    if best is None or h_score[0] > best[0][0]:
        return Mapping(bones=h, source="heuristic")
    return best[1]


def problems(mapping: Mapping, bone_names, joint_names) -> list:
    """Everything wrong with ``mapping`` for a rig with ``bone_names`` (empty when it is usable)."""
    names = set(bone_names)
    out = []
    unknown_joints = [j for j in mapping.bones if j not in set(joint_names)]
    if unknown_joints:
        out.append(f"unknown SMPL-X joints {', '.join(unknown_joints)}")
    absent = [f"'{b}' ({j})" for j, b in mapping.bones.items() if b not in names]
    if absent:
        out.append(f"bones not in the rig: {', '.join(absent[:8])}" + (f" and {len(absent) - 8} more"
                                                                           if len(absent) > 8 else ""))
    missing = [j for j in REQUIRED if j not in mapping.bones]
    if missing:
        out.append(f"no bone for {', '.join(missing)}")
    if not any(j in mapping.bones for j in ("neck", "spine3", "spine2")):
        out.append("no bone for the neck or the upper spine")
    used: dict = {}
    for j, b in mapping.bones.items():
        used.setdefault(b, []).append(j)
    twice = [f"'{b}' ({' and '.join(js)})" for b, js in used.items() if len(js) > 1]
    if twice:
        out.append(f"bones used for two joints: {', '.join(twice)}")
    return out


def from_json(text: str) -> Mapping:
    """A mapping saved by :meth:`Mapping.to_json`, or a preset file (``ValueError`` naming the problem)."""
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"not a JSON mapping file ({e})") from None
    if not isinstance(d, dict) or not isinstance(d.get("bones"), dict):
        raise ValueError("a mapping file has a 'bones' object {\"SMPL-X joint\": \"bone\"}")
    bones = {}
    for j, b in d["bones"].items():
        if isinstance(b, list):  # a preset: its first candidate
            b = b[0] if b else None
        if not isinstance(b, str) or not b:
            raise ValueError(f"joint '{j}': expected a bone name, got {b!r}")
        bones[str(j)] = b
    try:
        settings = _settings(d.get("settings", ()))
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"bad 'settings' entry ({e})") from None
    return Mapping(bones=bones, source=str(d.get("source") or d.get("name") or "user"), settings=settings)


def save(mapping: Mapping, path) -> Path:
    """Write ``mapping`` as JSON, atomically (``SignAvatarError`` naming the file when it cannot be written)."""
    return atomic().write_text(Path(path), mapping.to_json() + "\n")
