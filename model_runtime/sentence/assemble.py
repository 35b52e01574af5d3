"""Laying pieces end to end: cut at the best join points, hold, transition, low-pass the seams.

A *piece* is the part of one generated clip that is shown (a trimmed sign or a letter's
hold). Everything here runs at the sentence's natural speed; the caller retimes the result
for ``speed``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import rotations as rot
from .config import SentenceConfig
from .join import find_join, lowpass_around, settle, transition, transition_frames


@dataclass
class Piece:
    """One shown clip: continuous XYZW quaternions (N, J, 4), trans (N, 3), hand points (N, P, 3)."""

    q: torch.Tensor
    trans: np.ndarray
    points: np.ndarray
    word: int  # index of the word it belongs to
    letter: bool = False
    hold: int = 0  # frames the last pose is held after this piece (last piece of a word)
    speed: float = 0.0  # m/s: the piece's typical (90th-percentile) hand speed

    def __len__(self) -> int:
        return len(self.trans)


@dataclass
class Assembled:
    q: torch.Tensor  # (T, J, 4) continuous quaternions
    trans: np.ndarray  # (T, 3)
    word_ranges: list[tuple[int, int]]  # half-open frame range of each word (sign + hold)
    seams: list[int]  # frames where two pieces (or a hold) meet
    transitions: list[tuple[int, int]]  # half-open frame range of each in-between


def _windows(a: Piece, b: Piece, start_a: int, fps: float, cfg: SentenceConfig) -> tuple[int, int]:
    """Search range for the cut: A's frames from ``tail_from`` on, B's up to ``head_to``."""
    same_word_letters = a.letter and b.letter and a.word == b.word
    w = 1 if same_word_letters else max(1, int(round(cfg.join_window * fps)))
    wa = 1 if a.letter else w
    wb = 1 if b.letter else w
    remaining = len(a) - start_a
    tail_from = max(start_a + (2 * remaining) // 3, len(a) - wa)  # never cut more than a third of A
    head_to = min(wb - 1, len(b) // 3)
    return min(tail_from, len(a) - 1), max(0, head_to)


def assemble(pieces: list[Piece], fps: float, cfg: SentenceConfig) -> Assembled:
    """Join ``pieces`` in order (see the module docstring); ``fps`` converts seconds to frames."""
    if not pieces:
        raise ValueError("assemble needs at least one piece")
    carry = cfg.carry_over * fps
    qs: list[torch.Tensor] = []
    ts: list[np.ndarray] = []
    n_out = 0
    seams: list[int] = []
    transitions: list[tuple[int, int]] = []
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    start = 0
    for k, a in enumerate(pieces):
        b = pieces[k + 1] if k + 1 < len(pieces) else None
        if b is None:
            i = len(a) - 1
        else:
            tail_from, head_to = _windows(a, b, start, fps, cfg)
            i, j, dist, dvel = find_join(a.points, b.points, tail_from, head_to, fps, cfg.cut_penalty,
                                         cfg.velocity_weight)
        qs.append(a.q[start:i + 1])
        ts.append(a.trans[start:i + 1])
        first.setdefault(a.word, n_out)
        n_out += i + 1 - start
        if a.hold > 0:  # the sign's motion dies out into its held pose
            seams.append(n_out - 1)
            rest_q, rest_t = settle(a.q, a.trans, i, carry)
            hq, ht = transition(a.q, a.trans, i, rest_q, rest_t, 0, a.hold, carry)
            qs.append(hq)
            ts.append(ht)
            n_out += a.hold
        last[a.word] = n_out
        if b is None:
            break
        letters = a.letter and b.letter and a.word == b.word
        lo, hi = ((cfg.letter_transition_min, cfg.letter_transition_max) if letters
                  else (cfg.transition_min, cfg.transition_max))
        speed = cfg.hand_speed
        if cfg.match_sign_speed:
            speed = min(speed, max(cfg.min_hand_speed, a.speed, b.speed))
        n = transition_frames(dist, dvel, fps, cfg.transition_base, speed, cfg.reversal_time, lo, hi)
        if a.hold > 0:
            tq, tt = transition(qs[-1], ts[-1], len(ts[-1]) - 1, b.q, b.trans, j, n, carry, still_a=True)
        else:
            tq, tt = transition(a.q, a.trans, i, b.q, b.trans, j, n, carry)
        if a.hold == 0:  # after a hold the transition starts at rest (zero velocity and acceleration)
            seams.append(n_out - 1)
        qs.append(tq)
        ts.append(tt)
        transitions.append((n_out, n_out + n))
        n_out += n
        seams.append(n_out)
        start = j
    q = rot.align_hemisphere(torch.cat(qs))
    trans = np.concatenate(ts).astype(np.float64)
    q, trans = lowpass_around(q, trans, seams, cfg.smooth_sigma * fps, cfg.smooth_radius * fps)
    ranges = [(first[w], last[w]) for w in sorted(first)]
    return Assembled(q=q, trans=trans, word_ranges=ranges, seams=seams, transitions=transitions)
