"""Command line: `tui-optim [SCENARIO]`, `run`, `list`, `check`, `new`, `serve`."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tui-optim",
        description="Race neural-network optimizers against each other, live, in the terminal.",
    )
    parser.add_argument("scenario", nargs="?", help="built-in scenario name or a .toml file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    print(f"scenario: {args.scenario}")
    return 0
