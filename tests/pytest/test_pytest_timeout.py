"""pytest-timeout keeps working with its default (signal) method around and inside explorations.

interleave's watchdog must not take ``SIGALRM`` or its timer: each inner session below runs
``pytest --timeout=3`` in a subprocess on a test that never ends, and pytest-timeout must be
the one that stops it (the outer ``timeout=`` only keeps a regression from hanging the suite).
"""

from __future__ import annotations

import textwrap

import pytest

INI = """
[pytest]
filterwarnings = error
addopts = -p no:hypothesispytest -p no:cacheprovider
"""

SCENARIO = """
import interleave


def lost_update():
    hits = interleave.Shared("hits", 0)

    def worker():
        hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)


def spin():
    n = 0
    while n >= 0:
        n += 1
"""


def run_with_timeout(pytester: pytest.Pytester, body: str) -> pytest.RunResult:
    pytester.makeini(INI)
    pytester.makepyfile(test_spins=SCENARIO + textwrap.dedent(body))
    # pytest-timeout fires after 3 s; a regression would spin until this outer limit.
    return pytester.runpytest_subprocess("--timeout=3", "-p", "timeout", timeout=120)


@pytest.mark.parametrize("patch_threading", [True, False])
def test_a_test_that_spins_after_an_exploration_is_stopped(
    pytester: pytest.Pytester, patch_threading: bool
) -> None:
    result = run_with_timeout(
        pytester,
        f"""
        def test_spins_after():
            result = interleave.explore(lost_update, patch_threading={patch_threading})
            assert not result.ok
            spin()
        """,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*while n >= 0:*", "*Failed: Timeout (>3.0s) from pytest-timeout*"]
    )


def test_a_thread_that_spins_inside_an_exploration_is_stopped(pytester: pytest.Pytester) -> None:
    # The watchdog is off: only pytest-timeout can end this one.
    result = run_with_timeout(
        pytester,
        """
        def spinning():
            return interleave.Scenario(threads=[spin])


        def test_spins_inside():
            interleave.explore(spinning, watchdog=0)
        """,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*while n >= 0:*", "*Failed: Timeout (>3.0s) from pytest-timeout*"]
    )


def test_the_watchdog_fires_before_a_longer_pytest_timeout(pytester: pytest.Pytester) -> None:
    result = run_with_timeout(
        pytester,
        """
        import _thread

        import pytest


        def blocked():
            lock = _thread.allocate_lock()
            lock.acquire()
            return interleave.Scenario(threads=[lambda: lock.acquire()])


        def test_blocked():
            with pytest.raises(interleave.BlockedOutsideScheduler):
                interleave.explore(blocked, watchdog=0.5, patch_threading=False)
        """,
    )
    result.assert_outcomes(passed=1)
