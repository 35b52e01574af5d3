"""Which matmul precision a training run's forward pass uses: ``float32``, ``bfloat16`` or ``auto``.

bfloat16 autocast is ~1.5x faster per step on CPUs with native bfloat16 (AVX-512-BF16, AMX) and on GPUs,
but emulated elsewhere: on an AVX2-only CPU a bfloat16 linear layer measured 8x *slower* than float32.
So ``auto`` measures instead of guessing, and an explicit ``bfloat16`` that would be slower is warned about.
"""

from __future__ import annotations

import sys
import time

PRECISIONS = ("float32", "bfloat16", "auto")


def bfloat16_speedup(device: str) -> float:
    """float32 time / bfloat16-autocast time of a decoder-sized linear layer on ``device`` (> 1: bf16 faster)."""
    import torch

    dev = torch.device(device)
    if dev.type == "cuda":
        return 2.0 if torch.cuda.is_bf16_supported() else 0.0
    layer = torch.nn.Linear(192, 384)
    x = torch.randn(1024, 192)
    times = {}
    with torch.no_grad():
        for precision in ("float32", "bfloat16"):
            with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=precision == "bfloat16"):
                layer(x)  # warm-up (kernel selection)
                t0 = time.perf_counter()
                for _ in range(10):
                    layer(x)
                times[precision] = time.perf_counter() - t0
    return times["float32"] / max(times["bfloat16"], 1e-9)


def resolve_precision(requested: str, device: str, speedup=bfloat16_speedup) -> str:
    """The precision to train with: ``auto`` becomes bfloat16 only where it measures faster (> 1.1x);
    an explicit bfloat16 is kept but warned about (on stderr) where it measures slower."""
    if requested == "float32":
        return requested
    ratio = speedup(device)
    if requested == "auto":
        return "bfloat16" if ratio > 1.1 else "float32"
    if ratio < 0.9:
        print(f"warning: bfloat16 autocast measures {1 / max(ratio, 1e-9):.1f}x slower than float32 on this "
              f"{device} (no native bfloat16); --precision auto or float32 would be faster", file=sys.stderr)
    return requested
