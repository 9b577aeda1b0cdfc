"""The taskboard's async session store: the planted race between an await and a write is found
and replayed; the asyncio.Lock fix is proved."""

from __future__ import annotations

from taskboard.async_sessions import session_creation_buggy, session_creation_fixed

import interleave


def test_async_session_creation_buggy_loses_a_session_and_replays() -> None:
    result = interleave.explore(session_creation_buggy)
    assert result.exhausted
    kinds = {f.kind for f in result.findings}
    assert {"lost-update", "invariant"} <= kinds, result.report()
    for finding in result.findings:
        again = interleave.replay(session_creation_buggy, finding.schedule_id)
        assert finding.kind in {f.kind for f in again.findings}


def test_async_session_creation_fixed_is_proved() -> None:
    result = interleave.explore(session_creation_fixed)
    assert result.ok and result.verdict == "proved", result.report()
