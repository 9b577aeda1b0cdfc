"""``ExploreResult.verdict``: one word for how much an exploration's coverage proves.

Every way an exploration can end, through the public API: ``proved`` (an exhaustive search ran
out of schedules and no preemption bound cut any), ``bounded`` (a bound cut some),
``sampled`` (a seeded strategy, or a budget stopped the search) and ``interrupted``.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textbook import lost_update

import interleave
from interleave import ExploreResult, Verdict
from interleave._results import verdict_of


def clean_race() -> interleave.Scenario:
    """Two threads of two unlocked updates each, checked loosely: clean, and its
    interleavings need preemptions, so a preemption bound of 0 cuts some. (The unlocked
    updates race on purpose: racy=True.)"""
    hits = interleave.Shared("hits", 0, racy=True)

    def worker() -> None:
        for _ in range(2):
            hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() >= 2)


def locked_counter() -> interleave.Scenario:
    hits = interleave.Shared("hits", 0)
    lock = interleave.Lock(name="hits")

    def worker() -> None:
        with lock:
            hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker] * 3, check=lambda: hits.get() == 3)


def spinner() -> interleave.Scenario:
    flag = interleave.Shared("flag", False)

    def waiter() -> None:
        while not flag.get():
            pass

    return interleave.Scenario(threads={"spinner": waiter})


# --------------------------------------------------------------------------------- proved


@pytest.mark.parametrize("strategy", ["dpor", "dfs"])
def test_an_exhaustive_search_without_a_bound_is_proved(strategy: str) -> None:
    result = interleave.explore(locked_counter, strategy=strategy)

    assert result.exhausted
    assert result.verdict is Verdict.PROVED
    assert result.verdict == "proved"


@pytest.mark.parametrize("strategy", ["dpor", "dfs"])
def test_findings_of_an_exhausted_search_are_proved_complete(strategy: str) -> None:
    result = interleave.explore(lost_update, strategy=strategy)

    assert not result.ok
    assert result.verdict == "proved"


@pytest.mark.parametrize("strategy", ["dpor", "dfs"])
def test_a_bound_that_cut_nothing_still_proves(strategy: str) -> None:
    # Each thread's update is locked: no schedule of locked_counter needs a preemption.
    result = interleave.explore(locked_counter, strategy=strategy, preemption_bound=0)

    assert result.stopped_because == "exhausted"
    assert result.verdict == "proved"


@pytest.mark.parametrize("strategy", ["dpor", "dfs"])
def test_an_iterative_bound_that_ends_without_cutting_is_proved(strategy: str) -> None:
    bounded = interleave.explore(clean_race, strategy=strategy, preemption_bound=0)
    assert bounded.verdict != "proved"  # so bound 0 alone is not enough here

    result = interleave.explore(clean_race, strategy=strategy, preemption_bound="iterative")

    assert result.exhausted
    assert result.verdict == "proved"


# -------------------------------------------------------------------------------- bounded


def test_a_bound_that_cut_schedules_is_bounded() -> None:
    result = interleave.explore(clean_race, strategy="dfs", preemption_bound=0)

    assert result.ok
    assert result.stopped_because == "preemption-bound"
    assert result.verdict is Verdict.BOUNDED
    report = result.report()
    assert "verdict" in report and "bounded" in report
    assert "This is not a proof: schedules beyond the preemption bound were not run" in report


def test_dpor_under_a_bound_that_cut_schedules_only_samples() -> None:
    # DPOR prunes by equivalence: the one execution it keeps for a class may need more
    # preemptions than the bound allows, so a cut dpor search covers less than its bound.
    result = interleave.explore(clean_race, strategy="dpor", preemption_bound=0)

    assert result.ok and not result.exhausted
    assert result.stopped_because == "preemption-bound-partial"
    assert result.verdict is Verdict.SAMPLED
    assert "with dpor that does not cover every schedule within the bound" in result.report()


# -------------------------------------------------------------------------------- sampled


@pytest.mark.parametrize(
    ("strategy", "seed"), [("random", None), ("random", 3), ("pct", None), ("pct", 5)]
)
def test_a_seeded_strategy_only_samples(strategy: str, seed: int | None) -> None:
    result = interleave.explore(locked_counter, strategy=strategy, seed=seed, max_schedules=20)

    assert result.ok
    assert result.verdict is Verdict.SAMPLED
    assert f"This is not a proof: {strategy} samples schedules and never covers them all" in (
        result.report()
    )


@pytest.mark.parametrize(
    ("options", "stopped"),
    [
        ({"max_schedules": 2}, "max_schedules"),
        ({"strategy": "dfs", "max_schedules": 2}, "max_schedules"),
        ({"preemption_bound": "iterative", "max_schedules": 2}, "max_schedules"),
        # A deadline shorter than any execution passes before the first one ends.
        ({"timeout": 1e-9}, "timeout"),
    ],
)
def test_a_search_stopped_by_its_budget_is_sampled(
    options: dict[str, object], stopped: str
) -> None:
    result = interleave.explore(locked_counter, **options)  # type: ignore[arg-type]

    assert result.ok
    assert result.stopped_because == stopped
    assert result.verdict == "sampled"
    assert "raise max_schedules (or the timeout)" in result.report()


def test_stop_on_first_before_the_end_is_sampled() -> None:
    result = interleave.explore(lost_update, strategy="dfs", stop_on_first=True, minimise=False)

    assert result.stopped_because == "first-finding"
    assert result.verdict == "sampled"


def test_a_step_limit_is_sampled() -> None:
    result = interleave.explore(spinner, max_steps=50)

    assert result.stopped_because == "step-limit"
    assert result.verdict == "sampled"


# ---------------------------------------------------------------------------- interrupted


def _ended_as(result: ExploreResult, stopped_because: str) -> ExploreResult:
    return dataclasses.replace(result, exhausted=False, stopped_because=stopped_because)


def test_an_interrupted_exploration_is_interrupted() -> None:
    result = _ended_as(interleave.explore(locked_counter, max_schedules=2), "interrupted")

    assert result.verdict is Verdict.INTERRUPTED
    assert "This is not a proof: the exploration was interrupted" in result.report()


# ---------------------------------------------------------------------------- the value


def test_a_verdict_is_a_plain_word_everywhere() -> None:
    verdict = interleave.explore(locked_counter).verdict

    assert isinstance(verdict, str)
    assert str(verdict) == f"{verdict}" == "proved"
    assert json.dumps({"verdict": verdict}) == '{"verdict": "proved"}'
    assert [v.value for v in Verdict] == ["proved", "bounded", "sampled", "interrupted"]


def test_the_report_shows_the_verdict_below_the_coverage() -> None:
    lines = interleave.explore(locked_counter, max_schedules=2).report().splitlines()

    coverage = next(i for i, line in enumerate(lines) if line.startswith("coverage "))
    assert lines[coverage + 1].split() == ["verdict", "sampled"]


@given(st.text(max_size=30))
def test_only_an_exhausted_search_is_ever_proved(stopped_because: str) -> None:
    assert verdict_of(exhausted=False, stopped_because=stopped_because) != "proved"
    assert verdict_of(exhausted=True, stopped_because=stopped_because) == "proved"
