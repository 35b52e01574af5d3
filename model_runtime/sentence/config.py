"""Settings of sentence assembly: one typed dataclass, every field in stated units."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class SentenceConfig:
    """How signs are trimmed, joined and smoothed into one sentence.

    Times are seconds of the *natural-speed* clip (divided by ``speed`` when a sentence is
    played faster or slower); distances are metres on our rest skeleton.
    """

    fps: float | None = None  # output frame rate; None = the first sign's
    # -- trimming idle frames at both ends of a sign
    idle_speed: float = 0.10  # m/s: below this hand speed (wrists, fingertips) a frame counts as still
    idle_relative: float = 0.10  # ... or below this fraction of the clip's 95th-percentile hand speed
    rest_height: float = 0.10  # m above the pelvis (about the navel): both wrists below it = hands at rest
    trim_margin: float = 0.05  # s of idle kept at each cut so the sign eases in and out
    min_sign: float = 0.30  # s: a trimmed sign keeps at least this much (its most active part)
    # -- choosing the join point
    join_window: float = 0.30  # s searched at the tail of one sign and the head of the next
    cut_penalty: float = 0.20  # m of pose distance one second of cut-away sign is worth
    velocity_weight: float = 0.10  # s: velocity mismatch (m/s) times this counts as metres of distance
    # -- the transition between join points
    transition_base: float = 0.12  # s added to the travel time
    hand_speed: float = 1.00  # m/s: fastest mean hand speed of a transition (travel time >= distance / speed)
    match_sign_speed: bool = True  # ... and no faster than the two signs move (their 90th-percentile hand speed)
    min_hand_speed: float = 0.30  # m/s: floor of that sign speed, so near-static signs do not crawl apart
    reversal_time: float = 0.10  # s added per m/s of velocity the hands must change across the join
    transition_min: float = 0.15  # s
    transition_max: float = 0.60  # s
    carry_over: float = 0.08  # s: time constant with which a sign's end velocity dies out in the transition
    # -- low-pass filter around joins
    smooth_sigma: float = 0.06  # s: Gaussian sigma of the filter (about one frame at 15 fps)
    smooth_radius: float = 0.30  # s on each side of a join where the filtered motion is blended in
    # -- fingerspelling
    letter_duration: float = 0.40  # s of each letter's held handshape
    letter_transition_min: float = 0.10  # s between letters of a spelled word
    letter_transition_max: float = 0.25  # s
    moving_letters: str = "jz"  # letters whose movement is the letter: kept whole (trimmed), not cut to a hold
    max_ngram: int = 3  # longest run of words tried as one gloss ("thank you")

    def problems(self) -> list[str]:
        out = []
        for name, value in asdict(self).items():
            if name in ("fps", "moving_letters"):
                continue
            if not isinstance(value, (int, float)) or value != value or value < 0:
                out.append(f"{name} must be a number >= 0, got {value!r}")
        if self.fps is not None and not (0 < self.fps <= 1000):
            out.append(f"fps must be in (0, 1000], got {self.fps!r}")
        if self.hand_speed <= 0:
            out.append("hand_speed must be > 0")
        if self.transition_min > self.transition_max:
            out.append("transition_min must not exceed transition_max")
        if self.letter_transition_min > self.letter_transition_max:
            out.append("letter_transition_min must not exceed letter_transition_max")
        if self.max_ngram < 1:
            out.append("max_ngram must be >= 1")
        return out
