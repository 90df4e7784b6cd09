"""Pin OpenBLAS's kernel so a race gives the same bits on every x86-64 machine.

OpenBLAS picks its matrix-multiply kernel from the CPU it runs on (Haswell's on an AVX2
machine, SkylakeX's on an AVX-512 one), and the kernels add up products in different
orders: the same race then ends in different last digits, and a chaotic one (a learning
rate at the edge of stability) in a different verdict. Asking for the Haswell kernel on
every CPU that can run it (AVX2 and FMA) makes x86-64 machines agree.

OpenBLAS reads ``OPENBLAS_CORETYPE`` once, when NumPy loads it, so this runs when the
package is imported, before anything in it imports NumPy; a value the user set wins, and
a program that imported NumPy before tui-optim keeps the kernel it has.
"""

from __future__ import annotations

import os
import platform
import sys

#: The kernel every x86-64 CPU with AVX2 and FMA can run.
PINNED_KERNEL = "Haswell"
_NEEDED_FLAGS = frozenset({"avx2", "fma"})


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset[str]:
    """The CPU's feature flags as Linux lists them (empty elsewhere or when unreadable)."""
    try:
        with open(cpuinfo, encoding="ascii", errors="replace") as file:
            for line in file:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def pin_kernel() -> str | None:
    """Ask OpenBLAS for :data:`PINNED_KERNEL` where the CPU runs it and NumPy is not
    loaded yet; the kernel asked for (the user's own value included), or None."""
    if "OPENBLAS_CORETYPE" in os.environ:
        return os.environ["OPENBLAS_CORETYPE"]
    if "numpy" in sys.modules or platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    if not cpu_flags() >= _NEEDED_FLAGS:
        return None
    os.environ["OPENBLAS_CORETYPE"] = PINNED_KERNEL
    return PINNED_KERNEL
