"""The built-in avatar: the bpy builder (:mod:`.build`) over numpy-only meshing and skinning.

Numpy-only (imported and tested without Blender): :mod:`.body_shape` (what the body is, as
signed-distance primitives), :mod:`.sdf`, :mod:`.surface_nets` (meshing),
:mod:`.skin_weights` and :mod:`.mesh` (the whole mesh as arrays, cached on disk). The bone
table they hang on is :mod:`..rig.bone_plan`. This package file imports only the bridge, so
reading which body an armature has (:func:`body_of`) does not pull in the meshing stack.
"""

from __future__ import annotations

from .. import runtime_bridge as bridge

BODY_PROP = "signavatar_body"  # custom property on the armature object: neutral / female / male


def body_of(obj) -> str:
    """The body (``neutral``/``female``/``male``) an armature was built with; ``neutral`` when unknown."""
    body = obj.get(BODY_PROP, "neutral")
    return body if body in bridge.runtime("skeleton").GENDERS else "neutral"
