"""The race engine in-process: lockstep equals racing alone, commands, faults, exports."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from recorded_races import params_of, run_to_end

from tui_optim.engine.data import DataSpec
from tui_optim.engine.init import load_weights
from tui_optim.engine.optimizers import OPTIMIZERS
from tui_optim.engine.surfaces import get_surface
from tui_optim.race.messages import (
    AddRacer,
    CommandRejected,
    ForkRacer,
    Pause,
    RacersChanged,
    RaceStarted,
    RemoveRacer,
    Restart,
    Resume,
    SaveWeights,
    SetHparam,
    StepEpoch,
    WeightsSaved,
)
from tui_optim.race.race import Race
from tui_optim.scenario import ModelSpec, RacerConfig, Scenario, SurfaceSpec


def racer(name: str, optimizer: str, **hparams: float | bool) -> RacerConfig:
    return RacerConfig(name, optimizer, OPTIMIZERS[optimizer].validate(hparams))


def iris_scenario(racers: list[RacerConfig], epochs: int = 5, **changes: object) -> Scenario:
    scenario = Scenario(
        title="iris test",
        description="",
        seed=7,
        epochs=epochs,
        steps=None,
        target_loss=None,
        repeats=1,
        racers=tuple(racers),
        data=DataSpec("iris", scale="standard", validation=0.2),
        batch_size=32,
        shuffle=True,
        model=ModelSpec((4, 8, 3), hidden="selu", output="softmax", loss="cross_entropy"),
        name="iris-test",
    )
    return dataclasses.replace(scenario, **changes)


LINEUP = [
    racer("sgd", "sgd", lr=0.1),
    racer("sgd-mom", "sgd", lr=0.05, momentum=0.9),
    racer("adam", "adam", lr=0.01),
    racer("adam-2", "adam", lr=0.001),
    racer("rmsprop", "rmsprop", lr=0.001),
    racer("nesterov", "nesterov", lr=0.05),
]


def test_lockstep_equals_racing_alone() -> None:
    together = Race(iris_scenario(LINEUP))
    run_to_end(together)
    assert together.state == "finished"
    shared = params_of(together)
    for config in LINEUP:
        alone = Race(iris_scenario([config]))
        run_to_end(alone)
        np.testing.assert_allclose(
            params_of(alone)[config.name], shared[config.name], rtol=1e-13, atol=1e-15
        )


def test_every_racer_starts_equal_and_the_fingerprint_is_reproducible() -> None:
    first = Race(iris_scenario(LINEUP))
    rows = [first.current_params(r) for r in first.racers.values()]
    for row in rows[1:]:
        np.testing.assert_array_equal(row, rows[0])
    again = Race(iris_scenario(LINEUP))
    assert first.fingerprint == again.fingerprint
    fewer = Race(iris_scenario(LINEUP[:2]))
    assert fewer.fingerprint != first.fingerprint  # the racers are part of the race
    other_seed = Race(iris_scenario(LINEUP, seed=8))
    assert other_seed.fingerprint != first.fingerprint


def test_snapshots_stream_history_and_epochs() -> None:
    race = Race(iris_scenario(LINEUP[:2], epochs=3))
    run_to_end(race)
    snapshot = race.snapshot()
    assert snapshot.state == "finished"
    assert snapshot.epoch == pytest.approx(3.0)
    for stats in snapshot.racers:
        chunk = stats.new_points
        assert len(chunk.step) >= 3  # at least every epoch end
        assert np.all(np.diff(chunk.step) > 0)
        assert math.isfinite(stats.loss) and stats.val_loss is not None
        assert 0.0 <= (stats.val_accuracy or 0.0) <= 1.0
        assert len(stats.layers) == 2 and stats.layers[0].weight_norm > 0
    assert all(len(s.new_points.step) == 0 for s in race.snapshot().racers)  # taken once


def test_diverging_racer_is_frozen_and_the_others_go_on() -> None:
    lineup = [racer("hot", "sgd", lr=1e4), racer("calm", "adam", lr=0.01)]
    race = Race(iris_scenario(lineup, epochs=20))
    run_to_end(race)
    snapshot = race.snapshot()
    by_name = {race.racers[s.id].spec.name: s for s in snapshot.racers}
    assert by_name["hot"].status == "diverged"
    assert "diverged" in by_name["hot"].reason
    assert by_name["calm"].status != "diverged"
    assert by_name["calm"].epoch == pytest.approx(20.0)
    assert any(e.status == "diverged" for e in snapshot.events)


def test_pause_resume_and_step_one_epoch() -> None:
    race = Race(iris_scenario(LINEUP[:2], epochs=50))
    race.handle(Pause())
    race.advance(0.2)
    assert race.snapshot().epoch == 0
    race.handle(StepEpoch())
    run_to_end(race)
    assert race.state == "paused"
    assert race.snapshot().epoch == pytest.approx(1.0)
    race.handle(Resume())
    run_to_end(race)
    assert race.state == "finished"


def test_fork_without_changes_follows_its_parent_exactly() -> None:
    race = Race(iris_scenario([racer("adam", "adam", lr=0.01)], epochs=6))
    race.handle(StepEpoch())
    run_to_end(race)
    (parent,) = race.racers
    replies = race.handle(ForkRacer(parent, {}, name="twin"))
    assert isinstance(replies[0], RacersChanged) and len(replies[0].racers) == 2
    race.handle(Resume())
    run_to_end(race)
    rows = params_of(race)
    np.testing.assert_array_equal(rows["twin"], rows["adam"])


def test_fork_with_a_change_diverges_from_its_parent() -> None:
    race = Race(iris_scenario([racer("adam", "adam", lr=0.01)], epochs=4))
    race.handle(StepEpoch())
    run_to_end(race)
    race.handle(ForkRacer(0, {"lr": 0.001}))
    race.handle(Resume())
    run_to_end(race)
    names = [r.spec.name for r in race.racers.values()]
    assert names == ["adam", "adam (lr=0.001)"]
    child = race.racers[max(race.racers)]
    assert child.spec.parent == 0 and child.hparams["lr"] == 0.001
    rows = params_of(race)
    assert not np.array_equal(rows["adam"], rows["adam (lr=0.001)"])


def test_add_remove_and_live_hyperparameters() -> None:
    race = Race(iris_scenario(LINEUP[:2], epochs=3))
    (reply,) = race.handle(AddRacer("adamax", {"learning_rate": 0.002}))
    assert isinstance(reply, RacersChanged)
    added = race.racers[max(race.racers)]
    assert added.spec.name == "adamax lr=0.002" and added.hparams["lr"] == 0.002
    race.handle(SetHparam(added.id, "lr", 0.02))
    assert race.racers[added.id].spec.hparams["lr"] == 0.02
    block, row = race.group_of(added).block_of(added)
    assert block.optimizer.h["lr"][row, 0] == 0.02
    race.handle(RemoveRacer(0))
    assert 0 not in race.racers
    run_to_end(race)
    assert race.state == "finished"


@pytest.mark.parametrize(
    "command",
    [
        AddRacer("adma"),
        AddRacer("adam", {"lr": -1.0}),
        SetHparam(0, "lr", 0.0),
        SetHparam(0, "bogus", 1.0),
        RemoveRacer(99),
        ForkRacer(0, {"betas": (0.9, 1.5)}),
    ],
)
def test_bad_commands_are_rejected_with_one_line(command: object) -> None:
    race = Race(iris_scenario([racer("adam", "adam")], epochs=1))
    (reply,) = race.handle(command)  # type: ignore[arg-type]
    assert isinstance(reply, CommandRejected)
    assert reply.message and "\n" not in reply.message
    assert len(race.racers) == 1


def test_restart_with_the_same_seed_reproduces_the_race() -> None:
    race = Race(iris_scenario(LINEUP[:3], epochs=2))
    run_to_end(race)
    first = params_of(race)
    (started,) = race.handle(Restart())
    assert isinstance(started, RaceStarted) and started.fingerprint == race.fingerprint
    run_to_end(race)
    for name, row in params_of(race).items():
        np.testing.assert_array_equal(row, first[name])
    race.handle(Restart(new_seed=True))
    assert race.seed != 7


def test_an_exception_in_one_update_marks_that_racer_error(monkeypatch) -> None:
    from tui_optim.engine.optimizers.rmsprop import RMSprop

    calls = {"n": 0}
    original = RMSprop.step

    def failing_step(self, params, grads):  # a fault injected into one family's update
        calls["n"] += 1
        if calls["n"] > 3:
            raise FloatingPointError("injected fault")
        original(self, params, grads)

    monkeypatch.setattr(RMSprop, "step", failing_step)
    race = Race(iris_scenario(LINEUP, epochs=3))
    run_to_end(race)
    statuses = {r.spec.name: r.status for r in race.racers.values()}
    assert statuses.pop("rmsprop") == "error"
    assert "injected fault" in race.racers[4].reason
    assert all(status != "error" for status in statuses.values())
    assert race.state == "finished"


def test_groups_with_different_batch_sizes_stay_aligned_by_epoch() -> None:
    full = dataclasses.replace(racer("full", "sgd", lr=0.1), batch_size=None)
    stochastic = dataclasses.replace(racer("one", "sgd", lr=0.01), batch_size=1)
    race = Race(iris_scenario([full, stochastic], epochs=2, batch_size=None))
    race.advance(0.05)
    progress = [g.progress for g in race.groups.values() if g.racers]
    assert max(progress) - min(progress) <= 1.0
    run_to_end(race)
    snapshot = race.snapshot()
    assert {s.epoch for s in snapshot.racers} == {2.0}
    steps = sorted(s.step for s in snapshot.racers)
    assert steps == [2, 2 * 120]


def test_repeats_run_every_racer_over_seeds() -> None:
    race = Race(iris_scenario(LINEUP[:2], epochs=2, repeats=3))
    assert len(race.racers) == 6
    specs = race.specs()
    assert sorted({s.seed for s in specs}) == [7, 8, 9]
    assert {s.repeat for s in specs} == {0, 1, 2}
    run_to_end(race)


def test_save_weights_round_trips_as_init(tmp_path) -> None:
    race = Race(iris_scenario(LINEUP[:2], epochs=1))
    run_to_end(race)
    (reply,) = race.handle(SaveWeights(str(tmp_path)))
    assert isinstance(reply, WeightsSaved) and len(reply.paths) == 2
    mlp = race.problem.mlp  # type: ignore[attr-defined]
    arrays = load_weights(tmp_path / "sgd.npz", mlp)
    np.testing.assert_array_equal(mlp.from_arrays(arrays), params_of(race)["sgd"])


def test_surface_race_records_positions() -> None:
    scenario = Scenario(
        title="peaks",
        description="",
        seed=0,
        epochs=None,
        steps=10,
        target_loss=None,
        repeats=1,
        racers=(
            racer("sgd", "sgd", lr=0.03),
            dataclasses.replace(racer("sgd-far", "sgd", lr=0.03), start=(0.3, 1.3)),
        ),
        surface=SurfaceSpec("peaks", (-0.35, -0.67)),
        name="peaks",
    )
    race = Race(scenario)
    run_to_end(race)
    snapshot = race.snapshot()
    first = snapshot.racers[0].new_points
    assert first.position is not None and first.position.shape == (10, 2)
    # a point is where the racer is after its step, with f there
    surface = get_surface("peaks")
    for stats, start in zip(snapshot.racers, [(-0.35, -0.67), (0.3, 1.3)], strict=True):
        start_row = np.array([start])
        after = start_row - 0.03 * surface.gradient(start_row)
        np.testing.assert_allclose(stats.new_points.position[0], after[0])
        assert stats.new_points.loss[0] == surface.value(after)[0]
    # the plain gradient-descent rule, by hand

    surface = get_surface("peaks")
    point = np.array([[-0.35, -0.67]])
    for _ in range(10):
        point = point - 0.03 * surface.gradient(point)
    np.testing.assert_allclose(race.current_params(race.racers[0]), point[0], rtol=1e-13)


def test_at_the_end_no_racer_is_left_running() -> None:
    race = Race(iris_scenario([racer("adam", "adam"), racer("sgd", "sgd", lr=1e-4)], epochs=3))
    while race.state == "running":
        race.advance(1.0)
    snapshot = race.snapshot()
    assert race.state == "finished"
    for stats in snapshot.racers:
        assert stats.status == "finished"
        assert stats.reason.startswith("finished at epoch 3 (step ")
    assert [e.status for e in snapshot.events] == ["finished", "finished"]


def test_schedule_free_reports_loss_and_exports_weights_at_its_evaluation_point(
    tmp_path,
) -> None:
    """Schedule-free AdamW takes gradients at y but is evaluated at
    x = (y - (1 - b1) z) / b1: its loss, validation figures and saved weights are at x,
    while the other racers' stay at their weights."""
    configs = [racer("sf", "schedule_free_adamw", lr=0.05), racer("adam", "adam", lr=0.01)]
    race = Race(iris_scenario(configs, batch_size=None))
    by_name = {r.spec.name: r for r in race.racers.values()}
    group = race.group_of(by_name["sf"])
    problem = group.problem
    for _ in range(5):
        group.step_once(record=False)
    block, offset = group.block_of(by_name["sf"])
    y = block.params[offset].copy()
    z = block.optimizer.state["z"][offset]
    x = (y - 0.1 * z) / 0.9
    assert np.abs(x - y).max() > 1e-3  # the two points really differ
    scratch = np.empty((1, y.size))
    expected_sf = problem.loss_and_grad(x[None], None, scratch)[0]
    adam_row = group.row_of(by_name["adam"])
    expected_adam = problem.loss_and_grad(group.params[adam_row][None].copy(), None, scratch)[0]
    losses = group.step_once(record=False)
    assert losses[group.row_of(by_name["sf"])] == pytest.approx(expected_sf, rel=1e-12)
    assert losses[adam_row] == pytest.approx(expected_adam, rel=1e-12)
    assert expected_sf != pytest.approx(
        problem.loss_and_grad(y[None], None, scratch)[0], rel=1e-6
    )
    at = group.evaluation_params()
    np.testing.assert_array_equal(at[adam_row], group.params[adam_row])
    (reply,) = race.handle(SaveWeights(str(tmp_path)))
    assert isinstance(reply, WeightsSaved)
    mlp = race.problem.mlp  # type: ignore[attr-defined]
    saved = mlp.from_arrays(load_weights(tmp_path / "sf.npz", mlp))
    np.testing.assert_array_equal(saved, at[group.row_of(by_name["sf"])])
    assert np.abs(saved - group.params[group.row_of(by_name["sf"])]).max() > 1e-3


