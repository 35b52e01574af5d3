"""Inverse kinematics: MediaPipe landmarks -> SMPL-X rotations on our rest skeleton.

``solve(seq, gender="neutral", config=None) -> IKResult`` (one clip) and ``solve_batch``
(many clips refined together) live in :mod:`.solve`; settings in :class:`.config.IKConfig`;
pictures in :mod:`.preview`; the ``data check`` / ``data preview`` commands in :mod:`.cli`.
"""

from .config import IKConfig
from .solve import IKResult, solve, solve_batch

__all__ = ["IKConfig", "IKResult", "solve", "solve_batch"]
