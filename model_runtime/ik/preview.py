"""Pictures of an IK result: landmarks next to the re-posed skeleton (PNG strip or GIF).

Rows of a PNG (columns are frames spread over the clip; a GIF shows the same panels side
by side, one image per frame):

1. the landmarks (over the video frame when the clip came from a readable video);
2. the FK skeleton of the output motion projected with the fitted camera, over the
   landmarks in grey - where they part, the IK is off;
3. the skeleton seen from the signer's left (depth: hands should be in front of the body);
4. both hands enlarged: landmarks thin, FK thick (a wrong forearm twist or a mirrored hand
   shows here first).

Colours: the signer's left side warm (orange), right side cool (blue), both for landmarks
and skeleton, so a swapped or mirrored side is obvious. Landmarks use the image's own
coordinates (x scaled by W/H), the same plane the IK fitted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import write_with
from ..errors import SignAvatarError
from ..skeleton import JOINT_INDEX, JOINT_NAMES, PARENTS
from .camera import look_point, project

LEFT_COL, RIGHT_COL, MID_COL = (235, 120, 30), (40, 110, 230), (60, 170, 90)
GREY = (170, 170, 170)
POSE_EDGES = ((11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24),
              (0, 2), (0, 5), (2, 7), (5, 8), (9, 10))
HAND_EDGES = ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11), (11, 12),
              (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (17, 18), (18, 19), (19, 20), (0, 17))
_SKIP = ("knee", "ankle", "foot", "eye")
FINGER_WORDS = ("index", "middle", "ring", "pinky", "thumb")


def _side_colour(name: str):
    return LEFT_COL if name.startswith("left") else RIGHT_COL if name.startswith("right") else MID_COL


def _pose_colour(a: int, b: int):
    if a in (11, 13, 15, 23, 2, 7, 9) and b in (11, 13, 15, 23, 2, 7, 9, 0):
        return LEFT_COL
    if a in (12, 14, 16, 24, 5, 8, 10) and b in (12, 14, 16, 24, 5, 8, 10, 0):
        return RIGHT_COL
    if a == 0 and b in (2, 7):
        return LEFT_COL
    if a == 0 and b in (5, 8):
        return RIGHT_COL
    return MID_COL


def fk_points(motion):
    """World joint positions (T, 55, 3) and fingertips/head top {joint: (T, 3)} of a motion (no trans)."""
    import torch

    from .. import rotations as rot
    from ..skeleton import end_site_positions, forward_kinematics, rest_skeleton

    rest = rest_skeleton(motion.gender)
    R = rot.axis_angle_to_matrix(torch.as_tensor(motion.poses, dtype=torch.float64))
    fk = forward_kinematics(R, torch.as_tensor(rest.joints))
    names = [n for n in rest.end_sites if n.endswith("3") or n in ("head",)]
    tips = end_site_positions(fk, rest, names).numpy()
    return fk.positions.numpy(), {n: tips[:, i] for i, n in enumerate(names)}


def _bones(pos, tips):
    """[(start (T,3), end (T,3), colour)] of the skeleton drawing."""
    out = []
    for j, p in enumerate(PARENTS):
        if p < 0 or any(k in JOINT_NAMES[j] for k in _SKIP) or JOINT_NAMES[j] == "jaw":
            continue
        out.append((pos[:, p], pos[:, j], _side_colour(JOINT_NAMES[j])))
    for n, tip in tips.items():
        out.append((pos[:, JOINT_INDEX[n]], tip, _side_colour(n)))
    return out


class _Canvas:
    """Maps image-plane points (height units) of a fixed crop to pixels of one panel."""

    def __init__(self, lo, hi, size):
        self.lo = np.asarray(lo, float)
        span = np.asarray(hi, float) - self.lo
        self.k = size / max(span.max(), 1e-6)
        self.w = int(round(span[0] * self.k))
        self.h = int(round(span[1] * self.k))

    def px(self, uv):
        return (np.asarray(uv, float) - self.lo) * self.k


def _line(draw, a, b, col, width):
    if np.isfinite(a).all() and np.isfinite(b).all():
        draw.line([tuple(a), tuple(b)], fill=col, width=width)


def _dot(draw, a, col, r):
    if np.isfinite(a).all():
        draw.ellipse([a[0] - r, a[1] - r, a[0] + r, a[1] + r], fill=col)


def _video_frames(seq, wanted: list[int]) -> dict:
    """{frame index: RGB array} from the clip's video (meta ``video_path``), or {} if unreadable."""
    path = seq.meta.get("video_path") if isinstance(seq.meta, dict) else None
    if not path or not Path(path).is_file():
        return {}
    try:
        import cv2
    except ImportError:
        return {}
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        return {}
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    turn = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180,
            270: cv2.ROTATE_90_COUNTERCLOCKWISE}.get(int(seq.meta.get("rotation", 0) or 0))
    out, want, i = {}, set(wanted), 0
    while want:
        ok, frame = cap.read()
        if not ok:
            break
        if i in want:
            if turn is not None:
                frame = cv2.rotate(frame, turn)
            if seq.meta.get("mirrored"):
                frame = frame[:, ::-1]
            out[i] = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_BGR2RGB)
            want.discard(i)
        i += 1
    cap.release()
    return out


