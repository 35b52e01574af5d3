"""The project's one exception type.

Every error a user can act on (a bad file, an unknown gloss, a missing weight file) is a
:class:`SignAvatarError` whose message names the problem and, where possible, the fix.
The Blender operators catch it once and report it; anything else is a bug.
"""


class SignAvatarError(RuntimeError):
    """An input or environment problem the user can fix; the message says what and how."""
