"""The one place that prepares the process for torch / open_clip / transformers.

Call :func:`apply` before importing open_clip, timm, torchvision or transformers. It

* sets ``HF_HUB_OFFLINE=1`` (and ``TRANSFORMERS_OFFLINE=1``) so that nothing tries to
  download weights at run time, unless the user opted in with ``SIGNAVATAR_ALLOW_DOWNLOAD=1``;
* declares the ``torchvision::nms`` and ``::qnms`` operator schemas when torchvision's compiled extension
  cannot register it (torchvision 0.28.0 on the CPU build of torch 2.13.0): torchvision's
  Python side registers fake kernels for those ops at import time and fails if the schema
  does not exist. We only need torchvision's transforms (through open_clip), never nms.

Nothing else in the code base repeats these steps. The function is idempotent and cheap.

:func:`torch_threads` is the one way a step runs torch on a set number of intra-op threads and
gives the process its previous setting back (the IK solver, the image classifier).
"""

from __future__ import annotations

import os
from contextlib import contextmanager

_applied = False
# The torch.library fragment that declares the schemas must live as long as torch does. It is kept
# on the torch module, not here: Blender unloads and reloads this module when the add-on is
# disabled and enabled again, and a fragment collected with the old module takes the schemas
# away from a process that has not imported torchvision yet.
_KEEP_ATTR = "_signavatar_torchvision_fragments"

# torchvision registers fake (meta) kernels for these two ops unconditionally at import.
TORCHVISION_SCHEMAS = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}


def allow_download() -> bool:
    """True when the user opted in to hub downloads (``SIGNAVATAR_ALLOW_DOWNLOAD=1``)."""
    return os.environ.get("SIGNAVATAR_ALLOW_DOWNLOAD", "") == "1"


def apply() -> None:
    """Set offline hub variables and make torchvision importable on CPU torch."""
    global _applied
    if _applied:
        return
    if not allow_download():
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import torch
    except ImportError:  # torch not installed yet (install_deps checks); nothing to fix
        _applied = True
        return
    missing = [name for name in TORCHVISION_SCHEMAS if not _has_op("torchvision", name)]
    if missing:
        lib = torch.library.Library("torchvision", "FRAGMENT")
        for name in missing:
            lib.define(TORCHVISION_SCHEMAS[name])
        setattr(torch, _KEEP_ATTR, [*getattr(torch, _KEEP_ATTR, []), lib])
    _applied = True


def _has_op(namespace: str, name: str) -> bool:
    import torch

    try:
        torch._C._dispatch_find_schema_or_throw(f"{namespace}::{name}", "")
        return True
    except RuntimeError:
        return False


@contextmanager
def torch_threads(n: int):
    """Run the block with torch on ``n`` intra-op threads (``n <= 0``: leave it as it is), then restore.

    torch's setting is process-wide; a small network (one 224 x 224 image) is faster on one thread
    than on two, whose workers spin-wait for each other (measured: 49 against 292 ms of CPU per image
    on a 2-core machine that was busy with other work).
    """
    import torch

    old = torch.get_num_threads()
    if n > 0 and n != old:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n > 0 and n != old:
            torch.set_num_threads(old)
