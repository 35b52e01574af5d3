"""SignAvatar for Blender: all bpy code of the extension.

The extension's root ``__init__.py`` hands ``register``/``unregister`` on to this package.
Nothing is imported at module level, so the numpy-only modules here (quaternion,
rig_math, bone_plan, rigs, sdf, surface_nets, body_shape, skin_weights, avatar_mesh, and
``rig.mapping``, ``rig.retarget_math``) can be
imported and tested without Blender; ``register`` pulls in the bpy modules.
"""


def _modules():
    from . import (file_handlers, ops_avatar, ops_deps, ops_export, ops_sign, ops_video, panels, preferences,
                   properties)
    from .rig import ops_mapping
    from .rig import props as rig_props

    return (properties, rig_props, preferences, ops_avatar, ops_sign, ops_video, ops_export, ops_deps, panels,
            ops_mapping, file_handlers)


def register() -> None:
    import bpy

    for module in _modules():
        for cls in module.classes:
            bpy.utils.register_class(cls)
        if hasattr(module, "register_props"):
            module.register_props()
    from .render import cli

    cli.register_cli()  # blender --command signavatar ...


def unregister() -> None:
    import bpy

    from .render import cli

    cli.unregister_cli()
    for module in reversed(_modules()):
        if hasattr(module, "unregister_props"):
            module.unregister_props()
        for cls in reversed(module.classes):
            bpy.utils.unregister_class(cls)
