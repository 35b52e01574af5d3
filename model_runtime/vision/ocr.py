"""Printed text in a photo: PP-OCRv4 detection + recognition (RapidOCR on onnxruntime), offline.

The ONNX models ship inside the ``rapidocr-onnxruntime`` wheel; nothing is downloaded. The
angle classifier is off (upright and mildly rotated words read correctly without it) and the
detector sees the image at most ``det_limit_side`` pixels on its longer side, which keeps one
image near a tenth of a second on two cores. Imported on first use.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..errors import SignAvatarError


@dataclass(frozen=True)
class OcrConfig:
    det_limit_side: int = 640     # detector input: longer side in pixels
    threads: int = 2              # onnxruntime intra-op threads
    min_confidence: float = 0.5   # recognitions below this are dropped


@dataclass(frozen=True)
class TextLine:
    """One line of text: its recognition confidence and its box as fractions of the image.

    ``height``: box height / image height (how prominent the text is); ``area``: box area / image area;
    ``box``: (x0, y0, x1, y1) in [0, 1], image coordinates (y down).
    """

    text: str
    confidence: float
    height: float
    area: float
    box: tuple[float, float, float, float]


def _no_spinning():
    """Make RapidOCR's onnxruntime sessions sleep instead of spin-waiting between operators.

    rapidocr-onnxruntime 1.4.4 builds its SessionOptions in a private static method and has no
    setting for spinning, so there is no public way in: this wraps that method (a monkey-patch,
    applied once) and adds onnxruntime's two documented session config entries.
    """
    from rapidocr_onnxruntime.utils import infer_engine
    cls = infer_engine.OrtInferSession
    if getattr(cls, "_signavatar_quiet", False):
        return
    build = cls._init_sess_opts

    def quiet(config):
        opts = build(config)
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
        return opts

    cls._init_sess_opts = staticmethod(quiet)
    cls._signavatar_quiet = True


def _apply_limits(engine, config: OcrConfig):
    """Cap the detector input at ``det_limit_side`` pixels on the longer side.

    RapidOCR 1.4.4 ignores ``det_limit_side_len`` when the limit type is "max" (it picks 960, 1500 or
    2000 from the image size), so its public setting does not reach the detector; this replaces the
    per-call preprocess choice on this one engine instance (a monkey-patch; no public hook exists).
    """
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess
    det = engine.text_det
    det.get_preprocess = lambda max_wh: DetPreProcess(config.det_limit_side, "max", det.mean, det.std)


class TextReader:
    def __init__(self, config: OcrConfig = OcrConfig()):
        self.config = config
        self._engine = None

    def _load(self):
        if self._engine is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as e:
                raise SignAvatarError("reading text in images needs the rapidocr-onnxruntime package: run "
                                      f"'python3 install_deps.py' ({e})") from None
            c = self.config
            _no_spinning()
            self._engine = RapidOCR(use_cls=False, det_limit_side_len=c.det_limit_side, det_limit_type="max",
                                    intra_op_num_threads=c.threads, inter_op_num_threads=1)
            _apply_limits(self._engine, c)
            for name in ("RapidOCR", "OrtInferSession"):  # it logs at DEBUG to stderr by default
                logging.getLogger(name).setLevel(logging.ERROR)
        return self._engine

    def read(self, rgb: np.ndarray) -> list[TextLine]:
        """Lines of text in an (H, W, 3) uint8 RGB image, top to bottom."""
        engine = self._load()
        h, w = rgb.shape[:2]
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])  # RapidOCR takes arrays in OpenCV's BGR order
        result, _ = engine(bgr, text_score=self.config.min_confidence)
        lines = []
        for box, text, score in result or ():
            pts = np.asarray(box, dtype=np.float64).reshape(-1, 2)
            x0, y0 = pts.min(0)
            x1, y1 = pts.max(0)
            lines.append(TextLine(text=str(text).strip(), confidence=float(score), height=float((y1 - y0) / h),
                                  area=float((x1 - x0) * (y1 - y0) / (w * h)),
                                  box=(float(x0 / w), float(y0 / h), float(x1 / w), float(y1 / h))))
        return [t for t in lines if t.text]
