"""Training the SignAvatar model: ``python -m model_runtime train`` (see :mod:`.cli` and :mod:`.loop`)."""
