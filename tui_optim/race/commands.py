"""What a race does with each command a watcher sends: one handler per command type.

:data:`HANDLERS` maps every :mod:`~tui_optim.race.messages` command class to the function
that carries it out on a :class:`~tui_optim.race.race.Race` and returns the messages to send
back. A command the race cannot carry out (a bad value, a racer that is gone, a file that
cannot be written) is answered with one :class:`CommandRejected` line, never an exception:
the engine process keeps racing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from tui_optim.engine.optimizers import get_optimizer
from tui_optim.race.messages import (
    AddRacer,
    Command,
    CommandRejected,
    ForkRacer,
    Pause,
    RacersChanged,
    RemoveRacer,
    Restart,
    RestoreRacer,
    Resume,
    SaveWeights,
    SetHparam,
    SetPace,
    StepEpoch,
    Stop,
    WeightsSaved,
)
from tui_optim.scenario import RacerConfig, default_racer_name

if TYPE_CHECKING:
    from tui_optim.race.race import Race
    from tui_optim.race.recorder import Racer

Handler = Callable[["Race", Any], list[Any]]
CommandType = TypeVar("CommandType")

#: Every command class and its handler (filled in by :func:`_handles`).
HANDLERS: dict[type, Handler] = {}


def handle_command(race: Race, command: Command) -> list[Any]:
    """Carry out ``command`` on ``race``; returns the messages to send back (maybe none)."""
    handler = HANDLERS.get(type(command))
    if handler is None:
        return [CommandRejected(type(command).__name__, "not a command the race knows")]
    try:
        return handler(race, command)
    except (ValueError, KeyError, OSError) as error:
        text = str(error).strip().splitlines()
        message = text[0] if text else type(error).__name__
        if isinstance(error, KeyError):
            message = f"no racer {error}"
        return [CommandRejected(type(command).__name__, message)]


def _handles(
    kind: type[CommandType],
) -> Callable[[Callable[[Race, CommandType], list[Any]]], Callable[[Race, CommandType], list[Any]]]:
    """Register the decorated function as the handler of commands of class ``kind``."""

    def register(
        handler: Callable[[Race, CommandType], list[Any]],
    ) -> Callable[[Race, CommandType], list[Any]]:
        HANDLERS[kind] = handler
        return handler

    return register


# ------------------------------------------------------------------ flow of the race
@_handles(Pause)
def _pause(race: Race, command: Pause) -> list[Any]:
    if race.state == "running":
        race.set_state("paused")
    return []


@_handles(Resume)
def _resume(race: Race, command: Resume) -> list[Any]:
    if race.state == "paused":
        race.pause_at_epoch = None
        race.set_state("running")
    return []


@_handles(StepEpoch)
def _step_epoch(race: Race, command: StepEpoch) -> list[Any]:
    """Run one more epoch of the group furthest behind, then pause."""
    if race.state in ("paused", "running"):
        groups = race.active_groups()
        if groups:
            race.pause_at_epoch = min(g.progress for g in groups) + 1
            race.set_state("running")
    return []


@_handles(Stop)
def _stop(race: Race, command: Stop) -> list[Any]:
    race.set_state("stopped")
    return []


@_handles(SetPace)
def _set_pace(race: Race, command: SetPace) -> list[Any]:
    race.set_pace(command.steps_per_second)
    return []


@_handles(Restart)
def _restart(race: Race, command: Restart) -> list[Any]:
    seed = secrets.randbelow(2**31) if command.new_seed else race.seed
    return [race.restart(seed)]


# ------------------------------------------------------------------ racers
@_handles(SetHparam)
def _set_hparam(race: Race, command: SetHparam) -> list[Any]:
    """Change one hyperparameter of a running racer; a structural one (that decides which
    block the racer belongs to) rebuilds its group with every row's state carried over."""
    racer = race.racers[command.racer]
    if racer.terminal:
        raise ValueError(f"{racer.spec.name} has {racer.status}; fork or restart instead")
    if race.state == "finished":
        # the racer would take no step at the new value, and never be judged again
        raise ValueError("the race has finished; restart it to try another value")
    cls = get_optimizer(racer.spec.optimizer, racer.spec.flavor)
    canonical = cls.canonical_name(command.name)
    if canonical is None:
        cls.validate({command.name: command.value})  # raises the one-line error
        return []
    hparams = cls.validate({**racer.hparams, canonical: command.value})
    group = race.group_of(racer)
    if cls.spec(canonical).structural:
        racer.hparams = hparams
        group.rebuild([(r, group.saved_state(r)) for r in group.racers])
    else:
        block, row = group.block_of(racer)
        block.optimizer.set_hparam(row, canonical, hparams[canonical])
        racer.hparams = hparams
    racer.spec = replace(racer.spec, hparams=dict(hparams))
    race.rejudge(
        racer,
        f"{canonical} set to {hparams[canonical]:g} at step {group.step}: judged afresh from here",
    )
    return [RacersChanged(race.specs())]


