"""The camera model shared by the fit, the quality figures and the previews.

A world point (X, Y, Z) in metres of the motion (SMPL-X body frame without ``trans``, Z
towards the camera) appears at the image point, in height units (x scaled by W/H, see
:mod:`.observations`)::

    (u, v) = s * (X - Ox, -(Y - Oy)) / (1 - (Z - Oz) * s / f) + c_t

``O``: the rest skeleton's mid-shoulder point, where the camera is taken to look (sign
video frames the chest and face); ``s``: height units per metre in the plane through O
(Z = Oz), one per clip; ``f``: focal length in height units (the camera stands f / s
metres in front of that plane); ``c_t``: where O appears in frame t. As ``f`` grows this becomes the scaled
orthographic ("weak perspective") camera; a phone held at arm's length (f about 0.8-1.2
image heights, 0.6-1 m away) makes a hand 0.3 m in front of the chest look 1.3-1.5x
larger, which the fit must explain by distance, not by longer bones. The divisor is kept
above ``MIN_DEPTH_RATIO`` so a point near the lens cannot blow up.
"""

from __future__ import annotations

MIN_DEPTH_RATIO = 0.35


def look_point(rest) -> tuple[float, float, float]:
    """O of the module docstring for a rest skeleton: the midpoint of its shoulder joints."""
    from ..skeleton import JOINT_INDEX

    p = (rest.joints[JOINT_INDEX["left_shoulder"]] + rest.joints[JOINT_INDEX["right_shoulder"]]) / 2
    return float(p[0]), float(p[1]), float(p[2])


def project(X, s, f, centre, origin=(0.0, 0.0, 0.0)):
    """(..., 3) world points -> (..., 2) image points; works for numpy arrays and torch tensors.

    ``centre`` broadcasts against the points' leading dimensions, e.g. (T, 1, 2) for (T, M, 3);
    ``origin``: O of the module docstring.
    """
    ox, oy, oz = origin
    den = 1.0 - (X[..., 2] - oz) * (s / f)
    den = den.clip(MIN_DEPTH_RATIO, None) if hasattr(den, "clip") else den
    k = s / den
    u = (X[..., 0] - ox) * k
    v = -(X[..., 1] - oy) * k
    try:
        import torch

        if isinstance(X, torch.Tensor):
            return torch.stack([u, v], dim=-1) + centre
    except ImportError:  # pragma: no cover - torch is a hard dependency of the IK
        pass
    import numpy as np

    return np.stack([u, v], axis=-1) + centre
