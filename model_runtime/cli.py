"""Command-line entry: ``python -m model_runtime COMMAND ...``.

Each command lives in its own module that exposes ``register(subparsers)``; those
modules import only the standard library at top level, so ``--help`` stays fast and
heavy imports (torch, mediapipe) happen when a command runs. A command's handler is
stored as ``func`` on its parser and returns an exit code.

:class:`SignAvatarError` is reported once, as ``error: <message>``, with exit code 2.
"""

from __future__ import annotations

import argparse
import sys

from .commands import load_commands, unavailable_note
from .errors import SignAvatarError

# command modules, in the order they appear in --help (relative to this package)
COMMAND_MODULES = (
    ".commands.info",
    ".data.cli",
    ".training.cli",
    ".training.prior_cli",
    ".generation.cli",
    ".evaluation.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m model_runtime",
        description="SignAvatar runtime: data, training, generation and evaluation of SMPL-X sign motions.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules, unavailable = load_commands(COMMAND_MODULES, __package__)
    for module in modules:
        module.register(sub)
    parser.epilog = unavailable_note(unavailable) or None
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except SignAvatarError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
