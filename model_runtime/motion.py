"""`SignMotion` and its file format: an AMASS-style SMPL-X ``.npz``.

File layout (numpy ``.npz``, never pickled; read with ``allow_pickle=False``):

=====================  ============  =====================================================
key                    shape/dtype   meaning
=====================  ============  =====================================================
``poses``              (T, 165) f32  55 joints x axis-angle in SMPL-X joint order
                                     (root, body 21, jaw, eyes 2, left hand 15, right hand 15)
``trans``              (T, 3) f32    translation of the body (SMPL-X ``transl``), metres
``betas``              (B,) f32      shape coefficients; zeros for our own skeletons
``gender``             0-d str       ``neutral`` / ``female`` / ``male``
``mocap_frame_rate``   0-d f64       frames per second
``surface_model_type`` 0-d str       ``smplx``
``signavatar_gloss``   0-d str       gloss (optional)
``signavatar_source``  0-d str       where the clip came from (optional)
=====================  ============  =====================================================

Conventions: axis-angle; **flat hand** (zero finger rotation = straight finger, not
SMPL-X's mean hand); root orientation and ``trans`` in the **SMPL-X body frame (Y-up,
facing +Z)**, not AMASS's Z-up world. In the Meshcapade / SMPL-X Blender add-ons load
these files with the "SMPL-X" animation format (no AMASS Z-up correction) and the flat
hand reference. Poses are stored as float32; a write/read round trip is bit-exact.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .atomic import write_npz
from .errors import SignAvatarError
from .limits import MAX_BETAS, MAX_MOTION_FRAMES, MAX_MOTION_SECONDS, MAX_ROTATION, MAX_TRANSLATION
from .skeleton import GENDERS, NUM_JOINTS

REQUIRED_KEYS = frozenset({"poses", "trans", "betas", "gender"})
FPS_KEYS = ("mocap_frame_rate", "mocap_framerate")  # AMASS uses both spellings
# Keys AMASS / SMPL-X tools write besides the required ones; accepted and ignored on load.
KNOWN_KEYS = frozenset({
    "surface_model_type", "mocap_time_length", "num_betas", "root_orient", "pose_body", "pose_hand",
    "pose_jaw", "pose_eye", "expression", "dmpls", "markers_latent", "latent_labels", "markers_latent_vids",
    "signavatar_gloss", "signavatar_source",
}) | set(FPS_KEYS) | REQUIRED_KEYS
MAX_FPS = 1000.0
# the largest array a motion file may hold: poses of MAX_MOTION_FRAMES frames in float64
MAX_ARRAY_BYTES = MAX_MOTION_FRAMES * NUM_JOINTS * 3 * 8
MAX_STRING_CHARS = 4096  # gloss, source, gender strings


@dataclass
class SignMotion:
    """One signed clip on an SMPL-X skeleton.

    ``poses``: (T, 55, 3) float32 axis-angle, SMPL-X joint order, flat-hand convention.
    ``trans``: (T, 3) float32 body translation in the SMPL-X (Y-up) frame, metres.
    """

    poses: np.ndarray
    trans: np.ndarray
    fps: float
    gloss: str = ""
    gender: str = "neutral"
    source: str = ""
    betas: np.ndarray = field(default_factory=lambda: np.zeros(10, dtype=np.float32))

    def __post_init__(self):
        self.poses = np.asarray(self.poses, dtype=np.float32)
        self.trans = np.asarray(self.trans, dtype=np.float32)
        self.betas = np.asarray(self.betas, dtype=np.float32)
        problems = _problems(self.poses, self.trans, self.betas, self.fps, self.gender)
        if problems:
            raise SignAvatarError("invalid SignMotion: " + "; ".join(problems))
        self.fps = float(self.fps)

    @property
    def num_frames(self) -> int:
        return int(self.poses.shape[0])

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps

    def save(self, path) -> Path:
        """Write the AMASS-style ``.npz`` (see the module docstring); returns the path."""
        return save_npz(self, path)

    @classmethod
    def load(cls, path) -> "SignMotion":
        return load_npz(path)

    def resample(self, fps: float) -> "SignMotion":
        return resample(self, fps)


def _problems(poses, trans, betas, fps, gender) -> list[str]:
    out = []
    if poses.ndim != 3 or poses.shape[1:] != (NUM_JOINTS, 3):
        out.append(f"poses must be (T, {NUM_JOINTS}, 3) axis-angle, got {poses.shape}")
    elif poses.shape[0] < 1:
        out.append("poses has no frames")
    if trans.ndim != 2 or trans.shape[1:] != (3,):
        out.append(f"trans must be (T, 3), got {trans.shape}")
    elif poses.ndim == 3 and trans.shape[0] != poses.shape[0]:
        out.append(f"trans has {trans.shape[0]} frames but poses has {poses.shape[0]}")
    if betas.ndim != 1:
        out.append(f"betas must be 1-D, got {betas.shape}")
    finite = True
    for name, arr in (("poses", poses), ("trans", trans), ("betas", betas)):
        if arr.size and not np.isfinite(arr).all():
            out.append(f"{name} contains NaN or inf ({int((~np.isfinite(arr)).sum())} values)")
            finite = False
    if finite and poses.ndim == 3 and poses.shape[1:] == (NUM_JOINTS, 3) and poses.size:
        # float64: the norm of a float32 1e30 vector would overflow to inf
        big = np.linalg.norm(poses.astype(np.float64), axis=-1) > MAX_ROTATION
        if big.any():
            t, j = np.argwhere(big)[0]
            out.append(f"poses has {int(big.sum())} rotations longer than {MAX_ROTATION:.1f} rad (4 turns), "
                       f"first at frame {t} joint {j}: not axis-angle in radians")
    if finite and trans.size and np.abs(trans).max() > MAX_TRANSLATION:
        out.append(f"trans goes {float(np.abs(trans).max()):.3g} m from the origin (at most {MAX_TRANSLATION:g} m): "
                   "not metres")
    if poses.ndim == 3 and poses.shape[0] > MAX_MOTION_FRAMES:
        out.append(f"poses has {poses.shape[0]} frames; at most {MAX_MOTION_FRAMES} are accepted")
    try:
        fps_ok = np.isfinite(float(fps)) and 0 < float(fps) <= MAX_FPS
    except (TypeError, ValueError):
        fps_ok = False
    if not fps_ok:
        out.append(f"fps must be a number in (0, {MAX_FPS:g}], got {fps!r}")
    elif poses.ndim == 3 and poses.shape[0] / float(fps) > MAX_MOTION_SECONDS:
        out.append(f"the motion lasts {poses.shape[0] / float(fps):.0f} s; at most {MAX_MOTION_SECONDS:g} s "
                   "are accepted")
    if gender not in GENDERS:
        out.append(f"gender must be one of {', '.join(GENDERS)}, got {str(gender)[:40]!r}")
    return out


def save_npz(motion: SignMotion, path) -> Path:
    """Write ``motion`` atomically (a temporary file renamed into place)."""
    path = Path(path)
    if path.suffix != ".npz":
        raise SignAvatarError(f"motion files end in .npz, got '{path.name}'")
    arrays = {
        "poses": motion.poses.reshape(motion.num_frames, NUM_JOINTS * 3),
        "trans": motion.trans,
        "betas": motion.betas,
        "gender": np.array(motion.gender),
        "mocap_frame_rate": np.array(motion.fps, dtype=np.float64),
        "surface_model_type": np.array("smplx"),
        "signavatar_gloss": np.array(motion.gloss),
        "signavatar_source": np.array(motion.source),
    }
    write_npz(path, **arrays)
    return path


def _str(value, key: str, path) -> str:
    if value.dtype.kind not in "US" or value.ndim != 0:
        raise SignAvatarError(f"{path}: '{key}' must be a string, got {value.dtype} {value.shape}")
    v = value.item()
    return v.decode() if isinstance(v, bytes) else str(v)


def _member_header(z: zipfile.ZipFile, info: zipfile.ZipInfo):
    """(shape, dtype) of one ``.npy`` member, read from its header only."""
    with z.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=10_000)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=10_000)
    return shape, dtype


def check_npz_headers(path) -> None:
    """Refuse a ``.npz`` whose arrays (from their headers: shape, dtype) exceed the motion limits.

    Runs before ``np.load`` reads any array, so a 15 KB file whose header claims 10^9 frames, or
    a 600 KB one that inflates to 10^6 frames, is refused with a message instead of allocating.
    """
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if len(infos) > 4 * len(KNOWN_KEYS):
                raise SignAvatarError(f"{path}: {len(infos)} entries is too many for a motion file")
            for info in infos:
                key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                if info.file_size > MAX_ARRAY_BYTES + 4096:
                    raise SignAvatarError(f"{path}: '{key[:40]}' inflates to {info.file_size / 2**20:.0f} MB; "
                                          f"a motion file holds at most {MAX_MOTION_FRAMES} frames")
                shape, dtype = _member_header(z, info)
                n = int(np.prod(shape, dtype=np.float64)) if shape else 1
                if dtype.hasobject:
                    continue  # np.load refuses it below, with the pickle message
                if n * max(dtype.itemsize, 1) > min(info.file_size, MAX_ARRAY_BYTES):
                    raise SignAvatarError(f"{path}: '{key[:40]}' claims shape {shape[:4]} ({dtype}), more than "
                                          f"the file holds or a motion file may hold ({MAX_MOTION_FRAMES} frames)")
                if key == "poses" and len(shape) >= 1 and shape[0] > MAX_MOTION_FRAMES:
                    raise SignAvatarError(f"{path}: 'poses' has {shape[0]} frames; at most {MAX_MOTION_FRAMES} "
                                          f"({MAX_MOTION_SECONDS / 60:g} min) are accepted")
                if key == "betas" and n > MAX_BETAS:
                    raise SignAvatarError(f"{path}: 'betas' has {n} values; at most {MAX_BETAS} are accepted")
                if dtype.kind in "US" and n * max(dtype.itemsize, 1) > 4 * MAX_STRING_CHARS:
                    raise SignAvatarError(f"{path}: '{key[:40]}' is a string of {dtype.itemsize} bytes; "
                                          f"at most {MAX_STRING_CHARS} characters are accepted")
    except SignAvatarError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, TypeError, OverflowError) as e:
        raise SignAvatarError(f"{path}: not a valid .npz file ({str(e)[:200]})") from None


def load_npz(path) -> SignMotion:
    """Read and validate an AMASS-style SMPL-X ``.npz``; every problem raises :class:`SignAvatarError`."""
    path = Path(path)
    if not path.is_file():
        raise SignAvatarError(f"motion file not found: {path}")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # every .npz is a zip archive
            raise SignAvatarError(f"{path}: not a valid .npz file (not a zip archive)")
    check_npz_headers(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            missing = sorted(REQUIRED_KEYS - keys)
            if not any(k in keys for k in FPS_KEYS):
                missing.append("mocap_frame_rate")
            unknown = sorted(keys - KNOWN_KEYS)
            if missing or unknown:
                parts = []
                if missing:
                    parts.append(f"missing keys {missing}")
                if unknown:
                    parts.append(f"unexpected keys {unknown}")
                raise SignAvatarError(f"{path}: not an SMPL-X motion file: " + "; ".join(parts))
            arrays = {k: z[k] for k in keys}
    except SignAvatarError:
        raise
    except ValueError as e:  # numpy refuses object arrays when allow_pickle=False
        if "pickle" in str(e).lower():
            raise SignAvatarError(f"{path}: contains pickled object arrays, which are refused for safety; "
                                  "save numeric arrays and plain strings only") from None
        raise SignAvatarError(f"{path}: unreadable .npz ({e})") from None
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise SignAvatarError(f"{path}: not a valid .npz file ({e})") from None

    poses = arrays["poses"]
    if poses.dtype.kind != "f":
        raise SignAvatarError(f"{path}: 'poses' must be floating point, got {poses.dtype}")
    if poses.ndim != 2 or poses.shape[1] != NUM_JOINTS * 3:
        hint = " (156 values per frame is SMPL-H, not SMPL-X)" if poses.ndim == 2 and poses.shape[1] == 156 else ""
        raise SignAvatarError(f"{path}: 'poses' must be (T, 165) for 55 SMPL-X joints, got {poses.shape}{hint}")
    for key in ("trans", "betas"):
        if arrays[key].dtype.kind not in "fi":
            raise SignAvatarError(f"{path}: '{key}' must be numeric, got {arrays[key].dtype}")
    fps_arr = arrays[next(k for k in FPS_KEYS if k in keys)]
    if fps_arr.size != 1 or fps_arr.dtype.kind not in "fiu":
        raise SignAvatarError(f"{path}: frame rate must be one number, got {fps_arr.dtype} {fps_arr.shape}")
    gender = _str(arrays["gender"], "gender", path)
    gloss = _str(arrays["signavatar_gloss"], "signavatar_gloss", path) if "signavatar_gloss" in keys else ""
    source = _str(arrays["signavatar_source"], "signavatar_source", path) if "signavatar_source" in keys else ""
    try:
        return SignMotion(poses=poses.reshape(-1, NUM_JOINTS, 3), trans=arrays["trans"], fps=float(fps_arr),
                          gloss=gloss, gender=gender, source=source or str(path.name), betas=arrays["betas"])
    except SignAvatarError as e:
        raise SignAvatarError(f"{path}: {e}") from None


def resample(motion: SignMotion, fps: float) -> SignMotion:
    """Resample to ``fps``: rotations by quaternion slerp, translation linearly.

    The first frame is kept; the clip keeps its duration ``(T-1)/fps`` as closely as a whole
    number of output frames allows.
    """
    import torch

    from . import rotations as rot

    if not (np.isfinite(fps) and 0 < fps <= MAX_FPS):
        raise SignAvatarError(f"fps must be in (0, {MAX_FPS:g}], got {fps!r}")
    T = motion.num_frames
    if T == 1 or fps == motion.fps:
        return replace(motion, fps=float(fps), poses=motion.poses.copy(), trans=motion.trans.copy())
    n_out = max(1, int(round((T - 1) * fps / motion.fps)) + 1)
    t = np.arange(n_out) * (motion.fps / fps)
    t = np.clip(t, 0, T - 1)
    i0 = np.floor(t).astype(np.int64)
    i1 = np.minimum(i0 + 1, T - 1)
    w = (t - i0).astype(np.float64)
    q = rot.axis_angle_to_quat(torch.from_numpy(motion.poses.astype(np.float64)))
    qi = rot.quat_slerp(q[i0], q[i1], torch.from_numpy(w)[:, None].expand(-1, NUM_JOINTS))
    poses = rot.quat_to_axis_angle(qi).numpy().astype(np.float32)
    trans = motion.trans[i0] * (1 - w[:, None]) + motion.trans[i1] * w[:, None]
    return replace(motion, poses=poses, trans=trans.astype(np.float32), fps=float(fps))
