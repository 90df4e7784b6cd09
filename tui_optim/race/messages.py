"""What flows between the race engine and whoever watches it (the app, the headless CLI).

Engine -> watcher: :class:`RaceStarted`, then :class:`Snapshot` at a bounded rate,
:class:`RacersChanged` when racers are added/removed/forked, :class:`EngineFailed` on a
fault, :class:`CommandRejected` and :class:`WeightsSaved` in reply to commands.
Watcher -> engine: the command dataclasses at the bottom. Everything is a small
frozen dataclass of plain values and NumPy arrays, so it pickles cheaply through a pipe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Status = Literal[
    "running", "converged", "stalled", "oscillating", "diverging", "diverged", "error", "finished"
]
RaceState = Literal["running", "paused", "finished", "stopped"]
#: Statuses a racer never leaves: it stopped training, its figures are frozen (and it is
#: ranked DNF).
TERMINAL_STATUSES: tuple[Status, ...] = ("diverged", "error")


@dataclass(frozen=True, slots=True)
class RacerSpec:
    """Static facts about a racer (sent when the race starts or racers change)."""

    id: int
    name: str
    slug: str
    optimizer: str
    hparams: dict[str, float | int | bool | str]  # str: a wrapper's inner optimizer
    colour: str  # a hex colour, "#rrggbb"
    schedule: str | None = None
    start: tuple[float, float] | None = None  # surfaces
    grid_position: tuple[int, int] | None = None
    parent: int | None = None  # the racer this one was forked from
    repeat: int = 0  # which of the scenario's `repeats` seeds (0-based); same name across repeats
    seed: int = 0  # seed of this racer's initial weights and batch order
    flavor: str = "torch"  # whose update rules and defaults: "torch" or "keras"


@dataclass(frozen=True, slots=True)
class Event:
    """A status change of one racer, with its plain-language reason."""

    racer: int
    step: int
    epoch: float
    seconds: float
    status: Status
    reason: str


@dataclass(frozen=True, slots=True)
class TimeToTarget:
    """When a racer's whole-training-set loss first fell to the target loss.

    ``exact``: the loss was evaluated at the step before too (and was above the target), so
    ``steps`` is the crossing step itself; otherwise ``steps`` is the first evaluation at or
    below the target and the crossing lies after step ``after`` (the last one known above).
    """

    steps: int
    epochs: float
    seconds: float
    grad_evals: int  # gradient evaluations (more than steps for L-BFGS and SAM)
    exact: bool = True
    after: int | None = None


@dataclass(frozen=True, slots=True)
class LayerStats:
    """Per-layer figures for the racer detail screen."""

    name: str
    weight_norm: float
    grad_norm: float
    update_ratio: float  # |update| / |weights|
    effective_step: float  # mean effective step size over the layer's parameters
    state_norms: dict[str, float]  # e.g. {"|m|": ..., "sqrt(v)": ...}


@dataclass(frozen=True, slots=True)
class HistoryChunk:
    """Points recorded since the previous snapshot (parallel arrays, possibly empty).

    A point is taken at each evaluation of the full training set (see
    :mod:`tui_optim.race.recorder`): ``loss`` is that loss at the weights of the point,
    ``batch_loss`` the mean loss of the mini-batches stepped on since the previous point.
    """

    step: np.ndarray
    epoch: np.ndarray
    seconds: np.ndarray
    loss: np.ndarray  # on the whole training set, at the point's weights
    batch_loss: np.ndarray  # mean mini-batch loss since the previous point
    val_loss: np.ndarray  # NaN where not measured
    accuracy: np.ndarray  # on the whole training set; NaN where not classification
    val_accuracy: np.ndarray  # on the validation split; NaN where not measured
    grad_norm: np.ndarray  # of the last mini-batch gradient
    update_ratio: np.ndarray
    sharpness: np.ndarray  # top Hessian eigenvalue; NaN where not measured
    grad_evals: np.ndarray  # gradient evaluations so far (one per step, more for L-BFGS, SAM)
    position: np.ndarray | None = None  # (n, 2) for surfaces


@dataclass(frozen=True, slots=True)
class RacerStats:
    """One racer's figures at a snapshot."""

    id: int
    status: Status
    reason: str
    step: int
    epoch: float
    #: The loss on the whole training set at the weights of the last evaluation (NaN before
    #: the first): the one loss every view, the ranking and the diagnosis use.
    loss: float
    batch_loss: float  # the loss of the last mini-batch stepped on
    val_loss: float | None
    accuracy: float | None  # on the whole training set, with ``loss``
    val_accuracy: float | None
    best_loss: float  # the lowest ``loss`` evaluated so far
    grad_norm: float
    update_norm: float
    update_ratio: float
    effective_step: float
    steps_per_s: float
    seconds: float
    grad_evals: int  # gradient evaluations so far
    time_to_target: TimeToTarget | None
    position: tuple[float, float] | None
    layers: tuple[LayerStats, ...]
    new_points: HistoryChunk
    #: Time series: mean steps predicted ahead on validation before drifting off (or None).
    horizon: float | None = None
    #: Top eigenvalue of the training loss's Hessian at the last estimate (None before).
    sharpness: float | None = None
    #: The curvature above which this racer's optimizer is unstable (None: no fixed one).
    stability_limit: float | None = None


