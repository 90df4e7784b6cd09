"""tui-optim: race neural-network optimizers against each other, live, in the terminal."""

__version__ = "0.1.0"
