"""`LandmarkSequence`: per-frame MediaPipe Holistic landmarks of one signer.

Layout and conventions (the same for every source: video, shards, parquet):

* ``pose``: (T, 33, 3) MediaPipe Pose points; ``left_hand`` / ``right_hand``: (T, 21, 3)
  MediaPipe Hand points (0 = wrist); ``face``: (T, 40, 3) FaceMesh subset in the order of
  :data:`FACE_ORDER` (the shared shards' ``face_index_order``).
* x, y: normalised image coordinates (x right, y down; may fall outside 0-1);
  z: MediaPipe's relative depth (unreliable, see the IK module). NaN = not detected.
* ``left_hand`` is always the **signer's anatomical left hand**, whatever the source's
  labels said: loaders decide it from the data (the hand whose wrist is nearest pose
  point 15, the signer's left wrist in MediaPipe's own labelling) and set ``hands_swapped``
  when they had to exchange the source's labels.
* ``pose_world``: optional (T, 33, 3) metric world landmarks (metres, hip-centred,
  MediaPipe's axes: x right, y down, z towards the camera is negative).
* ``image_size``: (width, height) in pixels when known, used to undo the aspect ratio of
  normalised coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import SignAvatarError

N_POSE, N_HAND, N_FACE = 33, 21, 40
POSE_ROWS = slice(0, 33)
LEFT_HAND_ROWS = slice(33, 54)
RIGHT_HAND_ROWS = slice(54, 75)
FACE_ROWS = slice(75, 115)
N_ROWS = 115

# Face subset, in order: lips outer 12, lips inner 8, right eyebrow 5, left eyebrow 5,
# right eye 4, left eye 4, nose tip and bridge 2 (FaceMesh indices).
FACE_GROUPS = (("lips_outer", 12), ("lips_inner", 8), ("right_eyebrow", 5), ("left_eyebrow", 5),
               ("right_eye", 4), ("left_eye", 4), ("nose", 2))
# The FaceMesh index of each of the 40 face rows (the shards' ``meta.json`` ``face_index_order``).
FACE_ORDER: tuple[int, ...] = (
    61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91,  # lips outer
    78, 81, 13, 311, 308, 402, 14, 178,  # lips inner
    70, 63, 105, 66, 107,  # right eyebrow (the signer's right)
    300, 293, 334, 296, 336,  # left eyebrow
    33, 133, 159, 145,  # right eye
    263, 362, 386, 374,  # left eye
    1, 168,  # nose tip, nose bridge
)


@dataclass
class LandmarkSequence:
    """Landmarks of one clip; see the module docstring for axes and hand labels."""

    pose: np.ndarray
    left_hand: np.ndarray
    right_hand: np.ndarray
    face: np.ndarray
    fps: float
    image_size: tuple[int, int] | None = None
    pose_world: np.ndarray | None = None
    source: str = ""
    hands_swapped: bool = False
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        for name, n in (("pose", N_POSE), ("left_hand", N_HAND), ("right_hand", N_HAND), ("face", N_FACE)):
            arr = np.asarray(getattr(self, name), dtype=np.float32)
            if arr.ndim != 3 or arr.shape[1:] != (n, 3):
                raise SignAvatarError(f"{self.source or 'landmarks'}: {name} must be (T, {n}, 3), got {arr.shape}")
            setattr(self, name, arr)
        T = self.pose.shape[0]
        if T == 0:
            raise SignAvatarError(f"{self.source or 'landmarks'}: the sequence has no frames")
        for name in ("left_hand", "right_hand", "face"):
            if getattr(self, name).shape[0] != T:
                raise SignAvatarError(f"{self.source or 'landmarks'}: {name} has "
                                      f"{getattr(self, name).shape[0]} frames, pose has {T}")
        if self.pose_world is not None:
            pw = np.asarray(self.pose_world, dtype=np.float32)
            if pw.shape != (T, N_POSE, 3):
                raise SignAvatarError(f"{self.source or 'landmarks'}: pose_world must be ({T}, 33, 3), got {pw.shape}")
            self.pose_world = pw
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise SignAvatarError(f"{self.source or 'landmarks'}: fps must be positive, got {self.fps!r}")
        self.fps = float(self.fps)

    @property
    def num_frames(self) -> int:
        return int(self.pose.shape[0])

    def rows(self) -> np.ndarray:
        """(T, 115, 3) in the shared shard layout (pose, left hand, right hand, face)."""
        return np.concatenate([self.pose, self.left_hand, self.right_hand, self.face], axis=1)

    @classmethod
    def from_rows(cls, rows: np.ndarray, fps: float, **kw) -> "LandmarkSequence":
        """Build from a (T, 115, 3) array in the shared shard layout (labels as given)."""
        rows = np.asarray(rows, dtype=np.float32)
        if rows.ndim != 3 or rows.shape[1:] != (N_ROWS, 3):
            raise SignAvatarError(f"{kw.get('source') or 'landmarks'}: expected (T, 115, 3) rows, got {rows.shape}")
        return cls(pose=rows[:, POSE_ROWS], left_hand=rows[:, LEFT_HAND_ROWS], right_hand=rows[:, RIGHT_HAND_ROWS],
                   face=rows[:, FACE_ROWS], fps=fps, **kw)

    def hand_present(self) -> np.ndarray:
        """(T, 2) bool: left, right hand detected in the frame."""
        return np.stack([np.isfinite(self.left_hand).all(axis=(1, 2)),
                         np.isfinite(self.right_hand).all(axis=(1, 2))], axis=1)

    def slice(self, start: int, stop: int) -> "LandmarkSequence":
        from dataclasses import replace

        pw = None if self.pose_world is None else self.pose_world[start:stop]
        # per-frame arrays in meta (e.g. pose_visibility) are cut with the frames
        meta = {k: v[start:stop] if isinstance(v, np.ndarray) and v.ndim and len(v) == self.num_frames else v
                for k, v in self.meta.items()}
        return replace(self, pose=self.pose[start:stop], left_hand=self.left_hand[start:stop],
                       right_hand=self.right_hand[start:stop], face=self.face[start:stop], pose_world=pw,
                       meta=meta)
