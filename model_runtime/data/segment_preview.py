"""The picture of ``data segment --preview``: hand speed over time with the cuts, one thumbnail per sign.

Top: both wrists' speed (shoulder widths per second; the signer's left orange, right blue, clipped
at :data:`SPEED_TOP`) over the recording's seconds; pauses shaded grey, frames without the signer
pink, each sign a green bar with its number and gloss, each cut a red line. Bottom: the frame at
the middle of each sign's movement (from the video when it can be read, else the landmarks drawn),
captioned with its number, gloss and seconds. Drawn with Pillow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import write_with

SPEED_TOP = 6.0  # shoulder widths per second at the top of the plot
WIDTH, PLOT_H, THUMB_H, MARGIN = 1200, 240, 150, 40
LEFT_COL, RIGHT_COL = (235, 120, 30), (40, 110, 230)


def _video_frames(seq, wanted: list[int]) -> dict[int, np.ndarray]:
    """RGB frames of the processed-frame indices ``wanted`` (empty when the video cannot be read)."""
    from ..landmarks.holistic_pass import frames, open_video

    path = seq.meta.get("video_path")
    if not path or not Path(path).is_file():
        return {}
    try:
        cap = open_video(path)
    except Exception:  # noqa: BLE001 - a preview falls back to drawn landmarks
        return {}
    out, want = {}, set(wanted)
    try:
        for i, f in enumerate(frames(cap, int(seq.meta.get("rotation", 0) or 0), int(seq.meta.get("frame_step", 1)))):
            if i in want:
                out[i] = f
            if len(out) == len(want) or i > max(want):
                break
    finally:
        cap.release()
    return out


def _drawn(seq, t: int, size: tuple[int, int]):
    """The landmarks of frame ``t`` drawn on grey (for sources without a readable video)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, (235, 235, 235))
    d = ImageDraw.Draw(img)
    for pts, col in ((seq.pose[t, 11:23], (90, 90, 90)), (seq.left_hand[t], LEFT_COL), (seq.right_hand[t], RIGHT_COL),
                     (seq.face[t], (120, 120, 120))):
        for x, y in pts[:, :2]:
            if np.isfinite(x) and np.isfinite(y):
                cx, cy = x * size[0], y * size[1]
                d.ellipse([cx - 2, cy - 2, cx + 2, cy + 2], fill=col)
    return img


def _plot(d, found, glosses, lost, fps: float, T: int, top: int) -> None:
    x0, x1 = MARGIN, WIDTH - MARGIN

    def xt(frame: float) -> float:
        return x0 + (x1 - x0) * frame / max(T - 1, 1)

    def yv(v: float) -> float:
        return top + PLOT_H - PLOT_H * min(v, SPEED_TOP) / SPEED_TOP

    for mask, col in ((found.pause, (225, 225, 225)), (lost, (250, 205, 215))):
        for a, b in _runs(mask):
            d.rectangle([xt(a), top, xt(max(b - 1, a)), top + PLOT_H], fill=col)
    for k, (s, g) in enumerate(zip(found.segments, glosses)):
        d.rectangle([xt(s.moving[0]), top - 18, xt(max(s.moving[1] - 1, s.moving[0])), top - 6], fill=(60, 170, 90))
        d.text((xt(s.moving[0]) + 2, top - 32), f"{k + 1} {g}".strip(), fill=(0, 0, 0))
    for col, k in ((LEFT_COL, 0), (RIGHT_COL, 1)):
        pts = [(xt(t), yv(float(v))) for t, v in enumerate(found.speed[:, k])]
        d.line(pts, fill=col, width=2)
    for c in found.cuts:
        d.line([xt(c * fps), top - 4, xt(c * fps), top + PLOT_H], fill=(220, 30, 30), width=2)
    d.line([x0, top + PLOT_H, x1, top + PLOT_H], fill=(0, 0, 0))
    step = max(1, int(np.ceil(T / fps / 12)))
    for s in range(0, int(T / fps) + 1, step):
        d.line([xt(s * fps), top + PLOT_H, xt(s * fps), top + PLOT_H + 4], fill=(0, 0, 0))
        d.text((xt(s * fps) - 6, top + PLOT_H + 6), f"{s} s", fill=(0, 0, 0))
    d.text((x0, top + PLOT_H + 20), f"wrist speed (shoulder widths/s, top = {SPEED_TOP:g}); grey = pause, red = cut",
           fill=(60, 60, 60))


def _runs(mask):
    from ..landmarks.signer_track import runs

    return runs(mask)


def render_cuts(seq, found, glosses: list[str]):
    """The preview as a Pillow image."""
    from PIL import Image, ImageDraw

    T, fps = seq.num_frames, seq.fps
    n = max(1, len(found.segments))
    thumb_w = min(220, (WIDTH - 2 * MARGIN) // n - 6)
    img = Image.new("RGB", (WIDTH, PLOT_H + THUMB_H + 2 * MARGIN + 50), (255, 255, 255))
    d = ImageDraw.Draw(img)
    lost = seq.meta.get("signer_lost")
    lost = lost if isinstance(lost, np.ndarray) and len(lost) == T else np.zeros(T, dtype=bool)
    _plot(d, found, glosses, lost, fps, T, top=MARGIN + 10)
    mids = [(s.moving[0] + s.moving[1] - 1) // 2 for s in found.segments]
    frames = _video_frames(seq, mids) if mids else {}
    y = PLOT_H + MARGIN + 50
    for k, (s, t, g) in enumerate(zip(found.segments, mids, glosses)):
        size = seq.image_size or (320, 240)
        h = max(1, int(round(thumb_w * size[1] / size[0])))
        h = min(h, THUMB_H)
        w = max(1, int(round(h * size[0] / size[1])))
        if t in frames:
            thumb = Image.fromarray(frames[t]).resize((w, h))
        else:
            thumb = _drawn(seq, t, (w, h))
        x = MARGIN + k * (thumb_w + 6)
        img.paste(thumb, (x, y))
        d.text((x, y + h + 2), f"{k + 1}: {g + ' ' if g else ''}{s.start / fps:.2f}-{s.stop / fps:.2f} s",
               fill=(0, 0, 0))
    return img


def write_cuts_preview(seq, found, glosses: list[str], out) -> Path:
    """Write :func:`render_cuts` as a PNG (atomically)."""
    img = render_cuts(seq, found, glosses)
    return write_with(out, lambda tmp: img.save(tmp, format="PNG"))
