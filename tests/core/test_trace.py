"""Traces, findings and the text report of one execution."""

from __future__ import annotations

import pytest

import interleave
from interleave._core._ops import Operation
from interleave._core._schedule import Schedule, decode, encode
from interleave._core._trace import Trace
from interleave._report import MAX_ROWS, render_trace


def _trace(choices: tuple[int, ...], names: tuple[str, ...] = ("a", "b", "c")) -> Trace:
    op = Operation("yield", (), "p")
    return Trace(
        thread_names=names,
        choices=choices,
        ops=(op,) * len(choices),
        locations=(None,) * len(choices),
        outcomes=("finished",) * len(names),
        schedule=Schedule(choices=choices, steps=len(choices)),
    )


@pytest.mark.parametrize(
    ("choices", "expected"),
    [
        ((), 0),
        ((0, 0, 1, 1), 0),  # a runs to the end, then b
        ((0, 1, 0, 1), 2),  # a is switched away from twice while it still has work
        ((0, 1, 1, 0), 1),
        ((0, 1, 2, 0, 1, 2), 3),
    ],
)
def test_preemptions_count_switches_away_from_unfinished_threads(
    choices: tuple[int, ...], expected: int
) -> None:
    assert _trace(choices).preemptions() == expected


def test_steps_are_built_from_the_parallel_tuples() -> None:
    trace = _trace((0, 1, 0))

    steps = trace.steps

    assert [s.index for s in steps] == [0, 1, 2]
    assert [s.thread_name for s in steps] == ["a", "b", "a"]
    assert steps[1] == trace.step(1)
    assert len(trace) == 3
    # The trace's ID carries the code of each step's operation; the schedule alone has none.
    assert trace.schedule_id == encode(trace.schedule, trace.ops)
    codes = decode(trace.schedule_id).codes
    assert codes is not None and len(codes) == 3 and len(set(codes)) == 1  # one op, thrice
    assert decode(trace.schedule.id).codes is None


def test_render_trace_has_one_column_per_thread_that_ran() -> None:
    text = render_trace(_trace((0, 2, 0), names=("a", "b", "c")))
    header = text.splitlines()[0].split()

    assert header[:3] == ["step", "a", "c"]
    assert "b" not in header


def test_long_traces_are_elided_around_the_marked_steps() -> None:
    n = MAX_ROWS * 3
    trace = _trace(tuple(i % 2 for i in range(n)), names=("a", "b"))

    text = render_trace(trace, marks={90: "<- here"})
    rows = text.splitlines()[2:]

    assert len(rows) < MAX_ROWS
    assert any(row.startswith("...") for row in rows)
    assert any(row.startswith("90 ") and row.endswith("<- here") for row in rows)
    assert rows[0].startswith("0 ")
    assert rows[-1].startswith(f"{n - 1} ")


def test_step_limit_report_is_elided_and_replayable() -> None:
    def spinner() -> interleave.Scenario:
        flag = interleave.Shared("flag", False)

        def spin() -> None:
            while not flag.get():
                pass

        return interleave.Scenario(threads={"spin": spin})

    result = interleave.explore(spinner, max_steps=200)
    report = result.report()

    assert "step-limit" in report
    assert "\n..." in report
    assert "<- step-limit" in report
    assert "at the end: spin unfinished" in report


def test_finding_str_and_equality_ignore_the_trace() -> None:
    one = interleave.Finding(message="m", schedule_id="1-AAE", trace=_trace((0,)))
    other = interleave.Finding(message="m", schedule_id="1-AAE", trace=None)

    assert one == other
    assert str(one) == "finding: m"
    assert interleave.Deadlock(message="x").kind == "deadlock"
    assert interleave.LostUpdate(message="x").kind == "lost-update"
    assert interleave.InvariantViolation(message="x").kind == "invariant"
    assert interleave.ThreadCrashed(message="x").kind == "exception"
    assert interleave.StepLimit(message="x").kind == "step-limit"


def test_run_result_repr_and_ok() -> None:
    run = interleave.replay(lambda: [lambda: interleave.point()], "1-AAE")

    assert run.ok
    assert repr(run).endswith("1-AAE findings=[none] steps=1>")


def test_report_keeps_the_line_breaks_of_a_multi_line_message() -> None:
    def scenario() -> list[object]:
        def worker() -> None:
            interleave.point()
            raise ValueError("first line\nsecond line")

        return [worker]

    report = interleave.explore(scenario).report()

    assert "raised ValueError: first line\nsecond line" in report
