"""Image understanding for signs from images with text-conditioned models (offline, no bpy).

:func:`understand_image` (``understand.py``) turns an image file into a known gloss with its
evidence, or refuses; it reads printed text (``ocr.py``), checks for faces (``faces.py``) and
classifies the object (``classify.py`` with the reviewed ``imagenet_glosses.json``), after the
bounded decode of :func:`model_runtime.imageio.load_image`. Heavy packages are imported on first use.
"""


def __getattr__(name):
    if name in ("understand_image", "ImageMatch", "Evidence", "ReaderConfig"):
        from . import understand

        return getattr(understand, name)
    raise AttributeError(name)
