"""estimate(): Knuth's estimator over the strategy's own branches (sleep sets for dpor).

The walk of a small tree is exact, so on generated programs it must give the very counts the
explorations give (a wrong branching rule fails here); the probes must converge to them.
"""

from __future__ import annotations

import math
import os
from typing import Any
from unittest import mock

import litmus
import pytest
from hypothesis import HealthCheck, given, reject, settings
from test_dpor_oracle import _PROGRAM, Action, _Run, _scenario, _uses

import interleave
from interleave._engine import _estimate

# --- the Must-show: increments within 15% of the true dpor counts ----------------------------


@pytest.mark.parametrize(("n", "k", "traces"), [(2, 3, 328), (3, 2, 7_134)])
def test_increments_are_estimated_within_15_percent(n: int, k: int, traces: int) -> None:
    est = interleave.estimate(litmus.increments(n, k), probes=600, time_budget=None, seed=0)
    assert not est.exact  # bigger than the walk: these are the probes' estimate
    assert est.probes == 600
    assert abs(est.executions / traces - 1) <= 0.15, est
    low, high = est.interval
    assert low < traces < high, est


@pytest.mark.parametrize(
    "factory",
    [
        litmus.lastzero(6),
        litmus.readers(8),
        litmus.indexer(12),
        litmus.filesystem(16),
        litmus.philosophers(4),
    ],
    ids=["lastzero(6)", "readers(8)", "indexer(12)", "filesystem(16)", "philosophers(4)"],
)
def test_a_sparse_dpor_tree_is_counted_exactly_by_dpor_itself(factory: Any) -> None:
    # Most probes of these end sleep-set blocked (they count 0): the probes alone gave 0 for
    # 512 traces, 0.08x or 1.35x the count. dpor's own exploration counts them instead.
    truth = interleave.explore(factory, max_schedules=10_000, minimise=False)
    assert truth.exhausted
    est = interleave.estimate(factory, probes=5_000, time_budget=None, seed=0)
    assert est.exact and not est.unreliable, est
    assert est.executions == truth.schedules_run
    assert str(est).startswith(f"exactly {truth.schedules_run:,} dpor executions (traces)")


def test_a_sparse_tree_bigger_than_the_budget_gives_a_lower_bound() -> None:
    # indexer(14): 512 traces, every probe blocked; 60 executions of dpor's own exploration
    # cannot finish, so the estimate says "more than" what they ran, and that it is unreliable.
    est = interleave.estimate(litmus.indexer(14), probes=60, time_budget=None, seed=0)
    assert not est.exact and est.unreliable, est
    assert 0 < est.at_least <= 60
    assert est.executions == est.at_least
    assert est.interval == (est.at_least, math.inf)
    assert est.probes == 8 + 60  # the first probes, then the exploration (no probes after it)
    text = str(est)
    assert text.startswith(f"more than {est.at_least:,} dpor executions (traces)"), text
    assert "most of the first probes ended sleep-set blocked" in text
    assert est.standard_error == math.inf
    assert "exploring them all would take more than" in text
    assert "Unreliable: a lower bound" in text and "strategy='dfs'" in text
    data = est.to_dict()
    assert data["at_least"] == est.at_least and data["unreliable"] is True
    assert data["interval_95"] == [est.at_least, None] and data["standard_error"] is None


def test_an_estimate_resting_on_few_unblocked_probes_says_it_is_unreliable() -> None:
    # (Probes that were mostly blocked where dpor's own exploration did not run: lastzero(8)
    # gave 56 for 704 traces with 97 of 100 probes blocked.)
    est = _estimate.Estimate(
        strategy="dpor", executions=56.0, standard_error=9.0, probes=100, blocked=97, seconds=0.1
    )
    assert est.unreliable
    assert est.to_dict()["unreliable"] is True
    text = str(est)
    assert text.startswith("about 56 dpor executions (traces) (± ")
    assert "Unreliable: 97 of 100 probes ended sleep-set blocked" in text
    assert "probably far too low" in text and "strategy='dfs'" in text
    assert est.interval == pytest.approx((56 - 1.96 * 9, 56 + 1.96 * 9))
    good = interleave.estimate(litmus.increments(3, 2), probes=200, time_budget=None, seed=0)
    assert not good.unreliable and not good.at_least and "Unreliable" not in str(good)


