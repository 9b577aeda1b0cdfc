"""The ``interleavings`` fixture from an ``async def`` test: a plain (synchronous) call.

The inner session runs its coroutine tests with ``asyncio.run`` through a three-line
``pytest_pyfunc_call`` hook, as pytest-asyncio and anyio's plugin do: the test's event loop is
running on the OS thread while the exploration runs its tasks on interleave's own loop, and the
test's loop is the running loop again afterwards.
"""

from __future__ import annotations

import textwrap

import pytest

CONFTEST = """
import asyncio
import inspect

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        names = pyfuncitem._fixtureinfo.argnames
        asyncio.run(pyfuncitem.obj(**{n: pyfuncitem.funcargs[n] for n in names}))
        return True
"""

TESTS = """
import asyncio

import interleave


def counter():
    hits = interleave.Shared("hits", 0)

    async def worker():
        seen = hits.get()
        await asyncio.sleep(0)
        hits.set(seen + 1)

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)


async def test_racy(interleavings):
    loop = asyncio.get_running_loop()
    try:
        interleavings.explore(counter)
    finally:
        assert asyncio.get_running_loop() is loop


def locked_counter():
    hits = interleave.Shared("hits", 0)
    lock = asyncio.Lock()

    async def worker():
        async with lock:
            seen = hits.get()
            await asyncio.sleep(0)
            hits.set(seen + 1)

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)


async def test_locked(interleavings):
    result = interleavings.explore(locked_counter)
    assert result.ok and result.exhausted
    await asyncio.sleep(0)  # the test's own loop still works
"""


def test_the_fixture_works_from_async_tests(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nfilterwarnings = error\naddopts = -p no:hypothesispytest\n")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_async=textwrap.dedent(TESTS))
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert "interleave: counter: 4 distinct finding(s)" in out
    assert "pytest test_async.py::test_racy --interleave-replay=" in out
