"""``python -m model_runtime data SUBCOMMAND``: the data command group.

Each subcommand is registered by its own module's ``register(subparsers)`` (stdlib-only
imports at top level): ``build`` and ``sources`` from :mod:`.build_cli`; ``segment`` from
:mod:`.segment_cli`; ``check`` and ``preview`` from ``..ik.cli``; ``motion`` from
``..ik.motion_cli``; ``consistency`` from :mod:`.consistency_cli` (a failed import is
handled by :func:`..commands.load_commands`).
"""

from __future__ import annotations

from ..commands import load_commands, unavailable_note

# subcommand modules, relative to this package, in --help order
SUBCOMMAND_MODULES = (".build_cli", ".segment_cli", ".consistency_cli", "..ik.cli", "..ik.motion_cli")


def register(sub) -> None:
    p = sub.add_parser("data", help="landmarks, inverse kinematics and dataset building",
                       description="Turn videos and landmark sets into SMPL-X sign clips and datasets.")
    dsub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    modules, unavailable = load_commands(SUBCOMMAND_MODULES, __package__)
    for module in modules:
        module.register(dsub)
    p.epilog = unavailable_note(unavailable) or None
    p.set_defaults(func=lambda args: p.print_help() or 0)
