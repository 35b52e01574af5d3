"""Training losses. Reductions are stated per function; padding never counts.

Total loss = ``masked_mse`` on raw (de-normalised) 6D rotations
+ ``fk_weight`` * FK joint-position MSE + ``fk_vel_weight`` * FK joint-velocity MSE (both from
:func:`fk_losses`) + ``kl_weight`` * ``kl_divergence``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..skeleton import JOINT_INDEX, forward_kinematics
from .config import MotionSpec
from .features import features_to_matrices


@dataclass
class LossParts:
    total: torch.Tensor
    recon: torch.Tensor
    kl: torch.Tensor
    fk: torch.Tensor


def masked_mse(pred: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean squared error over every feature of every valid frame. pred/target (B, T, F), valid (B, T)."""
    w = valid[..., None].to(pred.dtype)
    return ((pred - target) ** 2 * w).sum() / (w.sum() * pred.shape[-1]).clamp(min=1)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over latent dimensions, averaged over clips."""
    return (0.5 * (logvar.exp() + mu ** 2 - 1.0 - logvar)).sum(-1).mean()


class FKPositions:
    """Joint positions (metres) of the signing joints and fingertips by FK on the neutral rest skeleton."""

    def __init__(self, spec: MotionSpec, device="cpu"):
        from ..skeleton import rest_skeleton

        rest = rest_skeleton("neutral")
        self.spec = spec
        self.rest = torch.as_tensor(rest.joints, dtype=torch.float32, device=device)
        self.joints = torch.tensor(spec.joint_indices, device=device)
        tips = [n for n in rest.end_sites if n.endswith("3") and JOINT_INDEX[n] in spec.joint_indices]
        self.tip_joints = torch.tensor([JOINT_INDEX[n] for n in tips], device=device, dtype=torch.long)
        self.tip_offsets = torch.as_tensor(np.array([rest.end_sites[n] - rest.joints[JOINT_INDEX[n]] for n in tips]),
                                           dtype=torch.float32, device=device)

    def __call__(self, feats: torch.Tensor) -> torch.Tensor:
        """(..., 6J) raw features -> (..., J + tips, 3) positions."""
        fk = forward_kinematics(features_to_matrices(feats, self.spec), self.rest)
        pos = fk.positions[..., self.joints, :]
        if len(self.tip_joints) == 0:
            return pos
        rots = fk.rotations[..., self.tip_joints, :, :]
        tips = fk.positions[..., self.tip_joints, :] + (rots @ self.tip_offsets[:, :, None])[..., 0]
        return torch.cat([pos, tips], dim=-2)


def fk_losses(pred_raw: torch.Tensor, target_raw: torch.Tensor, valid: torch.Tensor,
              fk: FKPositions) -> tuple[torch.Tensor, torch.Tensor]:
    """Joint-position MSE (m^2, mean over joints and valid frames) and joint-velocity MSE (m^2 per
    frame^2, mean over joints and pairs of consecutive valid frames). pred/target (B, T, F) raw."""
    # padded frames hold zeros, which are no rotation: FK sees the rest pose there (and weight 0)
    eye6 = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0], dtype=pred_raw.dtype, device=pred_raw.device)
    rest = eye6.repeat(pred_raw.shape[-1] // 6)
    keep = valid[..., None]
    p, t = fk(torch.where(keep, pred_raw, rest)), fk(torch.where(keep, target_raw, rest))  # (B, T, J, 3)
    w = valid.to(p.dtype)
    n = w.sum().clamp(min=1) * p.shape[-2]
    pos = (((p - t) ** 2).sum(-1).sum(-1) * w).sum() / n
    wv = w[:, 1:] * w[:, :-1]
    dv = (p[:, 1:] - p[:, :-1]) - (t[:, 1:] - t[:, :-1])
    vel = ((dv ** 2).sum(-1).sum(-1) * wv).sum() / (wv.sum().clamp(min=1) * p.shape[-2])
    return pos, vel


def fk_position_mse(pred_raw: torch.Tensor, target_raw: torch.Tensor, valid: torch.Tensor,
                    fk: FKPositions) -> torch.Tensor:
    """Squared distance (m^2) between predicted and true joint positions, mean over joints and valid frames."""
    p, t = pred_raw[valid], target_raw[valid]
    if len(p) == 0:
        return pred_raw.sum() * 0
    return ((fk(p) - fk(t)) ** 2).sum(-1).mean()
