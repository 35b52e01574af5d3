"""Generation API (:class:`Generator`, loaded lazily) and the ``generate`` command."""


def __getattr__(name):
    if name in ("Generator", "GlossMatch"):
        from . import generator

        return getattr(generator, name)
    raise AttributeError(name)
