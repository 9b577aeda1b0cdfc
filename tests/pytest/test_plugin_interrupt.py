"""Ctrl-C in a test that explores: pytest stops as on any Ctrl-C, and the interleave section of
its summary shows what the interrupted exploration found so far, with replay lines that work.

The inner session runs in a subprocess and gets a real SIGINT (sent by the scenario's check()
at its third execution).
"""

from __future__ import annotations

import re

import pytest

TESTS = """
import itertools
import signal

import interleave

executions = itertools.count(1)


def lost_update():
    n = next(executions)
    hits = interleave.Shared("hits", 0)

    def worker():
        hits.set(hits.get() + 1)

    def check():
        if n == 3:
            signal.raise_signal(signal.SIGINT)
        return hits.get() == 2

    return interleave.Scenario(threads=[worker, worker], check=check)


def test_hits(interleavings):
    interleavings.explore(lost_update)


def test_never_reached():
    pass
"""

INI = """
[pytest]
filterwarnings = error
addopts = -p no:hypothesispytest -p no:cacheprovider
"""


def test_ctrl_c_stops_the_session_and_the_summary_shows_the_findings_so_far(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_races=TESTS)
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    out = result.stdout.str()
    assert "interleave: 1 exploration(s) ran, 0 NOT exhausted, 1 interrupted (Ctrl-C)" in out
    assert (
        "test_races.py::test_hits: interrupted (Ctrl-C) after 2 schedules, findings so far: "
        "lost-update, invariant" in out
    )
    assert "NOT exhausted: interrupted (Ctrl-C) before covering every schedule" in out
    assert "KeyboardInterrupt" in out or "Interrupted" in out
    assert "test_never_reached" not in out
    # The replay line printed for the finding works (the interrupt was in the third execution).
    replay = re.search(r"pytest (test_races.py::test_hits --interleave-replay=\S+)", out)
    assert replay is not None, out
    rerun = pytester.runpytest_subprocess(*replay.group(1).split())
    rerun.assert_outcomes(failed=1)
    assert "lost-update" in rerun.stdout.str()
