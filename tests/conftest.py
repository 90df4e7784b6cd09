"""Test-wide settings."""

from __future__ import annotations

import os

# One BLAS thread per test process, as the engine process runs (race/process.py): two
# pytest workers on two cores, each starting a BLAS thread per core, fight over them (a
# digits race took 6x its CPU time in wall time). Set before NumPy loads OpenBLAS.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

# The kernel the package pins when it is imported first (tui_optim/blas_kernel.py): test
# modules import NumPy before tui_optim, so the tests would otherwise run the CPU's own
# kernel and see other last digits than the app and the built-ins' recorded figures.
from tui_optim.blas_kernel import pin_kernel  # noqa: E402

pin_kernel()
