"""Frames where the signer is lost: found, rejected as implausible, trimmed or bridged, and said so.

MediaPipe Holistic returns NaN where it sees nobody, and sometimes a confident body that is not the
signer (a passer-by, a poster, a chair read as shoulders) for a frame or two. :func:`clean_signer`
decides per frame whether the signer is there and what to do about frames where not:

* **lost**: no shoulders (pose points 11 and 12) in the frame;
* **rejected** (a different body, a garbage detection): the shoulder midpoint lies more than
  ``jump_widths`` shoulder widths from the local median of the detections within ``window_s``
  around it, or the shoulder width differs from that local median by more than a factor
  ``size_ratio``; and a run of detections shorter than ``min_run_s`` between two lost stretches
  longer than ``bridge_s`` (nothing to check it against). Rejected frames become NaN (every
  landmark of the frame) and count as lost;
* lost frames **before the first and after the last** frame with the signer are trimmed: they are
  not keyed at all;
* lost frames **inside** the clip are bridged by the IK (angles interpolated between the frames
  around the gap: :func:`..ik.smoothing.fill_body`); a gap longer than ``bridge_s`` is bridged too
  but reported with where it is, since half a second or more of invented motion is worth a look.

Distances are measured in the image plane in height units (x scaled by W/H where the image size
is known), so a shoulder width means the same horizontally and vertically. Times are seconds of
the sequence's own frame rate; frame indices in :class:`SignerTrack` count the input frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import SignAvatarError
from .sequence import LandmarkSequence

L_SHOULDER, R_SHOULDER = 11, 12


@dataclass(frozen=True)
class TrackConfig:
    bridge_s: float = 0.5  # gaps up to this long are bridged quietly; longer ones are reported with their place
    jump_widths: float = 1.0  # shoulder midpoint this many shoulder widths off the local median = another body
    size_ratio: float = 1.5  # shoulder width off the local median by this factor = another body
    window_s: float = 1.0  # the local median's window (centred)
    min_run_s: float = 0.1  # detections shorter than this, isolated between long losses, are not trusted


@dataclass
class SignerTrack:
    """What :func:`clean_signer` found; frame indices refer to the input sequence."""

    fps: float
    frames: int  # input frames
    start: int  # first kept frame
    stop: int  # one past the last kept frame
    lost: np.ndarray = field(repr=False)  # (frames,) bool: no signer (not detected or rejected)
    rejected: np.ndarray = field(repr=False)  # (frames,) bool: a detection thrown away as implausible
    gaps: list = field(default_factory=list)  # [(start, stop)) lost runs inside the kept range
    bridge_s: float = 0.5

    @property
    def kept_frames(self) -> int:
        return self.stop - self.start

    @property
    def kept_s(self) -> float:
        return self.kept_frames / self.fps

    @property
    def trimmed_start_s(self) -> float:
        return self.start / self.fps

    @property
    def trimmed_end_s(self) -> float:
        return (self.frames - self.stop) / self.fps

    @property
    def bridged_frames(self) -> int:
        return int(sum(b - a for a, b in self.gaps))

    @property
    def bridged_s(self) -> float:
        return self.bridged_frames / self.fps

    @property
    def long_gaps(self) -> list:
        """Gaps longer than ``bridge_s`` as (start, stop) seconds of the input."""
        return [(a / self.fps, b / self.fps) for a, b in self.gaps if (b - a) / self.fps > self.bridge_s]

    def notes(self) -> list[str]:
        """What was done about frames without the signer, one phrase each (empty: signer in every frame)."""
        parts = []
        trims = [f"{s:.1f} s at the {where}" for s, where in ((self.trimmed_start_s, "start"),
                                                               (self.trimmed_end_s, "end")) if s > 0]
        if trims:
            parts.append("trimmed " + " and ".join(trims) + " without the signer")
        if self.gaps:
            text = f"bridged {self.bridged_s:.1f} s in {len(self.gaps)} gap{'s' * (len(self.gaps) > 1)}"
            long = self.long_gaps
            if long:
                text += " (signer lost " + ", ".join(f"{a:.1f}\u2013{b:.1f} s" for a, b in long) + ")"
            parts.append(text)
        n = int(self.rejected.sum())
        if n:
            parts.append(f"{n} implausible detection{'s' * (n > 1)} (another body?) dropped")
        return parts

    def summary(self) -> str:
        """One line: seconds kept, then :meth:`notes` (trimmed, bridged with the long gaps' places, rejected)."""
        return "; ".join([f"{self.kept_s:.1f} s with the signer ({self.kept_frames} frames)"] + self.notes())

    def to_meta(self) -> dict:
        """JSON-friendly figures for ``seq.meta["signer_track"]``."""
        return {"frames_in": self.frames, "start": self.start, "stop": self.stop, "kept_s": self.kept_s,
                "trimmed_start_s": self.trimmed_start_s, "trimmed_end_s": self.trimmed_end_s,
                "bridged_frames": self.bridged_frames, "bridged_s": self.bridged_s,
                "gaps_s": [(a / self.fps, b / self.fps) for a, b in self.gaps], "long_gaps_s": self.long_gaps,
                "rejected_frames": int(self.rejected.sum()), "notes": self.notes(), "summary": self.summary()}


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) runs of True in a 1-D bool array."""
    d = np.diff(np.concatenate([[0], np.asarray(mask, dtype=np.int8), [0]]))
    return [(int(a), int(b)) for a, b in zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0])]


def _aspect(seq: LandmarkSequence) -> float:
    if seq.image_size is not None and seq.image_size[1] > 0:
        return float(seq.image_size[0]) / float(seq.image_size[1])
    return 1.0


def _local_median(values: np.ndarray, found: np.ndarray, half: int) -> np.ndarray:
    """(T, D): per frame the median of ``values`` over found frames within +-``half`` frames (NaN if none)."""
    out = np.full(values.shape, np.nan)
    idx = np.nonzero(found)[0]
    for t in idx:
        lo, hi = np.searchsorted(idx, [t - half, t + half + 1])
        out[t] = np.median(values[idx[lo:hi]], axis=0)
    return out


def implausible(seq: LandmarkSequence, config: TrackConfig = TrackConfig()) -> np.ndarray:
    """(T,) bool: frames whose detected body is not the signer's (see the module docstring)."""
    sh = np.asarray(seq.pose[:, [L_SHOULDER, R_SHOULDER], :2], dtype=np.float64)
    sh[..., 0] *= _aspect(seq)
    found = np.isfinite(sh).all(axis=(1, 2))
    bad = np.zeros(len(sh), dtype=bool)
    if found.sum() < 3:
        return bad
    mid = sh.mean(axis=1)
    width = np.linalg.norm(sh[:, 0] - sh[:, 1], axis=-1)
    half = max(1, int(round(config.window_s * seq.fps / 2)))
    feats = np.concatenate([mid, np.log(np.maximum(width, 1e-6))[:, None]], axis=1)
    med = _local_median(feats, found, half)
    ref_w = np.exp(med[:, 2])
    off = np.linalg.norm(mid - med[:, :2], axis=-1) / np.maximum(ref_w, 1e-6)
    ratio = np.exp(np.abs(feats[:, 2] - med[:, 2]))
    bad[found] = (off[found] > config.jump_widths) | (ratio[found] > config.size_ratio)
    # short detections between two long losses: nothing on either side to check them against
    ok = found & ~bad
    long_loss = max(1, int(round(config.bridge_s * seq.fps)))
    short_run = max(1, int(round(config.min_run_s * seq.fps)))
    long_ends = {b for a, b in runs(~ok) if b - a > long_loss} | {0}  # a clip's edge counts as a long loss
    long_starts = {a for a, b in runs(~ok) if b - a > long_loss} | {len(ok)}
    ok_runs = runs(ok)
    for a, b in ok_runs:
        if len(ok_runs) > 1 and b - a < short_run and a in long_ends and b in long_starts:
            bad[a:b] = True
    return bad


