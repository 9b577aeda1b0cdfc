"""``AsyncSessionStore`` and its scenarios: the session store of an asyncio server.

The async variant of :mod:`.sessions`. The planted bug of ``variant="buggy"``:
``create_session`` reads the sequence number, awaits the audit log, and only then writes the
next number back. Two sessions created at the same time by two request handlers (asyncio tasks)
get the same id, and the second overwrites the first. Fixed: the whole creation holds the
store's ``asyncio.Lock``. There is no thread anywhere: the race is between the ``await`` and the
write, and asyncio's event loop decides it.

Explore it from the command line::

    interleave explore examples.taskboard.async_sessions:session_creation_buggy

Example::

    import interleave
    from taskboard.async_sessions import session_creation_buggy, session_creation_fixed

    assert "lost-update" in {f.kind for f in interleave.explore(session_creation_buggy).findings}
    assert interleave.explore(session_creation_fixed).ok
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import interleave

from .variant import BUGGY, FIXED, resolve

__all__ = ["AsyncSessionStore", "session_creation_buggy", "session_creation_fixed"]


class AsyncSessionStore:
    """Sessions by id (``"s1"``, ``"s2"`` …), created by asyncio request handlers.

    Args:
        variant: ``"buggy"`` or ``"fixed"`` (default: ``$TASKBOARD_VARIANT``, else buggy).

    Example::

        async def main():
            store = AsyncSessionStore(variant="fixed")
            return await store.create_session(user_id=1)

        assert asyncio.run(main()) == "s1"
    """

    def __init__(self, *, variant: str | None = None) -> None:
        self.variant = resolve(variant)
        self._sequence = interleave.Shared("session_sequence", 0)
        self._sessions: interleave.Cache[str, dict[str, Any]] = interleave.Cache("sessions")
        self._lock = asyncio.Lock()
        self.audit: list[str] = []

    async def create_session(self, *, user_id: int, activity: str = "coding") -> str:
        """Start a session for ``user_id``; return its id."""
        if self.variant == FIXED:
            async with self._lock:
                return await self._create(user_id, activity)
        return await self._create(user_id, activity)

    async def _create(self, user_id: int, activity: str) -> str:
        number = self._sequence.get() + 1
        await self._audit(f"user {user_id} opens session {number}")
        self._sequence.set(number)
        session_id = f"s{number}"
        self._sessions.set(session_id, {"user_id": user_id, "activity": activity})
        return session_id

    async def _audit(self, line: str) -> None:
        await asyncio.sleep(0)  # the audit log's write: an await, where other handlers run
        self.audit.append(line)

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        """The session's data, or None."""
        return self._sessions.get(session_id)

    def count(self) -> int:
        """How many sessions there are."""
        return len(self._sessions)


def _session_creation(variant: str) -> interleave.Scenario:
    store = AsyncSessionStore(variant=variant)

    def handler(user_id: int) -> Callable[[], Coroutine[Any, Any, None]]:
        async def create() -> None:
            session_id = await store.create_session(user_id=user_id)
            session = store.get_session(session_id)
            assert session is not None and session["user_id"] == user_id, (
                f"user {user_id} got session {session_id}, which belongs to {session}"
            )

        return create

    return interleave.Scenario(
        threads={"request-1": handler(1), "request-2": handler(2)},
        check=lambda: store.count() == 2,
    )


def session_creation_buggy() -> interleave.Scenario:
    """Two handlers create a session at once: the same id, one session overwritten."""
    return _session_creation(BUGGY)


def session_creation_fixed() -> interleave.Scenario:
    """The creation holds the store's asyncio.Lock: clean."""
    return _session_creation(FIXED)
