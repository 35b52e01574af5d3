"""SignAvatar for Blender: all bpy code of the extension.

The extension's root ``__init__.py`` hands ``register``/``unregister`` on to this package.
Rooms (the README's "What is where" lists them with their import rules, ``tests/test_layers.py``
enforces them):

* ``ui/``: scene/window-manager properties, preferences, panels, file handlers;
* ``ops/``: thin operators and the one modal-job base (:mod:`.ops.jobs`);
* ``rig/``: keying, the action-API shim, baking, retargeting, and numpy-only rig math;
* ``avatar/``: the built-in avatar's bpy builder over numpy-only meshing and skinning;
* ``render/``: the batch renderer and the ``signavatar`` command line;
* ``runtime_bridge/``: the one way to ``model_runtime`` (and its Python dependencies).

Nothing is imported at module level, so the numpy-only modules can be imported and tested
without Blender; ``register`` pulls in the bpy modules.
"""


def _modules():
    """Registered in this order (properties first: operators and panels read them), unregistered in reverse."""
    from .ops import avatar, export, install, mapping, sign, video
    from .rig import props as rig_props
    from .ui import file_handlers, panels, preferences, properties

    return (properties, rig_props, preferences, avatar, sign, video, export, install, mapping, panels, file_handlers)


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