def _blank(seq: LandmarkSequence, frames: np.ndarray) -> LandmarkSequence:
    """A copy with every landmark of ``frames`` (bool mask) set to NaN."""
    def cut(a):
        if a is None:
            return None
        a = a.copy()
        a[frames] = np.nan
        return a

    meta = dict(seq.meta)
    vis = meta.get("pose_visibility")
    if isinstance(vis, np.ndarray) and len(vis) == seq.num_frames:
        meta["pose_visibility"] = cut(vis.astype(np.float32))
    return replace(seq, pose=cut(seq.pose), left_hand=cut(seq.left_hand), right_hand=cut(seq.right_hand),
                   face=cut(seq.face), pose_world=cut(seq.pose_world), meta=meta)


def track_signer(seq: LandmarkSequence, config: TrackConfig = TrackConfig()) -> SignerTrack:
    """Decide, per frame, whether the signer is there (:class:`SignerTrack`); nothing is changed."""
    found = np.isfinite(seq.pose[:, [L_SHOULDER, R_SHOULDER], :2]).all(axis=(1, 2))
    rejected = implausible(seq, config) & found
    lost = ~found | rejected
    seen = np.nonzero(~lost)[0]
    if not len(seen):
        why = (f"{int(rejected.sum())} detections of a body were implausible (jumping between places or sizes)"
               if rejected.any() else "no frame shows the signer's shoulders")
        raise SignAvatarError(f"{seq.source or 'landmarks'}: the signer is never found in its {seq.num_frames} "
                              f"frames ({why}); the signer's upper body must be in view")
    start, stop = int(seen[0]), int(seen[-1]) + 1
    gaps = [(a + start, b + start) for a, b in runs(lost[start:stop])]
    return SignerTrack(fps=seq.fps, frames=seq.num_frames, start=start, stop=stop, lost=lost, rejected=rejected,
                       gaps=gaps, bridge_s=config.bridge_s)


def clean_signer(seq: LandmarkSequence, config: TrackConfig = TrackConfig(), *, trim: bool = True
                 ) -> tuple[LandmarkSequence, SignerTrack]:
    """The sequence with rejected detections blanked (NaN) and, with ``trim``, the stretches without the
    signer at its start and end cut off; and the :class:`SignerTrack` that says what was done.

    ``meta["signer_lost"]`` (per kept frame, bool) marks the frames the IK will bridge;
    ``meta["signer_track"]`` holds the figures and :meth:`SignerTrack.summary`.
    """
    track = track_signer(seq, config)
    out = _blank(seq, track.rejected) if track.rejected.any() else replace(seq, meta=dict(seq.meta))
    out.meta["signer_lost"] = track.lost.copy()
    out.meta["signer_track"] = track.to_meta()
    if trim and (track.start > 0 or track.stop < seq.num_frames):
        out = out.slice(track.start, track.stop)
    return out, track
