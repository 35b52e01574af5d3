"""Landmark sequences (MediaPipe Holistic layout) and their loaders."""

from .sequence import LandmarkSequence

__all__ = ["LandmarkSequence"]
