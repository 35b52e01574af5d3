"""Joining two signs: where to cut, the transition between the cuts, and the low-pass around it.

Rotations are XYZW float64 torch quaternions made continuous in time
(:func:`.kinematics.continuous_quats`); positions are metres; frame counts are integers
at the sentence's frame rate.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import rotations as rot
from .kinematics import local_velocity, qexp, qmul


def find_join(tail: np.ndarray, head: np.ndarray, tail_from: int, head_to: int, fps: float,
              cut_penalty: float, velocity_weight: float) -> tuple[int, int, float, float]:
    """Best cut ``(i, j, distance, velocity_change)``: leave sign A after frame ``i``, enter sign B at frame ``j``.

    ``tail``: (Na, P, 3) hand points of A, ``i`` searched in ``[tail_from, Na - 1]``;
    ``head``: (Nb, P, 3) hand points of B, ``j`` in ``[0, head_to]``. The cost is the mean
    distance between the two poses' hand points, plus the velocity mismatch times
    ``velocity_weight``, plus ``cut_penalty`` per second of sign cut away. ``distance`` is the
    largest hand-point distance of the chosen pair (metres) and ``velocity_change`` the mean
    change of hand-point velocity across the cut (m/s); together they set the transition length.
    """
    Na = len(tail)
    ii = np.arange(max(0, min(tail_from, Na - 1)), Na)
    jj = np.arange(0, max(0, min(head_to, len(head) - 1)) + 1)
    va = np.gradient(tail, axis=0) * fps if Na > 1 else np.zeros_like(tail)
    vb = np.gradient(head, axis=0) * fps if len(head) > 1 else np.zeros_like(head)
    diff = tail[ii][:, None] - head[jj][None]  # (I, J, P, 3)
    dist = np.linalg.norm(diff, axis=-1)
    vel = np.linalg.norm(va[ii][:, None] - vb[jj][None], axis=-1).mean(-1)
    cut = ((Na - 1 - ii)[:, None] + jj[None]) / fps
    cost = dist.mean(-1) + velocity_weight * vel + cut_penalty * cut
    a, b = np.unravel_index(int(np.argmin(cost)), cost.shape)
    return int(ii[a]), int(jj[b]), float(dist[a, b].max()), float(vel[a, b])


def transition_frames(distance: float, velocity_change: float, fps: float, base: float, hand_speed: float,
                      reversal_time: float, lo: float, hi: float) -> int:
    """Number of in-between frames for a hand travel of ``distance`` metres.

    Seconds = ``base + distance / hand_speed + reversal_time * velocity_change``, clamped to
    ``[lo, hi]``: a far target or a hand that must turn round gets more time.
    """
    seconds = min(hi, max(lo, base + distance / hand_speed + reversal_time * velocity_change))
    return max(1, int(round(seconds * fps)))


def _smootherstep(x: torch.Tensor) -> torch.Tensor:
    """6x^5 - 15x^4 + 10x^3: zero first and second derivative at both ends (C2 blend)."""
    return x * x * x * (x * (6 * x - 15) + 10)


def transition(qa: torch.Tensor, ta: np.ndarray, i: int, qb: torch.Tensor, tb: np.ndarray, j: int, n: int,
               carry: float, still_a: bool = False, max_carry: float = 0.35) -> tuple[torch.Tensor, np.ndarray]:
    """``n`` in-between frames from A's frame ``i`` to B's frame ``j``.

    Each side is extended past its cut with its own velocity fading out with time constant
    ``carry`` frames (A forwards from ``i``, B backwards from ``j``), and the two extensions are
    blended by slerp with a smootherstep weight. The result starts and ends with the velocity of
    the sign it leaves or enters, so the joins have no kink. ``still_a``: A is holding its
    pose (velocity zero). ``max_carry`` (radians) caps how far a joint may turn on its own
    velocity, so a noisy frame at a cut cannot fling it round. Returns quaternions (n, J, 4) on A's hemisphere and translations (n, 3).
    """
    k = torch.arange(1, n + 1, dtype=qa.dtype)  # frames after i
    m = (n + 1) - k  # frames before j
    if carry > 0:
        fa, fb = carry * (1 - torch.exp(-k / carry)), carry * (1 - torch.exp(-m / carry))
    else:
        fa, fb = torch.zeros_like(k), torch.zeros_like(m)
    wa = torch.zeros(qa.shape[1], 3, dtype=qa.dtype) if still_a else local_velocity(qa, i, forward=False)
    wb = local_velocity(qb, j, forward=True)
    if carry > 0:  # a noisy first or last frame must not fling a joint round: cap the carried rotation
        wa = _cap(wa, max_carry / carry)
        wb = _cap(wb, max_carry / carry)
    ext_a = qmul(qa[i].expand(n, -1, -1), qexp(wa[None] * fa[:, None, None]))
    ext_b = qmul(qb[j].expand(n, -1, -1), qexp(-wb[None] * fb[:, None, None]))
    # one hemisphere per joint for the whole transition (decided at the cut poses): a per-frame
    # shortest-path choice could flip mid-way for joints whose poses differ by nearly 180 degrees
    flip = (qa[i] * qb[j]).sum(-1, keepdim=True) < 0
    ext_b = torch.where(flip, -ext_b, ext_b)
    s = _smootherstep(k / (n + 1))
    q = rot.quat_slerp(ext_a, ext_b, s[:, None].expand(-1, qa.shape[1]), shortest=False)
    q = rot.align_hemisphere(q, reference=qa[i])

    va = np.zeros(3) if still_a or i < 1 else ta[i] - ta[i - 1]
    vb = tb[j + 1] - tb[j] if j + 1 < len(tb) else np.zeros(3)
    ga, gb, sn = fa.numpy(), fb.numpy(), s.numpy()
    t = (1 - sn)[:, None] * (ta[i] + va * ga[:, None]) + sn[:, None] * (tb[j] - vb * gb[:, None])
    return q, t


def settle(qa: torch.Tensor, ta: np.ndarray, i: int, carry: float, max_carry: float = 0.35
           ) -> tuple[torch.Tensor, np.ndarray]:
    """Where A comes to rest if its motion at frame ``i`` dies out with time constant ``carry``.

    Returns (2, J, 4) quaternions and (2, 3) translations of that pose (two frames, so it
    reads as a still clip): the target of a hold, reached without turning back.
    """
    w = local_velocity(qa, i, forward=False)
    if carry > 0:
        w = _cap(w, max_carry / carry)
    q = qmul(qa[i], qexp(w * carry))
    v = ta[i] - ta[i - 1] if i >= 1 else np.zeros(3)
    t = ta[i] + v * carry
    return q[None].expand(2, -1, -1), np.repeat(t[None], 2, axis=0)


def _cap(w: torch.Tensor, limit: float) -> torch.Tensor:
    """Scale (J, 3) rotation-vector velocities down to at most ``limit`` radians per frame."""
    norm = w.norm(dim=-1, keepdim=True)
    return w * torch.clamp(limit / norm.clamp_min(1e-12), max=1.0)


def lowpass_around(q: torch.Tensor, trans: np.ndarray, seams: list[int], sigma: float, radius: float
                   ) -> tuple[torch.Tensor, np.ndarray]:
    """Gaussian low-pass blended in around each seam frame.

    ``q``: (T, J, 4) continuous quaternions, ``trans``: (T, 3); ``sigma`` and ``radius`` in
    frames. Within ``radius`` of a seam the output is the filtered motion weighted by a raised
    cosine (1 at the seam, 0 at the radius), so the motion away from joins is untouched.
    Quaternions are averaged component-wise and renormalised (valid for the nearby
    rotations a short Gaussian sees).
    """
    T = len(q)
    if not seams or sigma <= 0 or radius <= 0 or T < 3:
        return q, trans
    half = max(1, int(math.ceil(3 * sigma)))
    x = np.arange(-half, half + 1)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    kernel /= kernel.sum()
    idx = np.clip(np.arange(T)[:, None] + x[None], 0, T - 1)  # (T, K) edge-clamped neighbourhoods
    kq = torch.from_numpy(kernel).to(q.dtype)
    q_f = (q[torch.from_numpy(idx)] * kq[None, :, None, None]).sum(1)
    q_f = q_f / q_f.norm(dim=-1, keepdim=True)
    t_f = (trans[idx] * kernel[None, :, None]).sum(1)

    w = np.zeros(T)
    frames = np.arange(T)
    for s in seams:
        d = np.abs(frames - s) / radius
        w = np.maximum(w, np.where(d < 1, 0.5 * (1 + np.cos(np.pi * np.minimum(d, 1))), 0.0))
    wt = torch.from_numpy(w).to(q.dtype)[:, None, None]
    out = (1 - wt) * q + wt * q_f
    out = out / out.norm(dim=-1, keepdim=True)
    return out, (1 - w[:, None]) * trans + w[:, None] * t_f
