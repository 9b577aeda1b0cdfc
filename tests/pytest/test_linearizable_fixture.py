"""``interleavings.check_linearizable``: the fixture fails a test with the report and a replay
line that works, replays ``--interleave-replay=L1-...``, and requires a proof when asked."""

from __future__ import annotations

import re
import textwrap

import pytest

OBJECTS = """
import interleave
import pytest
from interleave.models import CounterModel


class StaleCounter:
    def __init__(self):
        self.count = interleave.Counter("count")

    def increment(self):
        self.count.add()
        return self.count.get()

    def get(self):
        return self.count.get()


class AtomicCounter(StaleCounter):
    def increment(self):
        return self.count.add()
"""

INI = """
[pytest]
filterwarnings = error
addopts = -p no:hypothesispytest
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


def write(pytester: pytest.Pytester, body: str) -> None:
    pytester.makepyfile(test_lin=OBJECTS + textwrap.dedent(body))


def test_a_non_linearizable_object_fails_the_test_with_a_replay_line_that_works(
    project: pytest.Pytester,
) -> None:
    write(
        project,
        """
        def test_counter(interleavings):
            interleavings.check_linearizable(StaleCounter, CounterModel, ["increment"])
        """,
    )
    result = project.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "Finding 1 of 1: not-linearizable" in out
    assert "interleave.replay_linearizable(StaleCounter, CounterModel, 'L1-" in out
    assert "pytest NODEID" not in out
    replay = re.search(r"pytest test_lin\.py::test_counter --interleave-replay=(L1-\S+)", out)
    assert replay is not None, out

    again = project.runpytest_inprocess(f"--interleave-replay={replay.group(1)}")
    again.assert_outcomes(failed=1)
    replayed = again.stdout.str()
    assert "replayed L1-" in replayed and "instead of exploring" in replayed
    assert "not-linearizable" in replayed


def test_a_linearizable_object_passes_with_its_verdict(project: pytest.Pytester) -> None:
    write(
        project,
        """
        def test_counter(interleavings):
            result = interleavings.check_linearizable(AtomicCounter, CounterModel, ["increment"])
            assert result.ok and result.verdict == "proved"
        """,
    )
    result = project.runpytest_inprocess("-rA")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*check_linearizable(AtomicCounter, CounterModel): * scenarios, * schedules, "
            "exhausted, findings: none",
            "*proved: test_lin.py::test_counter*",
        ]
    )


def test_require_proof_fails_a_sampled_check(project: pytest.Pytester) -> None:
    write(
        project,
        """
        @pytest.mark.interleave(require_proof=True)
        def test_counter(interleavings):
            interleavings.check_linearizable(
                AtomicCounter, CounterModel, ["increment", "get"], max_scenarios=2
            )
        """,
    )
    result = project.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*the verdict is 'sampled', not 'proved'*", "*For a proof, raise max_scenarios to 10*"]
    )


def test_a_session_seed_and_strategy_do_not_reach_the_check(project: pytest.Pytester) -> None:
    # --interleave-strategy/--interleave-seed are explore()'s; the check runs dpor.
    write(
        project,
        """
        def test_counter(interleavings):
            result = interleavings.check_linearizable(AtomicCounter, CounterModel, ["increment"])
            assert result.verdict == "proved"
        """,
    )
    result = project.runpytest_inprocess("--interleave-strategy=random", "--interleave-seed=3")
    result.assert_outcomes(passed=1)
