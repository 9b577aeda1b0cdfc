"""The taskboard's session store and duration cache against sequential specifications built on
the shipped models: the buggy variants are not linearizable, the fixed ones are (proved)."""

from __future__ import annotations

from typing import Any

import pytest
from taskboard import DurationCalculator, SessionStore
from taskboard.durations import DurationResult, parse_hours

import interleave
from interleave.models import CacheModel, CounterModel


# ------------------------------------------------------------------ the session store
class Sessions:
    """A ``SessionStore`` called with positional arguments (operations pass them so)."""

    def __init__(self, variant: str) -> None:
        self.store = SessionStore(variant=variant)

    def create_session(self, user_id: int) -> str:
        return self.store.create_session(user_id=user_id)

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        return self.store.get_session(session_id)

    def count(self) -> int:
        return self.store.count()


def buggy_sessions() -> Sessions:
    return Sessions("buggy")


def fixed_sessions() -> Sessions:
    return Sessions("fixed")


class SessionStoreModel:
    """Sessions numbered by a counter, kept in a cache."""

    def __init__(self) -> None:
        self.ids = CounterModel()
        self.sessions = CacheModel()

    def create_session(self, user_id: int) -> str:
        session_id = f"s{self.ids.increment()}"
        self.sessions.set(session_id, {"user_id": user_id, "activity": "coding"})
        return session_id

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        return self.sessions.get(session_id)  # type: ignore[no-any-return]

    def count(self) -> int:
        return len(self.sessions.data)


SESSION_OPS = [("create_session", (7,)), ("create_session", (8,)), ("get_session", ("s1",))]


def test_the_buggy_session_store_hands_out_one_id_twice() -> None:
    result = interleave.check_linearizable(buggy_sessions, SessionStoreModel, SESSION_OPS)

    finding = result.findings[0]
    assert isinstance(finding, interleave.NotLinearizable), result.report()
    created = [c.result for c in finding.calls if c.method == "create_session"]
    assert created == ["s1", "s1"]
    run = interleave.replay_linearizable(buggy_sessions, SessionStoreModel, finding.schedule_id)
    assert [f.kind for f in run.findings] == ["not-linearizable"]


def test_the_fixed_session_store_is_linearizable() -> None:
    result = interleave.check_linearizable(
        fixed_sessions, SessionStoreModel, [*SESSION_OPS, "count"]
    )

    assert result.ok and result.verdict == "proved", result.report()


# ------------------------------------------------------------------ the duration cache
class DurationCalculatorModel:
    """The specification of a cache is the computation it saves: every answer is the one
    computed with the current length of a day."""

    def __init__(self) -> None:
        self.hours_per_day = 24.0

    def parse_duration_text(self, text: str) -> DurationResult:
        return DurationResult(text, parse_hours(text, self.hours_per_day), self.hours_per_day)

    def set_hours_per_day(self, hours: float) -> None:
        self.hours_per_day = hours

    def clear_cache(self) -> None:
        pass


def buggy_calculator() -> DurationCalculator:
    return DurationCalculator(variant="buggy")


def fixed_calculator() -> DurationCalculator:
    return DurationCalculator(variant="fixed")


DURATION_OPS = [("parse_duration_text", ("1 day",)), ("set_hours_per_day", (8,))]


def test_the_buggy_duration_cache_serves_a_result_of_the_old_day_length() -> None:
    result = interleave.check_linearizable(buggy_calculator, DurationCalculatorModel, DURATION_OPS)

    finding = result.findings[0]
    assert isinstance(finding, interleave.NotLinearizable), result.report()
    stale = [
        c.result
        for c in finding.calls
        if c.method == "parse_duration_text" and c.result.hours_per_day == 24.0
    ]
    assert stale and any(c.method == "set_hours_per_day" for c in finding.calls)
    assert "but DurationCalculatorModel returns DurationResult(" in result.report()


@pytest.mark.parametrize("threads", [2, 3])
def test_the_fixed_duration_cache_is_linearizable(threads: int) -> None:
    result = interleave.check_linearizable(
        fixed_calculator,
        DurationCalculatorModel,
        [*DURATION_OPS, "clear_cache"],
        threads=threads,
        calls_per_thread=2 if threads == 2 else 1,
    )

    assert result.ok and result.verdict == "proved", result.report()