def test_schedule_free_validation_figures_are_at_its_evaluation_point() -> None:
    """The whole-training-set loss (and accuracy) and the validation figures of a
    schedule-free racer are evaluated at its evaluation point, the others' at their
    weights."""
    configs = [racer("sf", "schedule_free_adamw", lr=0.05), racer("adam", "adam", lr=0.01)]
    race = Race(iris_scenario(configs, epochs=2))
    run_to_end(race)
    assert race.state == "finished"
    problem = race.problem
    for name in ("sf", "adam"):
        found = next(r for r in race.racers.values() if r.spec.name == name)
        weights = race.current_params(found)[None].copy()
        assert found.val_loss == pytest.approx(problem.evaluate(weights, "val").loss[0], rel=1e-12)
        train = problem.evaluate(weights, "train")
        assert found.loss == pytest.approx(train.loss[0], rel=1e-12)
        assert found.accuracy == pytest.approx(train.accuracy[0], rel=1e-12)
    sf = next(r for r in race.racers.values() if r.spec.name == "sf")
    group = race.group_of(sf)
    raw = group.params[group.row_of(sf)][None].copy()
    assert sf.val_loss != pytest.approx(problem.evaluate(raw, "val").loss[0], rel=1e-6)
    assert sf.loss != pytest.approx(problem.evaluate(raw, "train").loss[0], rel=1e-6)


def test_a_failing_row_is_isolated_from_the_rest_of_its_block(monkeypatch) -> None:
    from tui_optim.engine.optimizers.rmsprop import RMSprop

    original = RMSprop.step

    def failing_step(self, params, grads):  # a fault in one row's hyperparameters only
        if np.any(self.h["lr"] == 0.00123):
            raise FloatingPointError("injected fault")
        original(self, params, grads)

    monkeypatch.setattr(RMSprop, "step", failing_step)
    rows = [racer("good", "rmsprop", lr=0.001), racer("bad", "rmsprop", lr=0.00123)]
    race = Race(iris_scenario(rows, epochs=2))
    (group,) = race.groups.values()
    assert len(group.blocks) == 1  # the two racers share one vectorised update
    run_to_end(race)
    statuses = {r.spec.name: r.status for r in race.racers.values()}
    assert statuses["bad"] == "error"
    assert statuses["good"] != "error"
    good = next(r for r in race.racers.values() if r.spec.name == "good")
    assert good.steps > 1
