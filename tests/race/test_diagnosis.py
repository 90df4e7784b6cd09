"""The diagnosis bench: labelled cases, each with the badge a teacher would give and why.

Real races of the built-in scenarios (surfaces and small MLPs) and crafted loss sequences.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

import numpy as np
import pytest

from tui_optim.engine.optimizers import get_optimizer
from tui_optim.engine.problems import power_iteration
from tui_optim.race.diagnosis import HealthMonitor, Landscape, Observation
from tui_optim.race.messages import Event, SetHparam
from tui_optim.race.race import Race
from tui_optim.scenario import load_scenario


@dataclass(frozen=True)
class Raced:
    status: dict[str, str]
    reason: dict[str, str]
    events: dict[str, list[Event]]


@functools.cache
def raced(name: str) -> Raced:
    race = Race(load_scenario(name))
    events: list[Event] = []
    while race.state == "running":
        race.advance(1.0)
        events += race.snapshot().events
    names = {r.id: r.spec.name for r in race.racers.values()}
    by_name: dict[str, list[Event]] = {n: [] for n in names.values()}
    for event in events:
        by_name[names[event.racer]].append(event)
    return Raced(
        {r.spec.name: r.status for r in race.racers.values()},
        {r.spec.name: r.reason for r in race.racers.values()},
        by_name,
    )


@dataclass(frozen=True)
class Case:
    scenario: str
    racer: str
    allowed: tuple[str, ...]  # badges a teacher would accept once the race is over
    why: str
    evidence: str = ""  # a regular expression the final reason must match


BENCH = (
    Case(
        "rosenbrock",
        "Adam",
        ("converged",),
        "f = 1.8e-12 at (1.000, 1.000): the gradient vanished and f stopped changing",
        r"converged at step \d+ at \(\d\.\d+, \d\.\d+\), the global minimum",
    ),
    Case(
        "rosenbrock",
        "RMSprop",
        ("finished",),
        "f = 0.025 with |gradient| 6: bouncing across the valley floor, not converged",
        r"finished at step 2000: f = 0\.02\d, best 0\.02\d",
    ),
    Case(
        "saddle",
        "momentum 0.9",
        ("diverging",),
        "f runs away to -inf (-5e9 after 60 steps) on a function unbounded below",
        r"no minimum, the racer runs away to -inf",
    ),
    Case(
        "beale",
        "Adadelta",
        ("oscillating",),
        "its loss rises from 0.010 to 0.027 at the end: never converged while rising",
        r"the steps reversed direction in \d+ of \d+ moves while f went from 0\.01\d to 0\.0",
    ),
    Case(
        "beale",
        "RMSprop",
        ("converged",),
        "at the minimum by step 925, then thrown out to f = 0.031 and back: its step does not "
        "shrink with the gradient, and the reason must say so rather than hide the spike",
        r"the global minimum .*; then f jumped to 0\.031 at step 975 and ended at 4\.2e-06",
    ),
    Case(
        "peaks_learning_rates",
        "sgd lr=0.1",
        ("oscillating",),
        "bounces around the minimum: the basin's curvature 30 is above 2/lr = 20",
        r"sharpness \d+ > 2/lr = 20",
    ),
    Case(
        "peaks_learning_rates",
        "sgd lr=0.07",
        ("oscillating",),
        "a two-step cycle across the valley: curvature 30 just above 2/lr = 29",
        r"sharpness \d+ > 2/lr = 29",
    ),
    Case(
        "peaks_learning_rates",
        "sgd lr=0.03",
        ("converged",),
        "reaches the global minimum in a few steps",
        r"the global minimum",
    ),
    Case(
        "peaks_learning_rates",
        "sgd lr=0.006",
        ("finished",),
        "still on its way after 30 steps: its last loss is its best",
        r"finished at step 30: f = (-?[\d.]+), best \1$",
    ),
    Case(
        "iris_grid",
        "sgd lr=0.001",
        ("finished",),
        "a slowly but steadily falling training loss: its last loss is its best",
        r"finished at epoch 400 \(step 1600\): loss ([\d.]+), best \1$",
    ),
    Case(
        "iris_grid",
        "adam lr=0.01",
        ("converged",),
        "the training loss has flattened out near 0.03 well before the 400 epochs end",
        r"converged at epoch \d+: the loss settled at 0\.0\d+",
    ),
    Case(
        "iris_grid",
        "rmsprop lr=0.0001",
        ("finished",),
        "a slowly but steadily falling training loss: its last loss is its best",
        r"finished at epoch 400 \(step 1600\): loss ([\d.]+), best \1$",
    ),
    # digits_grid: 5 epochs on 1437 examples, one evaluation an epoch: too few for a trend,
    # judged at the end on what the five show
    Case(
        "digits_grid",
        "rmsprop lr=0.1",
        ("diverging",),
        "the loss climbs from 2.6 to 3.4 (worse than guessing, ln 10 = 2.3): lr too large",
        r"diverging at the end \(epoch 5\): the loss rose from 2\.6 at epoch 1 to 3\.4 .*"
        r"5 evaluations, too few for a trend",
    ),
    Case(
        "digits_grid",
        "adam lr=0.1",
        ("stalled",),
        "stuck at chance level (2.2, 19% accuracy) since epoch 2 while others reach 0.01",
        r"stalled since epoch 2: the loss 2\.24\d* has not gone below its best 2\.23\d* in the "
        r"last 3 evaluations, 2\.2\d* above the best racer \(0\.009\d*\)",
    ),
    Case(
        "digits_grid",
        "nadam lr=0.1",
        ("stalled",),
        "no better than its second epoch (2.0) and at chance level: a dead network",
        r"stalled since epoch 2",
    ),
    Case(
        "digits_grid",
        "sgd lr=0.0005",
        ("finished",),
        "slow but falling at every epoch (2.66 to 2.0): train it longer, not a stall",
        r"finished at epoch 5 \(step 225\)",
    ),
)


@pytest.mark.parametrize("case", BENCH, ids=lambda c: f"{c.scenario}:{c.racer}")
def test_the_bench(case: Case) -> None:
    race = raced(case.scenario)
    status, reason = race.status[case.racer], race.reason[case.racer]
    assert status in case.allowed, f"{case.why}; got {status}: {reason}"
    if case.evidence:
        assert re.search(case.evidence, reason), reason


@pytest.mark.parametrize("scenario", ["rosenbrock", "beale", "peaks_learning_rates", "iris_grid"])
def test_no_racer_alternates_and_no_ratio_of_negative_losses(scenario: str) -> None:
    race = raced(scenario)
    for name, events in race.events.items():
        statuses = [e.status for e in events]
        for a, b, c, d in zip(statuses, statuses[1:], statuses[2:], statuses[3:], strict=False):
            assert not (a == c and b == d and a != b), (name, statuses)
        for event in events:
            assert "of its initial value" not in event.reason


def test_a_live_lr_edit_does_not_make_nesterov_flap() -> None:
    race = Race(load_scenario("quickstart"))
    while race.state == "running" and race.snapshot().epoch < 5:
        race.advance(0.2)
    (nesterov,) = [r for r in race.racers.values() if r.spec.name == "Nesterov"]
    race.handle(SetHparam(nesterov.id, "lr", 0.5))
    statuses = []
    start = race.snapshot().epoch
    while race.state == "running" and race.snapshot().epoch < start + 60:
        race.advance(0.2)
        statuses += [e.status for e in race.snapshot().events if e.racer == nesterov.id]
    assert len(statuses) <= 3, statuses


def test_an_edit_withdraws_a_badge_until_the_racer_is_judged_again() -> None:
    """A converged racer kicked above the target by a live edit must not keep its ✔ while
    its loss is three times the target: the edit starts its diagnosis afresh."""
    race = Race(load_scenario("quickstart"))
    (adam,) = [r for r in race.racers.values() if r.spec.name == "Adam"]
    while race.state == "running" and adam.status != "converged":
        race.advance(0.2)
    reached = adam.time_to_target
    assert adam.status == "converged" and reached is not None
    race.handle(SetHparam(adam.id, "lr", 0.05))
    assert adam.status == "running"
    assert re.fullmatch(r"lr set to 0\.05 at step \d+: judged afresh from here", adam.reason)
    assert [e.status for e in race.snapshot().events if e.racer == adam.id][-1] == "running"
    assert adam.time_to_target == reached


# ------------------------------------------------------------------ crafted sequences
def feed(monitor: HealthMonitor, losses, leader: float = math.nan, **figures) -> list:
    verdicts = []
    for epoch, loss in enumerate(losses, start=1):
        obs = Observation(
            step=epoch * 4,
            epoch=float(epoch),
            seconds=epoch / 100,
            loss=float(loss),
            grad_norm=1.0,
            update_norm=1e-2,
            param_norm=1.0,
            effective_step=float(figures.get("effective_step", [1e-3] * len(losses))[epoch - 1]),
            leader_loss=leader,
            sharpness=figures.get("sharpness", math.nan),
            stability=figures.get("stability"),
        )
        verdict = monitor.observe(obs)
        if verdict is not None:
            verdicts.append(verdict)
    return verdicts


def test_a_short_race_is_judged_at_its_end_on_what_its_few_evaluations_show() -> None:
    """Five evaluations never fill half a window: at the finish a loss well above its
    first evaluation is diverging, one stuck above its best for two evaluations while far
    behind is stalled, and a falling one is finished."""

    def ended(losses: list[float], leader: float = 0.01, target: float | None = None) -> str:
        monitor = HealthMonitor(target)
        feed(monitor, losses)
        verdict = monitor.finish(5 * len(losses), float(len(losses)), losses[-1], leader)
        return "running" if verdict is None else verdict.status

    assert ended([2.5, 2.7, 3.4, 5.0, 3.3]) == "diverging"
    assert ended([2.4, 2.2, 2.3, 2.4, 2.25]) == "stalled"
    assert ended([2.4, 2.2, 2.3, 2.4, 2.25], leader=2.1) == "finished"  # not behind
    assert ended([2.4, 2.2, 2.3, 2.4, 2.25], target=2.1) == "finished"  # near the target
    assert ended([2.7, 2.5, 2.3, 2.1, 2.0]) == "finished"
    assert ended([0.16, 0.13, 0.15, 0.07, 0.15]) == "finished"  # its best one evaluation ago
    assert ended([2.4] * 12) == "finished"  # a longer history is judged by its trend


def test_reaching_the_target_converges_at_once_with_the_digits_that_tell_them_apart() -> None:
    verdicts = feed(HealthMonitor(0.05), [0.3, 0.2, 0.0498])
    assert [v.status for v in verdicts] == ["converged"]
    assert "the loss 0.0498 is below the target 0.05" in verdicts[0].reason


def test_a_crossing_seen_between_evaluations_is_the_step_the_reason_names() -> None:
    # the recorder watched the racer step by step and saw it cross at step 288; the
    # verdict comes at the evaluation of step 350, and names both
    monitor = HealthMonitor(0.05)
    feed(monitor, [0.3, 0.2])
    obs = Observation(step=350, epoch=35.0, seconds=1.0, loss=0.027, crossed=(288, 28.8))
    verdict = monitor.observe(obs)
    assert verdict is not None and verdict.status == "converged"
    assert verdict.reason == (
        "converged: the loss fell below the target 0.05 at step 288 (epoch 28.8); "
        "0.027 at epoch 35 (step 350)"
    )


def test_the_reason_of_a_target_reached_names_the_step_the_table_shows() -> None:
    race = Race(load_scenario("quickstart"))
    while race.state == "running":
        race.advance(1.0)
    for racer in race.racers.values():
        assert racer.time_to_target is not None, racer.spec.name
        assert f"step {racer.time_to_target.steps} " in racer.reason, racer.reason


def test_a_racer_converged_at_the_target_still_diverges_when_its_loss_blows_up() -> None:
    # below the target from the start, then a thousand times its best: judged although a
    # converged racer below the target is otherwise not judged again
    verdicts = feed(HealthMonitor(10.0), [0.01, 0.005, 0.004, 6.0])
    assert [v.status for v in verdicts] == ["converged", "diverged"]
    assert "the loss 6 is over 1000 times its best 0.004" in verdicts[-1].reason


def test_a_converged_racer_keeps_its_badge_and_its_final_reason_tells_of_a_jump() -> None:
    monitor = HealthMonitor(0.05)
    feed(monitor, [1.0, 0.5, 0.04, 0.03, 0.9, 0.03, 0.02])
    verdict = monitor.finish(28, 7.0, 0.02)
    assert verdict is not None and verdict.status == "converged"
    assert verdict.reason.endswith("; then the loss jumped to 0.9 at epoch 5 and ended at 0.02")


def test_a_badge_kept_to_the_end_says_how_far_the_loss_fell_since() -> None:
    # up and down without net progress (oscillating), then a fall the rules, window by
    # window, never saw as a trend: the badge stays, the final reason tells of the fall
    monitor = HealthMonitor(None)
    jagged = [0.5 + (0.2 if e % 2 else -0.2) for e in range(30)]
    verdicts = feed(monitor, [1.0, *jagged], leader=0.1)
    assert verdicts[-1].status == "oscillating"
    verdict = monitor.finish(200, 50.0, 0.05)
    assert verdict is not None and verdict.status == "oscillating"
    assert verdict.reason.startswith(verdicts[-1].reason)
    assert verdict.reason.endswith("; by the end the loss had fallen from 0.3 to 0.05")
    unchanged = HealthMonitor(None)
    feed(unchanged, [1.0, *jagged], leader=0.1)
    assert unchanged.finish(200, 50.0, 0.25) is None  # not under half: nothing to add


def test_jitter_at_the_bottom_is_not_a_jump() -> None:
    # 0.1% of the way down (1 -> 0.03) is 0.001: these wiggles stay below it
    monitor = HealthMonitor(0.05)
    feed(monitor, [1.0, 0.5, 0.04, 0.03, 0.0305, 0.0298, 0.03])
    assert monitor.finish(28, 7.0, 0.03) is None


def test_noisy_but_falling_is_running_not_oscillating() -> None:
    rng = np.random.default_rng(0)
    losses = [1.0 - 0.01 * e + rng.normal(0, 0.03) for e in range(60)]
    assert all(v.status != "oscillating" for v in feed(HealthMonitor(None), losses))


def test_a_flat_loss_far_above_the_best_racer_stalls_and_says_by_how_much() -> None:
    losses = [1.0 - 0.02 * e for e in range(20)] + [0.6] * 40
    verdicts = feed(HealthMonitor(None), losses, leader=0.05)
    assert verdicts[-1].status == "stalled"
    assert "0.55 above the best racer (0.05)" in verdicts[-1].reason


def test_a_flat_loss_level_with_the_best_racer_converges() -> None:
    losses = [1.0 - 0.02 * e for e in range(20)] + [0.6] * 40
    assert feed(HealthMonitor(None), losses, leader=0.6)[-1].status == "converged"


def test_a_loss_settled_far_below_its_start_converges_and_says_how_far_down() -> None:
    # behind a best racer at 0.001, but settled at 4% of where it started, creeping down
    # within its noise fast enough to close the gap (a flat one would be stalled)
    losses = [1.0 - 0.048 * e for e in range(20)]
    losses += [0.04 - 3e-5 * e + (6e-4 if e % 2 else -6e-4) for e in range(40)]
    verdicts = feed(HealthMonitor(None), losses, leader=0.001)
    assert verdicts[-1].status == "converged"
    assert re.search(r"settled at 0\.0\d+, \d\.\d% of its initial 1:", verdicts[-1].reason)
    assert verdicts[-1].reason.endswith("the best racer 0.001")


def test_a_rising_loss_is_never_converged() -> None:
    losses = [0.5 - 0.01 * e for e in range(30)] + [0.2 + 0.004 * e for e in range(60)]
    verdicts = feed(HealthMonitor(None), losses, leader=0.2)
    assert verdicts and verdicts[-1].status == "diverging"
    assert "rose from" in verdicts[-1].reason


def test_an_adagrad_stall_names_its_shrinking_step_from_the_optimizer_class() -> None:
    shrinking = [3e-4 / math.sqrt(e) for e in range(1, 61)]
    monitor = HealthMonitor(0.1, shrinking_step=get_optimizer("adagrad").shrinking_step)
    verdicts = feed(monitor, [0.9] * 60, effective_step=shrinking)
    assert verdicts[-1].status == "stalled"
    assert "Adagrad's step only shrinks" in verdicts[-1].reason


def test_an_oscillation_above_the_stability_threshold_says_so_in_numbers() -> None:
    losses = [0.5 + (0.1 if e % 2 else -0.1) for e in range(40)]
    sgd = get_optimizer("sgd")
    stability = sgd.stability_threshold(sgd.validate({"lr": 0.1}))
    verdicts = feed(HealthMonitor(None), losses, sharpness=48.0, stability=stability)
    assert verdicts[-1].status == "oscillating"
    assert "sharpness 48 > 2/lr = 20" in verdicts[-1].reason


def test_stability_thresholds_come_from_the_optimizer_classes() -> None:
    def threshold(name: str, **hparams: float) -> float | None:
        cls = get_optimizer(name)
        found = cls.stability_threshold(cls.validate(hparams))
        return None if found is None else found[0]

    assert threshold("sgd", lr=0.1) == pytest.approx(20)
    assert threshold("sgd", lr=0.1, momentum=0.9) == pytest.approx(38)
    assert threshold("momentum", lr=0.1, gamma=0.9) == pytest.approx(38)
    assert threshold("adam", lr=0.1) is None


def test_power_iteration_finds_the_top_eigenvalue_of_a_quadratic() -> None:
    rng = np.random.default_rng(1)
    basis, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    hessian = basis @ np.diag([9.0, 3, 2, 1, 0.5, 0.1]) @ basis.T
    params = rng.normal(size=(2, 6))
    value, _ = power_iteration(lambda w: w @ hessian, params, None, 60)
    np.testing.assert_allclose(value, 9.0, rtol=1e-5)


def test_a_point_problem_left_its_basin() -> None:
    monitor = HealthMonitor(None, landscape=Landscape(((0.0, 0.0),), False, 10.0), unit="step")
    path = [(1.0 - 0.1 * i, 0.0) for i in range(11)] + [(0.2 * i, 0.0) for i in range(1, 15)]
    verdicts = []
    for step, (x, y) in enumerate(path, start=1):
        obs = Observation(
            step=step,
            epoch=step,
            seconds=0.0,
            loss=x * x,
            grad_norm=2 * abs(x) + 1e-3,
            position=(x, y),
        )
        verdict = monitor.observe(obs)
        if verdict is not None:
            verdicts.append(verdict)
    assert verdicts[-1].status == "diverging"
    assert "left the basin of its best point" in verdicts[-1].reason
