"""Diagnosis on crafted loss sequences and on real runs of the engine."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from tui_optim.engine.optimizers import OPTIMIZERS
from tui_optim.race.diagnosis import HealthMonitor, Observation
from tui_optim.race.race import Race
from tui_optim.scenario import RacerConfig, load_scenario


def feed(monitor: HealthMonitor, losses, **figures: float | list[float]) -> list:
    """Feed one observation per loss; a figure is a constant or a list (one per epoch)."""
    verdicts = []
    for epoch, loss in enumerate(losses, start=1):

        def figure(name: str, default: float, epoch: int = epoch) -> float:
            value = figures.get(name, default)
            return float(value[epoch - 1]) if isinstance(value, list) else float(value)

        obs = Observation(
            step=epoch * 4,
            epoch=float(epoch),
            seconds=epoch / 100,
            loss=float(loss),
            grad_norm=figure("grad_norm", 1.0),
            update_norm=figure("update_norm", 1e-2),
            param_norm=figure("param_norm", 1.0),
            effective_step=figure("effective_step", 1e-3),
        )
        verdict = monitor.observe(obs)
        if verdict is not None:
            verdicts.append(verdict)
    return verdicts


def test_exponential_decay_to_the_target_converges_once() -> None:
    monitor = HealthMonitor("adam", target_loss=0.01)
    verdicts = feed(monitor, [math.exp(-0.1 * e) for e in range(100)])
    assert [v.status for v in verdicts] == ["converged"]
    assert "below the target 0.01" in verdicts[0].reason


def test_a_loss_just_below_the_target_is_shown_with_the_digits_that_tell_them_apart() -> None:
    monitor = HealthMonitor("sgd", target_loss=0.05)
    (verdict,) = feed(monitor, [0.3, 0.2, 0.0498])
    assert "the loss 0.0498 is below the target 0.05" in verdict.reason


def test_decay_to_a_low_plateau_converges_without_a_target() -> None:
    monitor = HealthMonitor("adam", target_loss=None)
    losses = [max(0.01, math.exp(-0.2 * e)) for e in range(120)]
    assert feed(monitor, losses)[-1].status == "converged"


def test_a_high_plateau_stalls_with_the_epoch_it_started() -> None:
    monitor = HealthMonitor("sgd", target_loss=0.1)
    losses = [1.0 - 0.02 * e for e in range(20)] + [0.6] * 40
    verdicts = feed(monitor, losses)
    assert verdicts[-1].status == "stalled"
    assert "stalled since epoch 21" in verdicts[-1].reason  # the plateau began at epoch 21


def test_adagrad_stall_is_explained_by_its_shrinking_step() -> None:
    monitor = HealthMonitor("adagrad", target_loss=0.1)
    # lr / sqrt(accumulated g^2): the step shrinks like 1 / sqrt(t)
    shrinking = [3e-4 / math.sqrt(e) for e in range(1, 41)]
    verdicts = feed(monitor, [0.9] * 40, effective_step=shrinking)
    assert verdicts[-1].status == "stalled"
    expected = "Adagrad's effective step fell to 6.4e-05 (from 0.0003) as squared gradients"
    assert expected in (verdicts[-1].reason)


def test_an_adagrad_stall_with_a_steady_step_is_not_blamed_on_accumulation() -> None:
    monitor = HealthMonitor("adagrad", target_loss=0.1)
    verdicts = feed(monitor, [0.9] * 40, effective_step=3e-4)
    assert verdicts[-1].status == "stalled"
    assert "accumulated" not in verdicts[-1].reason


def test_small_wiggles_of_a_stuck_loss_are_a_stall_not_an_oscillation() -> None:
    monitor = HealthMonitor("sgd", target_loss=0.01)
    verdicts = feed(monitor, [0.9 + 1e-4 * (-1) ** e for e in range(40)])
    assert [v.status for v in verdicts] == ["stalled"]


def test_diagnoses_do_not_flap_near_their_thresholds() -> None:
    """Once stalled, a racer needs clearly better progress (3x the threshold) to run again."""
    monitor = HealthMonitor("sgd", target_loss=0.01)
    losses = [1.0] * 30 + [1.0 - 0.0006 * e for e in range(1, 60)]  # ~1.2% per 20 epochs
    assert [v.status for v in feed(monitor, losses)] == ["stalled"]


def test_stalled_and_oscillating_do_not_swap_every_few_epochs() -> None:
    """A flat loss whose noise comes and goes in bursts: one "no progress" diagnosis, not a
    swap between stalled and oscillating with every burst."""
    rng = np.random.default_rng(3)
    losses = []
    for burst in range(12):
        amplitude = 0.03 if burst % 2 else 0.002
        losses += [0.5 + amplitude * (-1) ** e + 1e-4 * rng.standard_normal() for e in range(8)]
    monitor = HealthMonitor("sgd", target_loss=0.01)
    statuses = [v.status for v in feed(monitor, losses)]
    assert len(statuses) <= 3, statuses


def test_real_iris_grid_does_not_swap_between_stalled_and_oscillating() -> None:
    """24 racers on iris for 600 epochs: a racer that makes no progress keeps one of the
    two diagnoses instead of swapping them every few epochs (the event log stays readable
    and the cards stay still). Spikes of a high learning rate still show as they happen."""
    scenario = dataclasses.replace(load_scenario("iris_grid"), epochs=600)
    race = Race(scenario)
    race.advance(600.0)
    assert race.state == "finished"
    swaps: dict[int, int] = {}
    last: dict[int, str] = {}
    for event in race.events:
        if {last.get(event.racer), event.status} == {"stalled", "oscillating"}:
            swaps[event.racer] = swaps.get(event.racer, 0) + 1
        last[event.racer] = event.status
    assert max(swaps.values(), default=0) <= 2, sorted(swaps.items())


def test_vanishing_updates_stall() -> None:
    monitor = HealthMonitor("sgd", target_loss=None)
    verdicts = feed(monitor, [1.0 - 0.001 * e for e in range(40)], update_norm=1e-9)
    assert verdicts[-1].status == "stalled" and "of the weights" in verdicts[-1].reason


def test_zig_zag_oscillates() -> None:
    monitor = HealthMonitor("sgd", target_loss=0.01)
    verdicts = feed(monitor, [1.0 + 0.3 * (-1) ** e for e in range(40)])
    assert verdicts[-1].status == "oscillating" and "too high" in verdicts[-1].reason


def test_growth_is_diverging_then_diverged_and_that_is_final() -> None:
    monitor = HealthMonitor("sgd", target_loss=0.01)
    verdicts = feed(monitor, [1.0, 0.9, 0.8] + [0.8 * 3**e for e in range(1, 12)])
    statuses = [v.status for v in verdicts]
    assert statuses[0] == "diverging" and statuses[-1] == "diverged"
    assert feed(monitor, [0.001] * 10) == []  # nothing changes a diverged racer


def test_non_finite_names_the_step_and_layer() -> None:
    verdict = HealthMonitor("adam", None).non_finite(1234, 12.0, 1.0, "the gradient of layer 2")
    assert verdict.status == "diverged"
    assert verdict.reason == (
        "diverged at step 1234 (epoch 12): the gradient of layer 2 became NaN or inf"
    )


def test_noisy_but_decreasing_loss_does_not_flicker() -> None:
    rng = np.random.default_rng(0)
    losses = [math.exp(-0.03 * e) * (1 + 0.05 * rng.standard_normal()) for e in range(80)]
    verdicts = feed(HealthMonitor("sgd", target_loss=0.001), losses)
    assert verdicts == []


def iris_race(optimizer: str, lr: float, epochs: int) -> Race:
    scenario = load_scenario("iris_grid")
    config = RacerConfig(f"{optimizer} {lr}", optimizer, OPTIMIZERS[optimizer].validate({"lr": lr}))
    race = Race(dataclasses.replace(scenario, racers=(config,), epochs=epochs, grid=None))
    while race.state == "running":
        race.advance(1.0)
    return race


def test_real_run_sgd_lr_10_on_iris_diverges() -> None:
    race = iris_race("sgd", 10.0, 50)
    (racer,) = race.racers.values()
    assert racer.status == "diverged", racer.reason
    assert "diverged" in racer.reason


def test_real_run_adagrad_lr_1e_4_on_iris_stalls() -> None:
    race = iris_race("adagrad", 1e-4, 150)
    (racer,) = race.racers.values()
    assert racer.status == "stalled", racer.reason
    assert "Adagrad's effective step" in racer.reason


def test_real_run_adam_converges_or_keeps_running() -> None:
    race = iris_race("adam", 0.01, 300)
    (racer,) = race.racers.values()
    assert racer.status in ("converged", "running"), racer.reason


def test_the_end_of_the_race_turns_running_into_finished_and_keeps_diagnoses() -> None:
    running = HealthMonitor("adam", target_loss=0.01)
    for epoch, loss in enumerate((0.9, 0.5, 0.3, 0.25), start=1):
        assert (
            running.observe(Observation(step=10 * epoch, epoch=epoch, seconds=0, loss=loss)) is None
        )
    verdict = running.finish(step=40, epoch=4.0, loss=0.25)
    assert verdict is not None and verdict.status == "finished"
    assert verdict.reason == (
        "finished at epoch 4 (step 40): loss 0.25, best 0.25, target 0.01 not reached"
    )
    stalled = HealthMonitor("adagrad", target_loss=None)
    stalled.status = "stalled"
    assert stalled.finish(step=500, epoch=50.0, loss=0.2) is None
    assert stalled.status == "stalled"
