"""tui-optim: race neural-network optimizers against each other, live, in the terminal."""

from tui_optim.blas_kernel import pin_kernel

__version__ = "0.1.0"

# before any module of the package imports NumPy (see blas_kernel.py)
pin_kernel()