@dataclass(frozen=True, slots=True)
class ProblemInfo:
    """What a watcher needs to draw the problem."""

    kind: Literal["mlp", "surface"]
    description: str  # e.g. "MLP 4-8-3 selu/softmax, cross_entropy on iris (120 train, 30 val)"
    is_classification: bool
    surface: str | None = None
    bounds: tuple[float, float, float, float] | None = None
    minima: tuple[tuple[float, float], ...] = ()
    steps_per_epoch: int = 1
    #: The racers report a validation loss and accuracy (the data has a split).
    has_validation: bool = False


@dataclass(frozen=True, slots=True)
class RaceStarted:
    title: str
    scenario: str
    seed: int
    fingerprint: str
    problem: ProblemInfo
    racers: tuple[RacerSpec, ...]
    total_epochs: int | None
    total_steps: int | None
    target_loss: float | None
    repeats: int = 1
    #: What the leaderboard ranks by (None: validation loss if there is a split, else loss).
    rank_by: str | None = None
    #: The scenario's "what to look for" text (empty when it has none).
    notes: str = ""
    grid: tuple[tuple[str, tuple[object, ...]], tuple[str | None, tuple[object, ...]]] | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    step: int
    epoch: float
    seconds: float
    state: RaceState
    racers: tuple[RacerStats, ...]
    events: tuple[Event, ...] = ()


@dataclass(frozen=True, slots=True)
class RacersChanged:
    racers: tuple[RacerSpec, ...]


@dataclass(frozen=True, slots=True)
class EngineFailed:
    """The engine (or one of its processes) stopped unexpectedly.

    ``invalid_scenario``: the child's deep check of the scenario (data and model) failed
    before the race began; ``message`` is then the one-line ScenarioError for the user.
    """

    message: str
    invalid_scenario: bool = False


@dataclass(frozen=True, slots=True)
class WeightsSaved:
    """Reply to :class:`SaveWeights`: the files written, one ``<slug>.npz`` per racer."""

    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CommandRejected:
    """A command the engine could not carry out (e.g. an out-of-range hyperparameter)."""

    command: str
    message: str


# ---------------------------------------------------------------- commands (watcher -> engine)
@dataclass(frozen=True, slots=True)
class Pause:
    pass


@dataclass(frozen=True, slots=True)
class Resume:
    pass


@dataclass(frozen=True, slots=True)
class StepEpoch:
    """Run one epoch, then pause."""


@dataclass(frozen=True, slots=True)
class Stop:
    pass


@dataclass(frozen=True, slots=True)
class SetPace:
    """Train at most ``steps_per_second`` steps (of the race's step count) per second of
    race time; None: as fast as the machine goes."""

    steps_per_second: float | None


@dataclass(frozen=True, slots=True)
class Restart:
    new_seed: bool = False


@dataclass(frozen=True, slots=True)
class SetHparam:
    racer: int
    name: str
    value: float | int | bool


@dataclass(frozen=True, slots=True)
class AddRacer:
    optimizer: str
    hparams: dict[str, float | int | bool] = field(default_factory=dict)
    name: str | None = None
    flavor: str = "torch"


@dataclass(frozen=True, slots=True)
class RemoveRacer:
    racer: int


@dataclass(frozen=True, slots=True)
class RestoreRacer:
    """Bring back the racer removed last, as it was when removed: weights, optimizer state,
    counters and status (it sat out the steps taken while it was out)."""


@dataclass(frozen=True, slots=True)
class ForkRacer:
    """Copy a racer's current parameters and optimizer state under a new name."""

    racer: int
    changes: dict[str, float | int | bool] = field(default_factory=dict)
    name: str | None = None


@dataclass(frozen=True, slots=True)
class SaveWeights:
    """Write every racer's current parameters to ``directory/<slug>.npz`` (atomically).

    MLP racers get ``W1, b1, W2, b2 ...`` in Keras layout (loadable again as ``init``);
    surface racers get ``w``. With ``archive`` the target is one ``.npz`` file holding every
    racer's arrays as ``<slug>/W1`` ... instead. The engine replies :class:`WeightsSaved`.
    """

    directory: str
    archive: bool = False


Command = (
    Pause
    | Resume
    | StepEpoch
    | Stop
    | SetPace
    | Restart
    | SetHparam
    | AddRacer
    | RemoveRacer
    | RestoreRacer
    | ForkRacer
    | SaveWeights
)