def test_progress_shows_no_total_from_an_unreliable_estimate() -> None:
    from interleave._progress import Reporter

    shown: list[interleave.Progress] = []

    def reporter(estimate: _estimate.Estimate) -> Reporter:
        return Reporter(shown.append, interleave.ExploreSettings(), lambda: estimate)

    def estimate(blocked: int) -> _estimate.Estimate:
        return _estimate.Estimate(
            strategy="dpor",
            executions=56.0,
            standard_error=9.0,
            probes=100,
            blocked=blocked,
            seconds=0.1,
        )

    reporter(estimate(blocked=97))(10, 0, 2.0)  # lastzero(8): 97% blocked, 56 for 704
    reporter(estimate(blocked=0))(10, 0, 2.0)
    assert [(p.total, p.estimated) for p in shown] == [(None, False), (56, True)]


def test_dfs_estimates_every_interleaving() -> None:
    # 12! / (6! 6!) interleavings of two threads of 6 steps.
    est = interleave.estimate(litmus.increments(2, 3), strategy="dfs", probes=600, time_budget=None)
    assert abs(est.executions / 924 - 1) <= 0.15, est
    assert est.strategy == "dfs" and est.blocked == 0


def test_a_preemption_bound_cuts_the_dfs_tree_as_dfs_does() -> None:
    factory = litmus.increments(2, 2)
    bounded = interleave.explore(factory, strategy="dfs", preemption_bound=1, minimise=False)
    est = interleave.estimate(
        factory,
        probes=100,
        time_budget=None,
        settings=interleave.ExploreSettings(strategy="dfs", preemption_bound=1),
    )
    assert est.exact
    assert est.executions == bounded.schedules_run
    assert est.preemption_bound == 1
    assert "within preemption bound 1" in str(est)


def test_the_same_seed_gives_the_same_estimate_and_another_seed_another() -> None:
    def once(seed: int) -> float:
        est = interleave.estimate(litmus.increments(3, 2), probes=200, time_budget=None, seed=seed)
        return est.executions

    assert once(3) == once(3)
    assert once(3) != once(4)


def test_a_small_tree_is_walked_whole_and_counted_exactly() -> None:
    est = interleave.estimate(litmus.increments(2, 2), probes=100, time_budget=None)
    assert est.exact
    assert est.executions == 34  # the dpor count: one execution per trace
    assert est.standard_error == 0
    assert str(est).startswith("exactly 34 dpor executions (traces) (the whole tree, walked in")


def test_the_report_line_gives_the_spread_and_the_time_to_explore() -> None:
    est = interleave.estimate(litmus.increments(3, 2), probes=300, time_budget=None)
    text = str(est)
    assert text.startswith(f"about {round(est.executions):,} dpor executions (traces) (± ")
    assert "95% interval" in text and "300 probes in" in text
    assert "exploring them all would take about" in text
    assert est.rate > 0
    assert est.seconds_to_explore == pytest.approx(est.executions / est.rate)
    data = est.to_dict()
    assert data["probes"] == 300 and data["exact"] is False
    assert data["interval_95"] == list(est.interval)


def test_one_probe_gives_no_spread_and_says_so() -> None:
    # It printed "± inf%, 95% interval 1 to ?". One probe is unbiased (not unreliable: that
    # says an estimate is far too low), but it has no spread; the JSON's is null.
    est = interleave.estimate(litmus.increments(3, 2), probes=1, time_budget=None)
    text = str(est)
    assert "(spread unknown: 1 probe in " in text
    assert "give more probes or a longer time budget for one)" in text
    assert "inf" not in text and "?" not in text
    assert est.to_dict()["standard_error"] is None


def test_a_single_execution_is_one_execution() -> None:
    def alone() -> interleave.Scenario:
        x = interleave.Shared("x", 0)
        return interleave.Scenario(threads=[lambda: x.set(1)])

    assert str(interleave.estimate(alone)).startswith("exactly 1 dpor execution (trace) (")
    assert str(interleave.estimate(alone, strategy="dfs")).startswith("exactly 1 dfs execution (")


