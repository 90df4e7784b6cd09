"""Sweep statistics on inputs whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tui_optim.results import sweep_stats as stats


def test_spread_is_median_and_quartiles_like_numpy() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    spread = stats.spread(values)
    assert (spread.median, spread.q25, spread.q75) == (3.0, 2.0, 4.0)
    even = [1.0, 2.0, 3.0, 10.0]
    got = stats.spread(even)
    assert (got.median, got.q25, got.q75) == tuple(np.percentile(even, [50, 25, 75]))


def test_a_diverged_minority_keeps_a_finite_median_a_majority_does_not() -> None:
    one = stats.spread([1.0, 2.0, 3.0, 4.0, math.inf])
    assert one.median == 3.0 and one.q75 == 4.0
    most = stats.spread([1.0, math.inf, math.inf])
    assert most.median == math.inf and most.q75 == math.inf and most.q25 == math.inf


def test_tuned_index_is_the_best_median_and_skips_the_worst_value() -> None:
    assert stats.tuned_index([3.0, 1.0, 2.0], higher_is_better=False) == 1
    assert stats.tuned_index([0.3, 0.9, 0.9], higher_is_better=True) == 1  # first of equals
    assert stats.tuned_index([math.inf, math.inf], higher_is_better=False) is None


def test_width_in_decades_counts_the_neighbours_within_ten_percent() -> None:
    lrs = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    # best 1.0 at 1e-2; 1.05 at 1e-3 and 1.1 at 1e-1 are within 10%; 1.2 is not
    medians = [1.2, 1.05, 1.0, 1.1, 5.0]
    assert stats.width_decades(lrs, medians, False) == pytest.approx(2.0)
    assert stats.width_decades(lrs, [9.0, 5.0, 1.0, 2.0, 3.0], False) == 0.0
    # a good learning rate beyond a bad one does not widen the range (it is not connected)
    assert stats.width_decades(lrs, [1.0, 9.0, 1.0, 9.0, 9.0], False) == 0.0
    # accuracy: within 10% below the best
    assert stats.width_decades(lrs, [0.5, 0.91, 1.0, 0.95, 0.2], True) == pytest.approx(2.0)
    assert stats.width_decades(lrs, [math.inf] * 5, False) is None


def test_width_with_a_negative_best_uses_its_magnitude() -> None:
    lrs = [0.01, 0.1, 1.0]
    # surfaces go below zero: -6.0 is within 10% of -6.5, -5.0 is not
    assert stats.width_decades(lrs, [-5.0, -6.5, -6.0], False) == pytest.approx(1.0)


def test_an_optimizer_better_on_every_seed_beats_the_other_with_probability_one() -> None:
    values = np.array([[1.0, 2.0, 3.0, 4.0, 5.0], [1.5, 2.5, 3.5, 4.5, 5.5]])
    beats = stats.beat_probabilities(values, higher_is_better=False)
    assert beats[0, 1] == 1.0 and beats[1, 0] == 0.0
    assert beats[0, 0] == 0.5
    # the pairing matters: unpaired, these seeds overlap a lot; paired, A is always better
    wins = stats.win_probabilities(values, higher_is_better=False)
    assert wins.tolist() == [1.0, 0.0]
    assert stats.verdict(["a", "b"], beats).startswith("a wins")


def test_identical_optimizers_are_a_coin_flip_and_no_clear_winner() -> None:
    values = np.array([[1.0, 3.0, 2.0], [1.0, 3.0, 2.0]])
    beats = stats.beat_probabilities(values, higher_is_better=False)
    assert beats[0, 1] == 0.5 and beats[1, 0] == 0.5
    assert stats.win_probabilities(values, False).tolist() == [0.5, 0.5]
    assert stats.verdict(["a", "b"], beats) == "no clear winner"


def test_higher_is_better_flips_the_comparison_and_probabilities_are_complementary() -> None:
    rng = np.random.default_rng(1)
    values = rng.random((3, 7))
    low = stats.beat_probabilities(values, higher_is_better=False)
    high = stats.beat_probabilities(values, higher_is_better=True)
    np.testing.assert_allclose(low + low.T, 1.0)
    np.testing.assert_allclose(high, low.T)
    assert stats.win_probabilities(values, True).sum() == pytest.approx(1.0)


def test_a_mixed_record_is_no_clear_winner_and_the_bootstrap_is_deterministic() -> None:
    # a wins on 3 seeds of 5, b on 2: far from a clear win
    values = np.array([[1.0, 1.0, 1.0, 5.0, 5.0], [2.0, 2.0, 2.0, 0.0, 0.0]])
    beats = stats.beat_probabilities(values, False)
    assert 0.5 < beats[0, 1] < 0.95
    assert stats.verdict(["a", "b"], beats) == "no clear winner"
    np.testing.assert_array_equal(beats, stats.beat_probabilities(values, False))
