"""``generate_sentence``: several signs (and fingerspelled words) as one continuous motion."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, replace
from typing import NamedTuple, Protocol, Sequence

import numpy as np

from ..errors import SignAvatarError
from ..motion import SignMotion
from .assemble import Piece, assemble
from .config import SentenceConfig
from .kinematics import continuous_quats, hand_points, point_speed, quats_to_axis_angle
from .trim import letter_hold, trim_idle
from .words import bare_letter, plan_words


class SignGenerator(Protocol):
    """What a sentence needs from a generator (``model_runtime.generation.Generator`` has it)."""

    vocabulary: Sequence[str]

    def match(self, text: str): ...  # -> object with .gloss, .score, .exact; raises SignAvatarError

    def generate(self, text: str, seed: int = 0, n: int = 1, frames=None,
                 temperature: float = 1.0) -> list[SignMotion]: ...


class SignSpan(NamedTuple):
    """Frames ``[start, end)`` of the sentence showing ``word`` as ``gloss`` (``N-A-M-E`` when spelled)."""

    word: str
    gloss: str
    start: int
    end: int


@dataclass
class SentenceResult:
    motion: SignMotion
    ranges: list[SignSpan]
    notices: list[str]
    transitions: list[tuple[int, int]]  # half-open frame ranges of the in-betweens

    @property
    def glosses(self) -> list[str]:
        return [r.gloss for r in self.ranges]


def _per_word(value, n: int, name: str) -> list[float]:
    values = [value] * n if np.isscalar(value) else list(value)
    if len(values) != n:
        raise SignAvatarError(f"{name} has {len(values)} values for {n} signed words; give one number or one per word")
    bad = [v for v in values if isinstance(v, bool) or not (isinstance(v, numbers.Real) and np.isfinite(v) and v >= 0)]
    if bad:
        raise SignAvatarError(f"{name} must be seconds >= 0, got {bad}")
    return [float(v) for v in values]


def generate_sentence(words, generator: SignGenerator, seed: int = 0, hold=0.0, speed: float = 1.0,
                      config: SentenceConfig | None = None, temperature: float = 1.0) -> SentenceResult:
    """Sign ``words`` (a string or a list) in order as one :class:`SignMotion`.

    Each word is matched by ``generator.match`` (runs like "thank you" are tried as one
    gloss); a word the model does not know is fingerspelled from its letter signs, with a
    notice. Every sign is generated with ``seed + k`` (k = its position), trimmed of idle
    frames, and joined to the next at the best nearby pair of poses by a transition that
    carries each sign's velocity and blends rotations on the sphere; a short low-pass
    smooths each join. ``hold``: seconds each word's last pose is held (one number, or one
    per signed word after grouping); ``speed``: playback speed (2 = twice as fast; holds
    keep their length in seconds). ``temperature``: passed to ``generator.generate`` (latent scale).
    ``ranges`` gives each word's frames in the result.
    """
    cfg = config or SentenceConfig()
    problems = cfg.problems()
    if isinstance(speed, bool) or not (isinstance(speed, numbers.Real) and np.isfinite(speed) and 0.1 <= speed <= 10):
        problems.append(f"speed must be between 0.1 and 10, got {speed!r}")
    if problems:
        raise SignAvatarError("invalid sentence settings: " + "; ".join(problems))
    plans = plan_words(words, generator, cfg.max_ngram)
    holds = _per_word(hold, len(plans), "hold")

    clips: list[tuple[int, str, SignMotion]] = []  # (word index, letter or "", motion)
    k = 0
    for w, plan in enumerate(plans):
        for gloss in (plan.letters or (plan.gloss,)):
            clips.append((w, bare_letter(gloss) if plan.letters else "",
                          _generate_one(generator, gloss, seed + k, temperature)))
            k += 1
    fps = float(cfg.fps or clips[0][2].fps)
    gender = clips[0][2].gender

    pieces: list[Piece] = []
    for idx, (w, letter, motion) in enumerate(clips):
        m = motion.resample(fps) if motion.fps != fps else motion
        if m.gender != gender:
            raise SignAvatarError(f"the generator returned bodies '{gender}' and '{m.gender}' in one sentence")
        pts = hand_points(m.poses, m.trans, gender)
        if letter:
            s, e = letter_hold(pts, fps, cfg, moving=letter in cfg.moving_letters)
        else:
            s, e = trim_idle(pts, fps, cfg, keep_head=idx == 0, keep_tail=idx + 1 == len(clips))
        last_of_word = idx + 1 == len(clips) or clips[idx + 1][0] != w
        hold_frames = int(round(holds[w] * speed * fps)) if last_of_word else 0
        pieces.append(Piece(q=continuous_quats(m.poses[s:e]), trans=m.trans[s:e].astype(np.float64),
                            points=pts[s:e], word=w, letter=bool(letter), hold=hold_frames,
                            speed=float(np.percentile(point_speed(pts[s:e], fps), 90))))

    joined = assemble(pieces, fps, cfg)
    motion = SignMotion(poses=quats_to_axis_angle(joined.q), trans=joined.trans.astype(np.float32), fps=fps,
                        gloss=" ".join(p.gloss for p in plans), gender=gender,
                        source="sentence: " + " ".join(p.word for p in plans))
    ranges = [SignSpan(p.word, p.gloss, s, e) for p, (s, e) in zip(plans, joined.word_ranges)]
    transitions = list(joined.transitions)
    if speed != 1.0:
        motion, ranges, transitions = _retime(motion, ranges, transitions, float(speed))
    return SentenceResult(motion=motion, ranges=ranges, notices=[p.notice for p in plans if p.notice],
                          transitions=transitions)


def _generate_one(generator: SignGenerator, gloss: str, seed: int, temperature: float = 1.0) -> SignMotion:
    extra = {} if temperature == 1.0 else {"temperature": temperature}  # generators without the option still work
    out = generator.generate(gloss, seed=seed, n=1, **extra)
    if not out:
        raise SignAvatarError(f"the generator returned no motion for '{gloss}'")
    m = out[0]
    return m if m.gloss else replace(m, gloss=gloss)


def _retime(motion: SignMotion, ranges, transitions, speed: float):
    """Play ``speed`` times faster: resample in time (slerp), keep the frame rate, move the ranges."""
    fps = motion.fps
    fast = replace(motion.resample(fps / speed), fps=fps)
    T = fast.num_frames
    at = lambda f: min(T, int(round(f / speed)))  # noqa: E731 - frame index in the retimed clip
    ranges = [r._replace(start=at(r.start), end=max(at(r.start) + 1, at(r.end))) for r in ranges]
    return fast, ranges, [(at(a), at(b)) for a, b in transitions]
