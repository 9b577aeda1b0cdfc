"""explore(progress=): the Progress a callback receives, its estimated total, and the line."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import litmus
import pytest

import interleave
from interleave._engine._settings import ExploreSettings
from interleave._progress import ProgressLines, reporter
from interleave._scenario import builder


def _feed(settings: ExploreSettings, calls: list[tuple[int, int, float]]) -> list[Any]:
    """What a one-argument callback receives when the explorer reports ``calls``."""
    seen: list[Any] = []
    report = reporter(seen.append, settings, builder(litmus.increments(2, 2)), ())
    for call in calls:
        report(*call)
    return seen


def test_the_callback_gets_count_findings_elapsed_rate_and_the_estimated_total() -> None:
    seen = _feed(ExploreSettings(), [(10, 1, 1.0), (20, 2, 1.5)])
    first, second = seen
    assert isinstance(first, interleave.Progress)
    assert (first.executions, first.findings, first.elapsed) == (10, 1, 1.0)
    # The total: increments(2, 2) is small enough for the probes to walk it whole: 34 traces.
    assert (first.total, first.estimated) == (34, True)
    assert second.total == 34 and second.findings == 2
    # The rate leaves out the time the probes took (they are not exploring).
    assert first.rate == 10.0  # (its probes ran after the explorer measured 1.0 s)
    assert second.rate > 20 / 1.5
    assert second.fraction == pytest.approx(20 / 34)
    assert second.eta == pytest.approx((34 - 20) / second.rate)
    with pytest.raises(AttributeError):
        first.executions = 3  # type: ignore[misc]  # frozen


def test_sampling_strategies_head_for_their_budget_and_it_is_no_estimate() -> None:
    (progress,) = _feed(ExploreSettings(strategy="random", max_schedules=500), [(100, 0, 2.0)])
    assert (progress.total, progress.estimated) == (500, False)
    assert progress.rate == pytest.approx(50.0)
    assert str(progress) == (
        "explored 100 of 500 executions (max_schedules): 20.0%, 50 executions/s, "
        "about 8.0 s left; no findings so far"
    )


def test_a_budget_below_the_estimate_is_the_total() -> None:
    (progress,) = _feed(ExploreSettings(max_schedules=10), [(5, 0, 1.0)])
    assert (progress.total, progress.estimated) == (10, False)


def test_an_estimate_the_count_passes_is_dropped_rather_than_shown_below_it() -> None:
    seen = _feed(ExploreSettings(), [(30, 0, 1.0), (35, 0, 1.5)])
    assert seen[0].total == 34
    assert (seen[1].total, seen[1].estimated) == (None, False)
    assert str(seen[1]).startswith("explored 35 executions in 1.5 s, ")


def test_an_iterative_bound_has_no_total() -> None:
    (progress,) = _feed(ExploreSettings(preemption_bound="iterative"), [(5, 0, 1.0)])
    assert progress.total is None and progress.fraction is None and progress.eta is None


def test_a_three_argument_callback_gets_the_older_call() -> None:
    calls: list[tuple[int, int, float]] = []

    def old(schedules: int, findings: int, seconds: float) -> None:
        calls.append((schedules, findings, seconds))

    report = reporter(old, ExploreSettings(), builder(litmus.increments(2, 2)), ())
    report(7, 1, 1.25)
    assert calls == [(7, 1, 1.25)]


@pytest.mark.parametrize(
    ("progress", "message"),
    [
        (3, "progress=3 must be a function that takes an interleave.Progress"),
        (lambda a, b: None, "must take one argument (an interleave.Progress"),
    ],
)
def test_a_bad_progress_argument_is_refused_up_front(progress: object, message: str) -> None:
    with pytest.raises(interleave.InvalidArgument) as caught:
        interleave.explore(litmus.increments(2, 1), progress=progress)  # type: ignore[arg-type]
    assert message in str(caught.value)


def _slowed(factory: Callable[[], interleave.Scenario]) -> Callable[[], interleave.Scenario]:
    """``factory``, each execution at least 0.3 ms longer (its check sleeps): the explorer's
    first report comes after a second, which a fast core would otherwise not reach."""

    def scenario() -> interleave.Scenario:
        made = factory()
        check = made.check
        assert check is not None

        def slow_check() -> bool:
            time.sleep(0.0003)
            return bool(check())

        return interleave.Scenario(threads=made.threads, check=slow_check, name=made.name)

    return scenario


def test_a_long_exploration_reports_progress_with_an_estimated_total() -> None:
    seen: list[interleave.Progress] = []
    # 7,134 dpor executions of at least 0.3 ms: over two seconds, so the explorer reports
    # after the first one.
    scenario = _slowed(litmus.increments(3, 2))
    result = interleave.explore(scenario, progress=seen.append, minimise=False)
    assert result.schedules_run == 7_134
    assert seen, "no progress reported"
    first = seen[0]
    assert first.estimated and first.total is not None
    assert abs(first.total / 7_134 - 1) < 0.3
    counts = [p.executions for p in seen]
    assert counts == sorted(counts) and counts[-1] <= 7_134
    # The last call says the exploration ended: exhausted, its count is the total.
    last = seen[-1]
    assert [p.done for p in seen] == [False] * (len(seen) - 1) + [True]
    assert (last.executions, last.total, last.estimated, last.fraction) == (7_134, 7_134, False, 1)
    assert last.eta == 0
    assert last.exhausted and not any(p.exhausted for p in seen[:-1])
    # Its line says why the total is the count (it said "(max_schedules)", with a time left).
    assert str(last).startswith("explored 7,134 of 7,134 executions (exhausted): 100.0%, ")
    assert "left" not in str(last)


def test_the_last_report_of_a_cut_search_keeps_its_total() -> None:
    seen: list[Any] = []
    report = reporter(seen.append, ExploreSettings(), builder(litmus.increments(2, 2)), ())
    report.finish(5, 0, 0.5, exhausted=True)  # type: ignore[attr-defined]
    assert seen == []  # no report before: a short exploration gets no last one either
    report(10, 1, 1.0)
    report.finish(20, 1, 1.5, exhausted=False)  # type: ignore[attr-defined]
    assert (seen[-1].done, seen[-1].total, seen[-1].estimated) == (True, 34, True)
    assert not seen[-1].exhausted


def test_lines_are_written_at_most_every_interval_of_the_exploration() -> None:
    written: list[str] = []
    lines = ProgressLines(written.append, interval=2.0, prefix="> ")
    for elapsed in (1.0, 1.5, 2.0, 3.9, 4.0, 4.5):
        lines(interleave.Progress(executions=10, findings=0, elapsed=elapsed, rate=5.0))
    assert written == [
        "> explored 10 executions in 2.0 s, 5 executions/s; no findings so far",
        "> explored 10 executions in 4.0 s, 5 executions/s; no findings so far",
    ]


def test_the_totals_probes_are_budgeted_in_cpu_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # With workers= the probes share the cores with the worker processes: a wall-clock
    # budget gave them half the probes, and the increments' total came out 25% too low.
    import time

    from interleave import _progress

    calls: list[dict[str, Any]] = []
    real = _progress.estimate_program

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(_progress, "estimate_program", spy)
    _feed(ExploreSettings(), [(10, 0, 1.0)])
    assert calls and calls[0]["clock"] is time.process_time


def test_the_probes_budget_follows_the_clock_given() -> None:
    from interleave._engine._estimate import estimate_program

    ticks = iter(range(1_000_000))
    est = estimate_program(
        builder(litmus.increments(3, 3)),
        "dpor",
        seed=0,
        probes=None,
        time_budget=40,
        max_steps=10_000,
        clock=lambda: float(next(ticks)),  # one "second" per look at the clock
    )
    assert 30 <= est.probes <= 40
