"""``info``: versions, dependency status and the rest skeletons (a quick health check)."""

from __future__ import annotations

import importlib.util


def register(sub) -> None:
    p = sub.add_parser("info", help="show versions, dependency status and rest skeleton sizes")
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import __version__
    from ..skeleton import GENDERS, rest_skeleton

    print(f"SignAvatar model runtime {__version__}")
    for mod in ("torch", "roma", "open_clip", "transformers", "mediapipe", "cv2", "scipy"):
        print(f"  {mod:13s} {'installed' if importlib.util.find_spec(mod) else 'MISSING'}")
    for g in GENDERS:
        rest = rest_skeleton(g)
        height = rest.end_sites["head"][1] - rest.floor_y
        print(f"  rest skeleton {g:8s} stature {height:.2f} m, pelvis {-rest.floor_y:.2f} m above the floor")
    return 0
