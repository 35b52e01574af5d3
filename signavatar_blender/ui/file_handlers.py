"""Drag and drop: an image or a video dropped on the 3D viewport signs it (Blender 4.1+ file handlers).

The handlers name their operators by ``bl_idname`` only; the accepted suffixes come from
:mod:`..runtime_bridge.formats` (the video list is ``model_runtime``'s own).
"""

from __future__ import annotations

import bpy

from ..runtime_bridge.formats import IMAGE_EXTENSIONS, video_extensions


def _over_viewport(context) -> bool:
    return context.area is not None and context.area.type == "VIEW_3D"


classes = ()
if hasattr(bpy.types, "FileHandler"):

    class SIGNAVATAR_FH_image(bpy.types.FileHandler):
        bl_idname = "SIGNAVATAR_FH_image"
        bl_label = "SignAvatar: sign from image"
        bl_import_operator = "signavatar.sign_from_image"
        bl_file_extensions = ";".join(IMAGE_EXTENSIONS)

        @classmethod
        def poll_drop(cls, context):
            return _over_viewport(context)

    class SIGNAVATAR_FH_video(bpy.types.FileHandler):
        bl_idname = "SIGNAVATAR_FH_video"
        bl_label = "SignAvatar: reconstruct from video"
        bl_import_operator = "signavatar.sign_from_video"
        bl_file_extensions = ";".join(video_extensions())

        @classmethod
        def poll_drop(cls, context):
            return _over_viewport(context)

    classes = (SIGNAVATAR_FH_image, SIGNAVATAR_FH_video)
