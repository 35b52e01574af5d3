"""``python -m model_runtime data SUBCOMMAND``: the data command group.

Each subcommand is registered by its own module's ``register(subparsers)`` (stdlib-only
imports at top level): ``build`` and ``sources`` from :mod:`.build_cli`; ``check`` and
``preview`` from ``..ik.cli`` when the inverse kinematics part is present; ``consistency``
from :mod:`.consistency_cli`.
"""

from __future__ import annotations

import importlib
import importlib.util

# subcommand modules, relative to this package, in --help order
SUBCOMMAND_MODULES = (".build_cli", ".consistency_cli", "..ik.cli")


def register(sub) -> None:
    p = sub.add_parser("data", help="landmarks, inverse kinematics and dataset building",
                       description="Turn videos and landmark sets into SMPL-X sign clips and datasets.")
    dsub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name, __package__)
        except ModuleNotFoundError as e:
            missing = importlib.util.resolve_name(name, __package__)
            if e.name and missing.startswith(e.name):
                continue  # that part of the runtime is not in this build
            raise
        module.register(dsub)
    p.set_defaults(func=lambda args: p.print_help() or 0)
