"""The project's one exception type, and the one subclass that carries data.

Every error a user can act on (a bad file, an unknown gloss, a missing weight file) is a
:class:`SignAvatarError` whose message names the problem and, where possible, the fix.
The Blender operators catch it once and report it; anything else is a bug.

Data a caller needs besides the message travels in fields, never inside the string:
:class:`UnknownSignError` (a sign that matches no known gloss) carries ``suggestions``, the
known glosses to offer instead, best first. ``str(e)`` is the whole message, suggestions
included, so printing it stays a one-line report.
"""

from __future__ import annotations

from typing import Iterable


class SignAvatarError(RuntimeError):
    """An input or environment problem the user can fix; the message says what and how."""


class UnknownSignError(SignAvatarError):
    """A gloss, text or image that matches no sign; ``suggestions`` are known glosses to offer, best first."""

    def __init__(self, message: str, suggestions: Iterable[str] = ()):
        super().__init__(message)
        self.suggestions: tuple[str, ...] = tuple(dict.fromkeys(suggestions))
