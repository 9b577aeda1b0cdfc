"""The findings the runtime itself reports: a thread that raised, a thread that never stops,
a check that failed, a teardown that raised. (Detectors report the others.)"""

from __future__ import annotations

from collections.abc import Callable

from ._findings import InvariantViolation, StepLimit, TeardownFailed, ThreadCrashed
from ._interrupts import hold_below
from ._locations import exception_location, user_traceback

__all__ = ["check_finding", "crash_finding", "step_limit_finding", "teardown_finding"]


def crash_finding(thread: str, exc: Exception, step: int | None) -> ThreadCrashed:
    """``thread`` raised ``exc`` (in or after step ``step``)."""
    return ThreadCrashed(
        message=f"thread {thread!r} raised {type(exc).__name__}: {exc}",
        threads=(thread,),
        steps=(step,) if step is not None else (),
        thread=thread,
        exception=f"{type(exc).__name__}: {exc}",
        traceback=user_traceback(exc),
        signature=("exception", type(exc).__name__, exception_location(exc)),
    )


def step_limit_finding(thread: str, max_steps: int, step: int) -> StepLimit:
    """``thread`` took more than ``max_steps`` steps (at ``step``)."""
    return StepLimit(
        message=(
            f"thread {thread!r} took more than max_steps={max_steps} steps; it is most likely "
            f"a spin loop (waiting on a shared value that only changes when another thread "
            f"runs, with no blocking call). Wait on an Event, Condition or Lock instead, or "
            f"raise max_steps if the thread really needs that many steps."
        ),
        threads=(thread,),
        steps=(step,),
        thread=thread,
        max_steps=max_steps,
        signature=("step-limit", thread),
    )


def check_finding(check: Callable[[], object]) -> InvariantViolation | None:
    """Run ``check()``; the finding when it raised or returned something false."""
    try:
        ok = check()
    except Exception as exc:
        return InvariantViolation(
            message=f"check() raised {type(exc).__name__}: {exc}",
            detail=user_traceback(exc),
            signature=("invariant", type(exc).__name__, exception_location(exc)),
        )
    if ok:
        return None
    name = getattr(check, "__qualname__", "check")
    hint = (
        " (a check must return True when the state is right; one that only asserts "
        "must end with `return True`)"
        if ok is None
        else ""
    )
    return InvariantViolation(
        message=f"check() returned {ok!r} after all threads finished{hint}",
        detail=f"{name} returned {ok!r}",
        signature=("invariant", "returned", repr(ok)),
    )


@hold_below  # Ctrl-C waits until the teardown has cleaned up (see _interrupts)
def teardown_finding(teardown: Callable[[], object]) -> TeardownFailed | None:
    """Run ``teardown()``; the finding when it raised.

    A teardown that raises is a finding of its own: the exploration goes on (the next execution
    starts from fresh state anyway), and the traceback says what failed.
    """
    try:
        teardown()
    except Exception as exc:
        return TeardownFailed(
            message=f"teardown() raised {type(exc).__name__}: {exc}",
            exception=f"{type(exc).__name__}: {exc}",
            traceback=user_traceback(exc),
            signature=("teardown", type(exc).__name__, exception_location(exc)),
        )
    return None
