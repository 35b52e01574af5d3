"""Thin operators (avatar, sign, video, export, bone mapping, dependency install) and the one
way to run long work, :mod:`.jobs` (a worker thread, a queue, a modal-operator base). The
work itself lives in ``rig``, ``avatar`` and ``model_runtime`` (through ``runtime_bridge``).
"""