def test_a_time_budget_stops_the_probes() -> None:
    est = interleave.estimate(litmus.increments(3, 3), time_budget=0.05)
    assert est.probes >= 1
    assert est.seconds < 5  # (not a timing test: the budget is far below this)


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"strategy": "random"}, "strategy='random' cannot be estimated"),
        ({"strategy": "bfs"}, "strategy='bfs' is not one of 'dpor', 'dfs', 'random', 'pct'"),
        ({"strategy": "pct"}, "only the exhaustive strategies (dpor, dfs)"),
        ({"probes": 0}, "probes=0 must be at least 1"),
        ({"probes": 2.5}, "probes=2.5 must be a whole number"),
        ({"time_budget": -1}, "time_budget=-1 must be a positive number of seconds"),
        ({"probes": None, "time_budget": None}, "give a number of probes, a time budget"),
        ({"seed": "x"}, "seed='x' must be an int"),
        (
            {"settings": interleave.ExploreSettings(preemption_bound=2)},
            "preemption_bound=2 cannot be estimated with strategy='dpor'",
        ),
        ({"settings": {"strategy": "dfs"}}, "must be an interleave.ExploreSettings"),
    ],
)
def test_bad_arguments_are_refused_up_front(options: dict[str, Any], message: str) -> None:
    with pytest.raises(interleave.InvalidArgument) as caught:
        interleave.estimate(litmus.increments(2, 1), **options)
    assert message in str(caught.value)


# --- the law: exact walks give the explorations' counts; probes converge to them ------------


def _options(plan: list[list[Action]]) -> dict[str, Any]:
    return {
        "minimise": False,
        "watchdog": 0,
        "suppress_health_check": "all",
        "trace_attributes": _uses(plan, "attr"),
    }


@settings(
    max_examples=int(os.environ.get("INTERLEAVE_ESTIMATE_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(_PROGRAM)
def test_the_walk_counts_what_dpor_and_dfs_explore(plan: list[list[Action]]) -> None:
    options = _options(plan)
    for strategy in ("dpor", "dfs"):
        result = interleave.explore(
            _scenario(plan, _Run()), strategy=strategy, max_schedules=5_000, **options
        )
        if not result.exhausted:
            reject()  # too big to compare with a whole walk
        # The sleep-set walk, not dpor's own exploration (which would compare dpor with
        # itself): never take the tree for a sparse one.
        with (
            mock.patch.object(_estimate, "WALK_LIMIT", 10_000),
            mock.patch.object(_estimate, "UNRELIABLE_BLOCKED", 2.0),
        ):
            est = interleave.estimate(
                _scenario(plan, _Run()),
                probes=10_000,
                time_budget=None,
                settings=interleave.ExploreSettings(strategy=strategy, **options),
            )
        assert est.exact
        assert est.executions == result.schedules_run, (strategy, plan)


@settings(
    max_examples=int(os.environ.get("INTERLEAVE_ESTIMATE_EXAMPLES", "8")),
    deadline=None,
    derandomize=True,  # a statistical law: the same examples (and seeds) every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(_PROGRAM)
def test_the_probes_converge_to_the_dpor_count(plan: list[list[Action]]) -> None:
    options = _options(plan)
    result = interleave.explore(
        _scenario(plan, _Run()), strategy="dpor", max_schedules=5_000, **options
    )
    if not result.exhausted or result.schedules_run < 3:
        reject()
    with (  # probes only: no walk, no exploration by dpor itself
        mock.patch.object(_estimate, "WALK_LIMIT", 0),
        mock.patch.object(_estimate, "UNRELIABLE_BLOCKED", 2.0),
    ):
        est = interleave.estimate(
            _scenario(plan, _Run()),
            probes=800,
            time_budget=None,
            settings=interleave.ExploreSettings(**options),
        )
    assert not est.exact
    truth = result.schedules_run
    assert math.isclose(est.executions, truth, rel_tol=0.2) or (
        abs(est.executions - truth) <= 4 * est.standard_error
    ), (est, truth, plan)
