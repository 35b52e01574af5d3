"""Batch rendering and the ``signavatar`` command line (``blender --command signavatar``, or
``python -m signavatar_blender``). The worklist, records, outputs, framing, settings and
sheet layout are bpy-free; :mod:`.scene`, :mod:`.pipeline` and :mod:`.images` use Blender.
"""
