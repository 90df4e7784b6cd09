"""Sweep runner: blocks, pairing, divergence, and the same results however it is split."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
from sweep_scenarios import iris_sweep

from tui_optim.race.race import build_problem
from tui_optim.race.sweep import (
    CURVE_POINTS,
    BlockResult,
    SweepProcesses,
    WorkerFailed,
    plan_blocks,
    run_block,
    run_blocks,
)
from tui_optim.results.sweep import SweepRecord
from tui_optim.scenario import Scenario, parse_scenario

TWIN_SWEEP = '["sgd", { optimizer = "sgd", name = "twin" }, "adam"]'


def sweep_text(epochs: int, lr: str) -> str:
    return iris_sweep(epochs=epochs, optimizers=TWIN_SWEEP, lr=lr, seeds=3)


def scenario(epochs: int = 4, lr: str = "[0.001, 0.1, 100.0]") -> Scenario:
    return parse_scenario(sweep_text(epochs, lr), name="tiny")


def record_of(scenario: Scenario, results: list[BlockResult]) -> SweepRecord:
    record = SweepRecord(scenario)
    record.extend(results)
    return record


def test_blocks_cover_every_run_once_each_of_one_seed() -> None:
    spec = scenario().sweep
    assert spec is not None
    blocks = plan_blocks(spec, block_runs=4)
    indices = [run.index for block in blocks for run in block.runs]
    assert sorted(indices) == list(range(spec.runs))
    for block in blocks:
        assert len(block.runs) <= 4
        assert {run.seed_index for run in block.runs} == {block.seed_index}


def test_a_run_does_not_depend_on_which_runs_share_its_block() -> None:
    tiny = scenario()
    assert tiny.sweep is not None
    problem, _ = build_problem(tiny)
    together = record_of(tiny, list(run_blocks(tiny, plan_blocks(tiny.sweep), problem)))
    apart = record_of(tiny, list(run_blocks(tiny, plan_blocks(tiny.sweep, 2), problem)))
    assert together.complete and apart.complete
    for index, summary in together.summaries.items():
        other = apart.summaries[index]
        assert summary.status == other.status
        # the batched products round alike to the last bits, not always the very last
        np.testing.assert_allclose(summary.curve, other.curve, rtol=1e-6)
        np.testing.assert_allclose(summary.final_loss, other.final_loss, rtol=1e-12)
        np.testing.assert_allclose(summary.best_loss, other.best_loss, rtol=1e-12)


def test_seeds_pair_the_optimizers_and_differ_between_them() -> None:
    tiny = scenario()
    record = record_of(tiny, list(run_blocks(tiny, plan_blocks(tiny.sweep))))  # type: ignore[arg-type]
    for lr_index in range(2):
        for seed_index in range(3):
            sgd = record.summaries[record.index(0, lr_index, seed_index)]
            twin = record.summaries[record.index(1, lr_index, seed_index)]
            # same weights, same batches: the same run (to the rounding of its row)
            assert math.isclose(sgd.final_loss, twin.final_loss, rel_tol=1e-12)
    first = [record.summaries[record.index(0, 1, s)].final_loss for s in range(3)]
    assert len(set(first)) == 3  # other weights and batches


def test_a_diverging_run_leaves_its_block_and_the_others_go_on() -> None:
    tiny = scenario()
    record = record_of(tiny, list(run_blocks(tiny, plan_blocks(tiny.sweep))))  # type: ignore[arg-type]
    blown = record.summaries[record.index(0, 2, 0)]
    assert blown.status == "diverged" and "diverged at step" in blown.reason
    assert blown.steps < 16 and math.isnan(blown.final_loss)
    assert record.metric_of(blown) == math.inf
    assert record.cell(0, 2).diverged == 3
    fine = record.summaries[record.index(2, 1, 0)]
    assert fine.status == "finished" and math.isfinite(fine.final_loss)
    # the same run alone gives the same figures
    alone = replace(tiny, sweep=replace(tiny.sweep, entries=tiny.sweep.entries[2:]))  # type: ignore[arg-type]
    single = record_of(alone, list(run_blocks(alone, plan_blocks(alone.sweep))))  # type: ignore[arg-type]
    assert math.isclose(
        single.summaries[single.index(0, 1, 0)].final_loss, fine.final_loss, rel_tol=1e-12
    )
    # best per row: the tuned lr is never the diverged one
    assert record.tuned(0).lr in (0.001, 0.1)


def test_curves_are_short_and_summaries_are_all_that_is_kept() -> None:
    tiny = scenario(epochs=40)  # 160 steps -> 64 curve points
    assert tiny.sweep is not None
    block = plan_blocks(tiny.sweep)[0]
    result = run_block(tiny, block)
    for summary in result.summaries:
        assert summary.curve.dtype == np.float32 and summary.curve.shape == (CURVE_POINTS,)
    finished = [s for s in result.summaries if s.status == "finished"]
    assert all(np.isfinite(s.curve).all() for s in finished)
    # the curve's points are mean training losses: the last is near the best epoch mean
    assert all(s.best_loss <= s.curve[0] for s in finished)


def test_worker_processes_give_the_same_results_as_one() -> None:
    tiny = scenario()
    assert tiny.sweep is not None
    blocks = plan_blocks(tiny.sweep, block_runs=3)
    here = record_of(tiny, list(run_blocks(tiny, blocks)))
    pool = SweepProcesses(tiny, blocks, processes=2)
    results: list[BlockResult] = []
    pool.start()
    try:
        deadline = time.monotonic() + 60
        while len(results) < len(blocks) and time.monotonic() < deadline:
            for message in pool.poll(0.1):
                assert not isinstance(message, WorkerFailed), message
                if isinstance(message, BlockResult):
                    results.append(message)
    finally:
        pool.close()
    there = record_of(tiny, results)
    assert there.to_json() == here.to_json()


def test_a_keras_entry_steps_with_keras_rules() -> None:
    text = sweep_text(2, "[0.01]").replace(
        '"adam"]', '"adam", { optimizer = "adam", flavor = "keras" }]'
    )
    tiny = parse_scenario(text, name="tiny")
    assert tiny.sweep is not None
    record = record_of(tiny, list(run_blocks(tiny, plan_blocks(tiny.sweep))))
    torch_adam = record.summaries[record.index(2, 0, 0)]
    keras_adam = record.summaries[record.index(3, 0, 0)]
    assert torch_adam.status == keras_adam.status == "finished"
    # same start and batches, different epsilon and bias correction: close, not equal
    assert torch_adam.final_loss != keras_adam.final_loss
    assert math.isclose(torch_adam.final_loss, keras_adam.final_loss, rel_tol=0.05)


def test_closures_and_wrappers_step_in_a_sweep_and_count_their_gradient_evaluations() -> None:
    """L-BFGS drives closures, SAM evaluates twice a step and lookahead's learning rate is
    its inner optimizer's (``inner.lr``): each runs at every learning rate of the sweep."""
    text = (
        sweep_text(2, "[0.01, 0.1]")
        .replace("batch_size = 32", 'batch_size = "full"')
        .replace(
            TWIN_SWEEP,
            '["lbfgs", "sam", { optimizer = "lookahead", inner = "adam" }, "adam"]',
        )
    )
    assert "lbfgs" in text
    tiny = parse_scenario(text, name="tiny")
    assert tiny.sweep is not None
    record = record_of(tiny, list(run_blocks(tiny, plan_blocks(tiny.sweep))))
    assert all(s.status == "finished" for s in record.summaries.values())
    for entry in range(4):  # the learning rate reaches every optimizer: the runs differ
        low = record.summaries[record.index(entry, 0, 0)]
        high = record.summaries[record.index(entry, 1, 0)]
        assert low.final_loss != high.final_loss
    tuned = record.tuned_race()
    by_name = {racer.optimizer: racer.hparams for racer in tuned.racers}
    assert "inner.lr" in by_name["lookahead"] and "lr" not in by_name["lookahead"]
    assert tuned.repeat_band == "iqr" and tuned.p_win is not None
