"""Sentences: several generated signs (and fingerspelled words) joined into one motion.

``generate_sentence(["HELLO", "MY", "NAME"], generator=gen)`` trims each sign's idle
frames, picks the join point in a short window, bridges the gap with a transition that
interpolates rotations on the sphere, and low-passes the motion around each join.
Pure numpy/torch; the generator is a parameter (any object with ``match``, ``generate``
and ``vocabulary``), so tests can pass one that returns real clips.
"""

from .compose import SentenceResult, SignGenerator, SignSpan, generate_sentence
from .config import SentenceConfig
from .library import MotionLibrary
from .metrics import JoinJerk, join_jerk
from .words import WordPlan, plan_words

__all__ = ["generate_sentence", "SentenceResult", "SignSpan", "SignGenerator", "SentenceConfig", "WordPlan",
           "plan_words", "join_jerk", "JoinJerk", "MotionLibrary"]
