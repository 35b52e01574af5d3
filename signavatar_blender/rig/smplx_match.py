"""Recognising SMPL-X-named armatures (numpy-free, no Blender).

An armature qualifies when it has a bone for every body and hand joint of SMPL-X
(52 of the 55 joints, by name) and each of those bones hangs from the bone of its SMPL-X
parent joint. Jaw and eyes are optional (SMPL-H rigs have neither). Name variants seen in
the wild are accepted: the MPI SMPL-X add-on names the eyes ``left_eye_smplhf`` (as the
SMPL-X joint list does), the Meshcapade add-on ``left_eye``; both add an extra ``root``
bone above ``pelvis``, which is allowed (any unkeyed parent above the pelvis is).
"""

from __future__ import annotations

from dataclasses import dataclass, field

OPTIONAL_JOINTS = frozenset({"jaw", "left_eye_smplhf", "right_eye_smplhf"})
ALIASES = {
    "left_eye_smplhf": ("left_eye_smplhf", "left_eye"),
    "right_eye_smplhf": ("right_eye_smplhf", "right_eye"),
}


@dataclass(frozen=True)
class RigMatch:
    """How an armature's bones map onto the SMPL-X joints."""

    bones: dict  # joint name -> bone name, for every joint found
    missing_required: tuple
    missing_optional: tuple
    wrong_parents: tuple = field(default=())  # (bone, actual parent, expected parent)

    @property
    def ok(self) -> bool:
        return not self.missing_required and not self.wrong_parents

    def problem(self, rig_name: str) -> str:
        """One message naming every problem, and the fix (empty when ``ok``)."""
        parts = []
        if self.missing_required:
            shown = ", ".join(self.missing_required[:8])
            more = f" and {len(self.missing_required) - 8} more" if len(self.missing_required) > 8 else ""
            parts.append(f"it has no bone for {len(self.missing_required)} SMPL-X joints ({shown}{more})")
        if self.wrong_parents:
            shown = "; ".join(f"'{b}' hangs from '{a or 'nothing'}' instead of '{e}'"
                              for b, a, e in self.wrong_parents[:5])
            parts.append(f"its bone hierarchy differs from SMPL-X ({shown})")
        if not parts:
            return ""
        return (f"'{rig_name}' is not an SMPL-X armature: " + "; ".join(parts)
                + ". Select an armature whose bones use the SMPL-X joint names (e.g. one made by the "
                  "SMPL-X add-on), or create a built-in avatar in the SignAvatar panel")


def match_smplx(bone_parents: dict, joint_names, joint_parents) -> RigMatch:
    """Match ``bone_parents`` (bone name -> parent bone name or None) against the SMPL-X tree."""
    bones: dict = {}
    missing_req, missing_opt = [], []
    for joint in joint_names:
        found = next((b for b in ALIASES.get(joint, (joint,)) if b in bone_parents), None)
        if found is not None:
            bones[joint] = found
        elif joint in OPTIONAL_JOINTS:
            missing_opt.append(joint)
        else:
            missing_req.append(joint)
    wrong = []
    for j, joint in enumerate(joint_names):
        p = joint_parents[j]
        if joint not in bones or p < 0:
            continue  # the root may hang from anything (e.g. a 'root' bone)
        expected = bones.get(joint_names[p])
        actual = bone_parents[bones[joint]]
        if expected is not None and actual != expected:
            wrong.append((bones[joint], actual, expected))
    return RigMatch(bones=bones, missing_required=tuple(missing_req), missing_optional=tuple(missing_opt),
                    wrong_parents=tuple(wrong))
