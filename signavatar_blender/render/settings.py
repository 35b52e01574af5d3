"""Render settings: one frozen dataclass, parsed from the command line (stdlib only)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

ENGINES = ("workbench", "eevee", "cycles")
AA_MODES = ("auto", "off", "fxaa", "5", "8", "11", "16", "32")
AVATARS = ("neutral", "female", "male")
MIN_SEED, MAX_SEED = -(2**63), 2**64 - 1  # the range torch.Generator accepts (model_runtime.limits)
DEFAULT_BACKGROUND = (0.80, 0.81, 0.83)  # sRGB: a light neutral grey that keeps skin and shirt readable


@dataclass(frozen=True)
class RenderSettings:
    """Everything that shapes a batch's outputs (and the parts of it that resume compares)."""

    out_dir: Path = Path("renders")
    avatar: str = "neutral"  # built-in body: neutral / female / male
    engine: str = "workbench"  # workbench (fast, default) / eevee / cycles
    width: int = 640
    height: int = 480
    fps: float | None = None  # None: the motion's own frame rate
    samples: int = 32  # eevee / cycles samples per pixel
    aa: str = "auto"  # workbench anti-aliasing: auto (fxaa on a GPU, off on a software renderer) / off / fxaa / N samples
    mesh_detail: float = 0.25  # fraction of the avatar's faces kept for rendering (1 = the full mesh)
    png_frames: bool = False  # also write <name>_frames/frame_0001.png ...
    contact_sheet: bool = False  # also write <name>_sheet.png
    sheet_frames: int = 8  # frames on a contact sheet
    label: bool = False  # burn the gloss and frame number into the video frames
    background: tuple[float, float, float] = DEFAULT_BACKGROUND  # sRGB 0-1
    model: str | None = None  # model folder; None: the shipped default
    library: str | None = None  # folder of recorded .npz clips used instead of the model
    seed: int = 0
    temperature: float = 1.0  # latent scale of generated signs (1 = the model's prior)
    hold: float = 0.0  # sentences: seconds each word's last pose is held
    speed: float = 1.0  # sentences: playback speed
    shard: tuple[int, int] = (1, 1)
    force: bool = False  # re-render finished clips
    verbose: bool = False  # keep Blender's own per-frame log
    motion_files: tuple[str, ...] = field(default_factory=tuple)

    def problems(self) -> list[str]:
        out = []
        if self.avatar not in AVATARS:
            out.append(f"--avatar must be one of {', '.join(AVATARS)}, got {self.avatar!r}")
        if self.engine not in ENGINES:
            out.append(f"--engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if not (16 <= self.width <= 7680 and 16 <= self.height <= 4320) or self.width % 2 or self.height % 2:
            out.append(f"--resolution must be even numbers from 16x16 to 7680x4320 (H.264 needs even sizes), "
                       f"got {self.width}x{self.height}")
        if self.fps is not None and not (1 <= self.fps <= 240):
            out.append(f"--fps must be from 1 to 240, got {self.fps:g}")
        if not 1 <= self.samples <= 4096:
            out.append(f"--samples must be from 1 to 4096, got {self.samples}")
        if self.aa not in AA_MODES:
            out.append(f"--aa must be one of {', '.join(AA_MODES)}, got {self.aa!r}")
        if not (0.02 <= self.mesh_detail <= 1):
            out.append(f"--mesh-detail must be from 0.02 to 1, got {self.mesh_detail:g}")
        if not 1 <= self.sheet_frames <= 64:
            out.append(f"--sheet-frames must be from 1 to 64, got {self.sheet_frames}")
        if not (0 <= self.hold <= 10):
            out.append(f"--hold must be seconds from 0 to 10, got {self.hold:g}")
        if not (0.1 <= self.speed <= 10):
            out.append(f"--speed must be from 0.1 to 10, got {self.speed:g}")
        if not (0 <= self.temperature <= 2):
            out.append(f"--temperature must be from 0 to 2, got {self.temperature:g}")
        if not MIN_SEED <= self.seed <= MAX_SEED:
            out.append(f"--seed must be a whole number from {MIN_SEED} to {MAX_SEED} (64 bits), got {self.seed}")
        out.extend(folder_problems(Path(self.out_dir), "--out"))
        return out

    def shaping(self) -> dict:
        """The settings a finished clip depends on (resume re-renders when any of them changed)."""
        keep = ("avatar", "engine", "width", "height", "fps", "samples", "aa", "mesh_detail", "png_frames", "contact_sheet",
                "sheet_frames", "label", "background", "model", "library", "hold", "speed", "temperature")
        d = asdict(self)
        return {k: (list(d[k]) if isinstance(d[k], tuple) else d[k]) for k in keep}


def folder_problems(folder: Path, flag: str) -> list[str]:
    """Why ``folder`` cannot be an output folder (it, or the first existing folder above it, must be a
    writable folder); empty when it can."""
    import os

    if folder.exists() and not folder.is_dir():
        return [f"{flag} {str(folder)[:200]!r} is a file, not a folder; give a folder for the outputs"]
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and (not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK)):
        return [f"{flag}: cannot create or write {str(folder)[:200]!r} ({probe} is not a writable folder)"]
    return []


def parse_resolution(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not m:
        raise ValueError(f"resolution must look like 640x480, got {text!r}")
    return int(m.group(1)), int(m.group(2))


def parse_colour(text: str) -> tuple[float, float, float]:
    """``#rrggbb``, ``r,g,b`` in 0-1, or ``r,g,b`` in 0-255 -> sRGB floats in 0-1."""
    t = text.strip()
    if re.fullmatch(r"#?[0-9a-fA-F]{6}", t):
        t = t.lstrip("#")
        return tuple(int(t[i:i + 2], 16) / 255 for i in (0, 2, 4))
    parts = [p for p in re.split(r"[,\s]+", t) if p]
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        vals = []
    if len(vals) != 3 or min(vals) < 0:
        raise ValueError(f"colour must be #rrggbb or three numbers r,g,b, got {text!r}")
    if max(vals) > 1:
        if max(vals) > 255:
            raise ValueError(f"colour values must be 0-1 or 0-255, got {text!r}")
        vals = [v / 255 for v in vals]
    return tuple(vals)