class _View:
    """What every frame's panels share: landmarks in image units, FK bones, the fitted camera and the crop."""

    UPPER = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16]  # pose landmarks the crop must hold

    def __init__(self, seq, result, panel: int):
        from ..skeleton import rest_skeleton

        a = self.aspect = result.aspect
        self.pose = seq.pose.astype(np.float64) * np.array([a, 1.0, a])
        self.hands = np.stack([seq.left_hand, seq.right_hand], axis=1).astype(np.float64) * np.array([a, 1.0, a])
        self.pos, tips = fk_points(result.motion)
        self.result = result
        self.scale, self.centre = result.scale, result.centre
        self.origin = look_point(rest_skeleton(result.motion.gender))
        self.bones = _bones(self.pos, tips)
        self.names = _bone_names(tips)
        self.lo, self.hi = self._crop()
        self.canvas = _Canvas(self.lo, self.hi, panel)

    def proj(self, X, t):
        return project(X, self.scale, self.result.focal, self.centre[t], self.origin)

    def _crop(self):
        """All upper-body landmarks and projected joints over the clip, with a margin."""
        pts = [self.pose[:, self.UPPER, :2].reshape(-1, 2), self.hands[..., :2].reshape(-1, 2)]
        for b0, b1, _ in self.bones:
            pts.append(self.proj(b1, np.arange(len(self.centre))))
        allp = np.concatenate(pts)
        allp = allp[np.isfinite(allp).all(-1)]
        lo, hi = np.quantile(allp, 0.01, axis=0), np.quantile(allp, 0.99, axis=0)
        pad = 0.12 * (hi - lo).max()
        return lo - pad, hi + pad

    def finger_bones(self, side: str):
        return [(b0, b1, col) for (b0, b1, col), name in zip(self.bones, self.names)
                if name.startswith(side) and any(f in name for f in FINGER_WORDS)]


def _landmark_panel(v: _View, t: int, frame):
    """1. the landmarks, over the video frame when there is one."""
    from PIL import Image, ImageDraw

    w, h, a, lo, hi = v.canvas.w, v.canvas.h, v.aspect, v.lo, v.hi
    if frame is not None:
        H, W = frame.shape[:2]
        # crop (height units) -> pixels of the frame
        x0, y0, x1, y1 = (int(round(x)) for x in (lo[0] / a * W, lo[1] * H, hi[0] / a * W, hi[1] * H))
        # the crop may reach past the frame (landmarks MediaPipe guessed off-screen): grey there
        im = Image.new("RGB", (x1 - x0, y1 - y0), (96, 96, 96))
        im.paste(Image.fromarray(frame), (-x0, -y0))
        im = im.resize((w, h))
    else:
        im = Image.new("RGB", (w, h), (255, 255, 255))
    _draw_landmarks(ImageDraw.Draw(im), v.canvas, v.pose[t], v.hands[t], colour=None)
    return im


def _front_panel(v: _View, t: int):
    """2. the FK skeleton through the fitted camera over the landmarks in grey."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (v.canvas.w, v.canvas.h), (255, 255, 255))
    d = ImageDraw.Draw(im)
    _draw_landmarks(d, v.canvas, v.pose[t], v.hands[t], colour=GREY)
    for b0, b1, col in v.bones:
        _line(d, v.canvas.px(v.proj(b0[t], t)), v.canvas.px(v.proj(b1[t], t)), col, 3)
    return im


def _side_panel(v: _View, t: int):
    """3. the skeleton from the signer's left: image x = -Z (front to the left), y = -Y."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (v.canvas.w, v.canvas.h), (250, 250, 245))
    d = ImageDraw.Draw(im)
    at = np.array([(v.lo[0] + v.hi[0]) / 2, v.centre[t, 1]])
    for b0, b1, col in v.bones:
        p0 = np.array([-b0[t, 2], -b0[t, 1]]) * v.scale + at
        p1 = np.array([-b1[t, 2], -b1[t, 1]]) * v.scale + at
        _line(d, v.canvas.px(p0), v.canvas.px(p1), col, 3)
    return im


