"""A long exploration inside pytest shows a progress line through pytest's terminal reporter."""

from __future__ import annotations

import textwrap

import pytest

SLOW = """
import time

import interleave


def slow():
    # Each execution takes 0.25 s of real time: the exploration runs for a few seconds.
    end = time.perf_counter() + 0.25
    while time.perf_counter() < end:
        pass
    x = interleave.Shared("x", 0)

    def worker():
        x.get()
        x.get()

    return interleave.Scenario(threads=[worker, worker])


def test_slow(interleavings):
    interleavings.explore(slow, strategy="dfs", suppress_health_check="all")
"""


def _run(pytester: pytest.Pytester, interval: str) -> pytest.RunResult:
    pytester.makeini(
        textwrap.dedent(
            f"""
            [pytest]
            filterwarnings = error
            addopts = -p no:hypothesispytest
            interleave_progress_interval = {interval}
            """
        )
    )
    pytester.makepyfile(test_slow=SLOW)
    return pytester.runpytest_inprocess()


def test_a_long_exploration_prints_progress_lines_in_the_terminal(
    pytester: pytest.Pytester,
) -> None:
    result = _run(pytester, "0.5")
    result.assert_outcomes(passed=1)
    # (6 interleavings, 0.25 s each: the explorer reports after the first second.)
    prefix = r"interleave: test_slow.py::test_slow: "
    result.stdout.re_match_lines([prefix + r"explored \d of about \d+ \(estimated\) executions.*"])


def test_no_progress_lines_with_interval_zero(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "0")
    result.assert_outcomes(passed=1)
    assert "explored" not in result.stdout.str()


@pytest.mark.parametrize("interval", ["often", "-3", "nan"])
def test_a_bad_interval_is_one_usage_error_at_the_start(
    pytester: pytest.Pytester, interval: str
) -> None:
    # It failed each test with a traceback ("often"), or was taken silently ("-3").
    result = _run(pytester, interval)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    out = result.stdout.str() + result.stderr.str()
    assert (
        f"interleave_progress_interval={interval!r} must be a number of seconds, 0 or more" in out
    )
    assert "Traceback" not in out
    assert "passed" not in out and "failed" not in out  # no test ran
