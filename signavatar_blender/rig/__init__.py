"""Retargeting: SignAvatar motion on the animator's own humanoid rig, and mocap from such rigs back.

Numpy-only modules (imported and tested without Blender):

* :mod:`.mapping`: which bone of a rig plays which SMPL-X joint: presets as plain JSON files in
  ``presets/`` (Rigify, Mixamo, VRM, Unreal), a structural name heuristic for anything else,
  validation, and the JSON form a user's edited mapping is saved in.
* :mod:`.retarget_math`: rest-pose compensation in world space and the conversion of SMPL-X
  poses to pose-bone rotations of a mapped rig (and back).

Thin bpy adapters: :mod:`.binding` (read a rig, build its plan, key and bake), :mod:`.props`
(the editable mapping stored on the armature object), :mod:`.ops_mapping` (operators and the
panel section) and :mod:`.importer` (``python -m signavatar_blender import-motion``).
"""
