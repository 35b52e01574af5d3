"""SignAvatar Blender extension entry point: hands register/unregister on to ``signavatar_blender``."""


def register():
    from .signavatar_blender import register as _register

    _register()


def unregister():
    from .signavatar_blender import unregister as _unregister

    _unregister()
