"""Resumable training state without pickles: ``RUN/train_state/``.

``weights.safetensors`` (float32 master weights), ``optimizer.safetensors`` (the optimiser's
tensors, keyed ``<param id>.<name>``) and ``state.json`` (epochs done, the optimiser's
param groups and non-tensor entries). Random generators need no saving: every epoch
re-seeds them from (seed, epoch, rank), so a resumed run continues exactly.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..atomic import atomic_dir
from ..errors import SignAvatarError

STATE_DIR = "train_state"


def save_state(run: Path, net, optimizer, epochs_done: int, steps_per_epoch: int) -> None:
    import torch
    from safetensors.torch import save_file

    from ..model.config import FORMAT

    sd = optimizer.state_dict()
    tensors, scalars = {}, {}
    for pid, entries in sd["state"].items():
        for k, v in entries.items():
            if torch.is_tensor(v):
                tensors[f"{pid}.{k}"] = v.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{k}"] = v
    with atomic_dir(Path(run) / STATE_DIR) as tmp:  # the previous state stays until the new one is complete
        save_file({k: v.detach().cpu().float().contiguous() for k, v in net.state_dict().items()},
                  str(tmp / "weights.safetensors"), metadata={"format": FORMAT})
        save_file(tensors, str(tmp / "optimizer.safetensors"))
        (tmp / "state.json").write_text(json.dumps(dict(epochs_done=epochs_done, steps_per_epoch=steps_per_epoch,
                                                        param_groups=sd["param_groups"], scalars=scalars)))


def load_state(run: Path, net, optimizer, device) -> tuple[int, int]:
    """Restore weights and optimiser; returns (epochs done, steps per epoch)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from ..model.checkpoint import load_state_dict

    folder = Path(run) / STATE_DIR
    if not (folder / "state.json").is_file():
        raise SignAvatarError(f"{run}: nothing to resume (no {STATE_DIR}/); the run either never saved a "
                              "checkpoint or finished (start a new run, or train with --keep-state)")
    try:
        meta = json.loads((folder / "state.json").read_text())
        net.load_state_dict(load_state_dict(folder / "weights.safetensors", net))
        tensors = load_file(str(folder / "optimizer.safetensors"), device=str(device))
    except (OSError, ValueError, SafetensorError) as e:
        raise SignAvatarError(f"{folder}: unreadable training state ({e})") from None
    state: dict = {}
    for key, v in list(tensors.items()) + list(meta["scalars"].items()):
        pid, _, name = key.partition(".")
        state.setdefault(int(pid), {})[name] = v
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    return int(meta["epochs_done"]), int(meta["steps_per_epoch"])


def drop_state(run: Path) -> None:
    folder = Path(run) / STATE_DIR
    if folder.exists():
        shutil.rmtree(folder)