def _hands_panel(v: _View, t: int):
    """4. both hands enlarged: landmarks thin grey, FK fingers thick; signer's right on the image's left."""
    from PIL import Image, ImageDraw

    w, h = v.canvas.w, v.canvas.h
    im = Image.new("RGB", (w, h), (255, 255, 255))
    d = ImageDraw.Draw(im)
    for k, side in enumerate(("left", "right")):
        wrist = v.proj(v.pos[t, JOINT_INDEX[f"{side}_wrist"]], t)
        hw = v.hands[t, k, 0, :2]
        centre = hw if np.isfinite(hw).all() else wrist
        fingers = v.finger_bones(side)
        fk_hand = np.stack([v.proj(b1[t], t) for b0, b1, col in fingers])
        pts = np.concatenate([v.hands[t, k, :, :2], fk_hand])
        pts = pts[np.isfinite(pts).all(-1)]
        reach = np.abs(pts - centre).max() if len(pts) else 0.0
        span = max(0.13 * v.scale, 1.1 * reach)  # half the box: a hand is about 0.19 m long
        sub = _Canvas(centre - span, centre + span, min(w, h) // 2 * 0.98)
        off = np.array([0.0 if side == "right" else w / 2, h / 4])
        for i0, i1 in HAND_EDGES:
            _line(d, sub.px(v.hands[t, k, i0, :2]) + off, sub.px(v.hands[t, k, i1, :2]) + off, GREY, 1)
        for b0, b1, col in fingers:
            _line(d, sub.px(v.proj(b0[t], t)) + off, sub.px(v.proj(b1[t], t)) + off, col, 2)
    return im


def _side_by_side(imgs):
    from PIL import Image

    w, h = imgs[0].size
    strip = Image.new("RGB", (w * len(imgs) + 4 * (len(imgs) - 1), h), (0, 0, 0))
    for i, im in enumerate(imgs):
        strip.paste(im, (i * (w + 4), 0))
    return strip


def render_frames(seq, result, frames: list[int], panel: int = 260) -> list:
    """One PIL image per frame index: the four panels side by side (module docstring)."""
    v = _View(seq, result, panel)
    video = _video_frames(seq, frames)
    return [_side_by_side([_landmark_panel(v, t, video.get(t)), _front_panel(v, t), _side_panel(v, t),
                           _hands_panel(v, t)]) for t in frames]


def _bone_names(tips) -> list[str]:
    """Names of the bones of :func:`_bones`, in the same order (by child joint or end site)."""
    names = [JOINT_NAMES[j] for j, p in enumerate(PARENTS)
             if p >= 0 and not any(k in JOINT_NAMES[j] for k in _SKIP) and JOINT_NAMES[j] != "jaw"]
    return names + list(tips)


def _draw_landmarks(d, canvas, pose, hands, colour):
    for i0, i1 in POSE_EDGES:
        _line(d, canvas.px(pose[i0, :2]), canvas.px(pose[i1, :2]), colour or _pose_colour(i0, i1), 2)
    for k in range(2):
        col = colour or (LEFT_COL if k == 0 else RIGHT_COL)
        for i0, i1 in HAND_EDGES:
            _line(d, canvas.px(hands[k, i0, :2]), canvas.px(hands[k, i1, :2]), col, 1)
        for i in range(21):
            _dot(d, canvas.px(hands[k, i, :2]), col, 1.5)


def pick_frames(result, n: int) -> list[int]:
    T = result.motion.num_frames
    idx = np.nonzero(result.valid)[0]
    if len(idx) == 0:
        idx = np.arange(T)
    if n >= len(idx):
        return [int(i) for i in idx]
    return [int(idx[int(round(x))]) for x in np.linspace(0, len(idx) - 1, n)]


def write_preview(seq, result, path, n_frames: int = 6, panel: int = 260, gif_fps: float | None = None) -> Path:
    """Write a PNG strip (``n_frames`` columns) or an animated GIF (every frame) of ``result``."""
    from PIL import Image

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".png", ".gif"):
        raise SignAvatarError(f"preview files end in .png or .gif, got '{path.name}'")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".gif":
        T = result.motion.num_frames
        step = max(1, int(np.ceil(T / 150)))
        frames = list(range(0, T, step))
        imgs = render_frames(seq, result, frames, panel)
        fps = gif_fps or result.motion.fps / step
        write_with(path, lambda p: imgs[0].save(p, save_all=True, append_images=imgs[1:], duration=int(1000 / fps),
                                               loop=0))
        return path
    frames = pick_frames(result, n_frames)
    imgs = render_frames(seq, result, frames, panel)
    w, h = imgs[0].size  # one frame's panels side by side -> stack them as rows of a column per frame
    n_panels = 4
    pw = (w - 4 * (n_panels - 1)) // n_panels
    sheet = Image.new("RGB", (len(imgs) * (pw + 4) - 4, n_panels * (h + 4) - 4), (0, 0, 0))
    for col, im in enumerate(imgs):
        for row in range(n_panels):
            panel_im = im.crop((row * (pw + 4), 0, row * (pw + 4) + pw, h))
            sheet.paste(panel_im, (col * (pw + 4), row * (h + 4)))
    write_with(path, sheet.save)
    return path
