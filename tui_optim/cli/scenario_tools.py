"""``tui-optim list``, ``check`` and ``new``: what tui-optim knows, validating a scenario,
writing a template."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui_optim.cli.common import UsageError, load, print_table

LISTS = ("scenarios", "optimizers", "datasets", "surfaces")


def command_list(options: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    sections = [options.what] if options.what else list(LISTS)
    for section in sections:
        table = Table(title=section, title_justify="left", show_lines=False, expand=False)
        if section == "scenarios":
            from tui_optim.scenario import builtin_scenarios, parse_scenario

            table.add_column("name", style="bold")
            table.add_column("title")
            for name, path in builtin_scenarios().items():
                scenario = parse_scenario(path.read_text(encoding="utf-8"), path, name)
                table.add_row(name, scenario.title)
        elif section == "optimizers":
            from tui_optim.engine.optimizers import FLAVORS, registry

            table.add_column("name", style="bold")
            table.add_column("flavor")
            table.add_column("what it is")
            table.add_column("hyperparameters (defaults)")
            # Each name once per flavor that has it, the flavors of one name together.
            names = list(dict.fromkeys(name for flavor in FLAVORS for name in registry(flavor)))
            for name in names:
                for flavor in FLAVORS:
                    cls = registry(flavor).get(name)
                    if cls is not None:
                        hparams = ", ".join(f"{h.name}={h.default}" for h in cls.hparams)
                        # Text, not markup: summaries hold brackets such as E[dx^2].
                        table.add_row(name, flavor, Text(cls.summary), hparams)
        elif section == "datasets":
            from tui_optim.engine.data import DATASETS

            table.add_column("name", style="bold")
            table.add_column("task")
            table.add_column("what it is")
            table.add_column("options (defaults)")
            for name, info in DATASETS.items():
                opts = ", ".join(f"{o.name}={o.default}" for o in info.options)
                table.add_row(name, info.task, info.summary, opts)
        else:
            from tui_optim.engine.surfaces import SURFACES

            table.add_column("name", style="bold")
            table.add_column("what it is")
            table.add_column("f(w0, w1)")
            for name, surface in SURFACES.items():
                table.add_row(name, surface.summary, surface.formula)
        print_table(table)
    return 0


def command_check(options: argparse.Namespace) -> int:
    from tui_optim.engine.errors import printable
    from tui_optim.scenario import ScenarioError, check_scenario

    scenario = load(options.scenario)
    try:
        print("\n".join(printable(line) for line in check_scenario(scenario).splitlines()))
    except ScenarioError as error:
        raise UsageError(str(error)) from None
    return 0


def command_new(options: argparse.Namespace) -> int:
    from tui_optim.engine.atomic import atomic_write
    from tui_optim.scenario import template

    path: Path = options.file
    if path.exists() and not options.force:
        raise UsageError(f"{path} exists; use --force to overwrite it")
    if not path.parent.is_dir():
        raise UsageError(f"{path.parent}: no such directory")
    try:
        with atomic_write(path) as stream:
            stream.write(template())
    except OSError as error:
        raise UsageError(f"{path}: cannot write it ({error.strerror})") from None
    print(f"wrote {path}; check it with `tui-optim check {path}`")
    return 0
