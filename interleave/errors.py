"""Every public exception and warning of interleave.

All of them derive from :class:`InterleaveError` (warnings from :class:`InterleaveWarning`), so
``except interleave.errors.InterleaveError`` catches everything the library raises on purpose.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BlockedOutsideScheduler",
    "EventLoopBlocked",
    "FailedHealthCheck",
    "FindingsError",
    "HealthCheckWarning",
    "InterleaveError",
    "InterleaveWarning",
    "InternalError",
    "InvalidArgument",
    "InvalidScheduleId",
    "NondeterministicScenario",
    "ScenarioError",
    "ScheduleDivergence",
    "WorkerLost",
]


class InterleaveError(Exception):
    """Root of every exception interleave raises on purpose."""


class InvalidArgument(InterleaveError, ValueError, TypeError):
    """A bad argument: the message names the value and the fix.

    Raised before any work starts, for example ``max_schedules=0 must be at least 1``.
    It is also a :class:`ValueError` and a :class:`TypeError`, so existing ``except`` clauses
    written for the built-in errors keep working.
    """


class InvalidScheduleId(InvalidArgument):
    """A schedule ID that cannot be decoded (wrong format, damaged, or from a newer format)."""


class ScenarioError(InvalidArgument):
    """A scenario factory returned something interleave cannot run, or misused the API."""


class ScheduleDivergence(InterleaveError):
    """A replay could not follow its schedule.

    The scenario changed since the ID was recorded, or it is not deterministic (it depends on
    wall-clock time, randomness, hash order or state left over from an earlier execution).
    """


class NondeterministicScenario(ScheduleDivergence):
    """The same schedule prefix produced different behaviour in two executions of a scenario."""


class BlockedOutsideScheduler(InterleaveError):
    """An execution took no step for the watchdog's limit, and the watchdog ended the exploration.

    Something blocked in a call interleave cannot see (in a thread, the scenario factory,
    ``check()`` or ``teardown()``), or computed for longer than the limit without a yield point.
    Typical causes: a lock created before the exploration and captured where interleave could
    not swap it (a closure, an instance attribute), a lock shared with another OS thread, a
    real socket or pipe read, or a C extension that waits.
    """


class EventLoopBlocked(InterleaveError):
    """An asyncio task would block its event loop: a wait no other task could end.

    Raised in the task (and reported as its crash) when it makes a blocking call that cannot
    go on now, such as acquiring a held ``threading.Lock``: while the event loop's thread is
    blocked no other task runs, so the program would hang there. Use the asyncio primitive, or
    run the blocking call in a thread.

    Example::

        lock = threading.Lock()  # in an async scenario: use asyncio.Lock()
        lock.acquire()

        async def task():
            with lock:  # EventLoopBlocked: held, and this task's loop would hang here
                pass
    """


class FailedHealthCheck(InterleaveError):
    """A health check listed in ``explore(..., fail_health_check=[...])`` failed.

    Raised at the end of an exploration that found nothing but proved less than it seems (see
    :class:`interleave.HealthCheck`); the message names the cause and the fix.

    Attributes:
        checks: the failed checks (``HealthCheck`` members).
        result: the ``ExploreResult`` of the exploration.
    """

    def __init__(self, message: str, *, checks: tuple[Any, ...] = (), result: Any = None):
        super().__init__(message)
        self.checks = checks
        self.result = result


class FindingsError(InterleaveError, AssertionError):
    """Raised by ``ExploreResult.raise_on_failure()``; its message is the full report."""


class WorkerLost(InterleaveError):
    """A worker process of a parallel exploration (``workers=``, ``executor=``) died every time
    it ran the same task: the scenario ends its process (``os._exit``, a crash in C code) or
    runs out of memory there. Exploring it with ``workers=1`` shows what happens."""


class InternalError(InterleaveError):
    """A bug in interleave itself ("internal error in interleave, please report it")."""


class InterleaveWarning(UserWarning):
    """Root of interleave's warnings."""


class HealthCheckWarning(InterleaveWarning):
    """A health check failed: an exploration found nothing but proved less than it seems.

    The message names the cause and the fix. ``check`` is the :class:`interleave.HealthCheck`
    member; ``explore(..., suppress_health_check=[check])`` silences it and
    ``fail_health_check=[check]`` raises :class:`FailedHealthCheck` instead.
    """

    def __init__(self, message: str, check: Any = None) -> None:
        super().__init__(message)
        self.check = check
