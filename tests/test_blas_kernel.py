"""OpenBLAS's kernel is pinned, so races give the same bits on AVX2 and AVX-512 machines."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tui_optim.blas_kernel import PINNED_KERNEL, cpu_flags, pin_kernel

RUNS_THE_PINNED_KERNEL = platform.machine().lower() in ("x86_64", "amd64") and {
    "avx2",
    "fma",
} <= cpu_flags()

_REPORT = (
    "import json, {first}; import numpy; from threadpoolctl import threadpool_info; "
    "print(json.dumps([i.get('architecture') for i in threadpool_info() "
    "if i['internal_api'] == 'openblas']))"
)


def kernels(first: str, **environment: str) -> list[str]:
    """The OpenBLAS kernels a fresh interpreter runs after importing ``first``."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"} | environment
    out = subprocess.run(
        [sys.executable, "-c", _REPORT.format(first=first)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return json.loads(out)


@pytest.mark.skipif(not RUNS_THE_PINNED_KERNEL, reason="not an x86-64 CPU with AVX2 and FMA")
def test_importing_the_package_pins_the_kernel_before_numpy_loads() -> None:
    assert kernels("tui_optim") == [PINNED_KERNEL]


@pytest.mark.skipif(not RUNS_THE_PINNED_KERNEL, reason="not an x86-64 CPU with AVX2 and FMA")
def test_a_kernel_the_user_chose_wins() -> None:
    # SandyBridge (AVX) runs on every CPU that runs Haswell's kernel
    assert kernels("tui_optim", OPENBLAS_CORETYPE="SandyBridge") == ["Sandybridge"]


def test_numpy_loaded_first_keeps_its_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    assert np.__name__ in sys.modules  # loaded, and OpenBLAS with it
    assert pin_kernel() is None
    assert "OPENBLAS_CORETYPE" not in os.environ


def test_cpu_flags_are_read_from_the_flags_line(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\nbugs\t\t: spectre\n")
    assert cpu_flags(str(cpuinfo)) == {"fpu", "sse2", "avx2", "fma"}
    assert cpu_flags(str(tmp_path / "missing")) == frozenset()
