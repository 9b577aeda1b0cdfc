"""An execution's deadline (``timeout=``), checked without reading the clock at every step."""

from __future__ import annotations

import time

__all__ = ["DEADLINE_STEPS", "DeadlineReached", "next_check"]

#: With a deadline, the clock is read each time the busiest thread has taken this many more
#: steps (a few milliseconds of steps): a long execution cannot overrun ``timeout=`` by much.
DEADLINE_STEPS = 1_000


class DeadlineReached(BaseException):
    """The runtime's ``deadline`` passed during the execution, which is abandoned unfinished.

    Raised out of :meth:`Runtime.run` (after unwinding and teardown, as for any abort); the
    explorer stops with ``stopped_because="timeout"``. A ``BaseException``: user code's
    ``except Exception`` cannot swallow it.
    """


def next_check(deadline: float | None, max_steps: int, steps: int) -> int:
    """A thread's step count passed the runtime's ``check_at``: raise when the deadline has
    passed, and return the next count to look at (``max_steps`` at most: past it is a step
    limit)."""
    if deadline is None or steps > max_steps:
        return max_steps
    if time.monotonic() >= deadline:
        raise DeadlineReached
    return min(max_steps, steps + DEADLINE_STEPS)