@_handles(AddRacer)
def _add_racer(race: Race, command: AddRacer) -> list[Any]:
    """A new racer from the initial weights of repeat 0, named uniquely in the race."""
    cls = get_optimizer(command.optimizer, command.flavor)
    hparams = cls.validate(command.hparams)
    name = command.name or default_racer_name(cls.name, hparams, cls.flavor)
    names = {r.spec.name for r in race.racers.values()}
    base, suffix = name, 2
    while name in names:
        name, suffix = f"{base} ({suffix})", suffix + 1
    config = RacerConfig(name, cls.name, hparams, flavor=cls.flavor)
    colour_index = len(names)
    race.place(config, colour_index, 0, race.seed, racer_id=race.new_racer_id())
    return [RacersChanged(race.specs())]


@_handles(RemoveRacer)
def _remove_racer(race: Race, command: RemoveRacer) -> list[Any]:
    race.remove(race.racers[command.racer])
    return [RacersChanged(race.specs())]


@_handles(RestoreRacer)
def _restore_racer(race: Race, command: RestoreRacer) -> list[Any]:
    race.restore()
    return [RacersChanged(race.specs())]


@_handles(ForkRacer)
def _fork_racer(race: Race, command: ForkRacer) -> list[Any]:
    """A child racer that continues from its parent's weights and optimizer state with the
    changed hyperparameters (and its parent's counters, so both curves share the x-axis)."""
    parent = race.racers[command.racer]
    if parent.terminal:
        raise ValueError(f"{parent.spec.name} has {parent.status}; it cannot be forked")
    cls = get_optimizer(parent.spec.optimizer, parent.spec.flavor)
    hparams = cls.validate({**parent.hparams, **command.changes})
    changed = ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in command.changes.items()
    )
    name = command.name or f"{parent.spec.name} ({changed or 'fork'})"
    saved = race.group_of(parent).saved_state(parent)
    config = replace(_config_of(parent), name=name, hparams=hparams, colour=None)
    child = race.place(
        config,
        len({r.spec.name for r in race.racers.values()}),
        parent.spec.repeat,
        parent.spec.seed,
        params=saved["params"],
        saved=saved,
        parent=parent.id,
        racer_id=race.new_racer_id(),
    )
    for attribute in ("steps", "epoch", "seconds", "grad_evals", "best_loss", "batch_loss", "loss"):
        setattr(child, attribute, getattr(parent, attribute))
    return [RacersChanged(race.specs())]


def _config_of(racer: Racer) -> RacerConfig:
    """The configuration that would build ``racer`` as it is now."""
    spec = racer.spec
    return RacerConfig(
        name=spec.name,
        optimizer=spec.optimizer,
        hparams=dict(racer.hparams),
        schedule=None if racer.schedule is None else spec.schedule,
        start=spec.start,
        colour=spec.colour,
        grid_position=spec.grid_position,
        flavor=spec.flavor,
        batch_size=racer.batch_size,
    )


# ------------------------------------------------------------------ files
@_handles(SaveWeights)
def _save_weights(race: Race, command: SaveWeights) -> list[Any]:
    paths = race.save_weights(command.directory, archive=command.archive)
    return [WeightsSaved(tuple(str(p) for p in paths))]
