"""``SessionStore``: work sessions kept in memory, with sequential ids.

The planted bug of ``variant="buggy"``: ``create_session`` reads the sequence number, adds one
and writes it back in two steps. Two sessions created at the same time get the same id and the
second overwrites the first (a lost update of the sequence, and a user who finds someone else's
session under their id). Fixed: the increment and the insert hold the store's lock.

Example::

    store = SessionStore(variant="fixed")
    sid = store.create_session(user_id=7, activity="coding")
    assert store.get_session(sid)["user_id"] == 7
"""

from __future__ import annotations

from typing import Any

import interleave

from .variant import FIXED, resolve

__all__ = ["SessionStore"]


class SessionStore:
    """Sessions by id (``"s1"``, ``"s2"`` …).

    Args:
        variant: ``"buggy"`` or ``"fixed"`` (default: ``$TASKBOARD_VARIANT``, else buggy).

    Example::

        store = SessionStore(variant="fixed")
        assert store.create_session(user_id=1) == "s1"
    """

    def __init__(self, *, variant: str | None = None) -> None:
        self.variant = resolve(variant)
        self._sequence = interleave.Shared("session_sequence", 0)
        self._sessions: interleave.Cache[str, dict[str, Any]] = interleave.Cache("sessions")
        self._lock = interleave.Lock(name="sessions")

    def __repr__(self) -> str:
        return f"<SessionStore variant={self.variant!r}>"

    def create_session(self, *, user_id: int, activity: str = "coding") -> str:
        """Start a session for ``user_id``; return its id."""
        if self.variant == FIXED:
            with self._lock:
                return self._create(user_id, activity)
        return self._create(user_id, activity)

    def _create(self, user_id: int, activity: str) -> str:
        number = self._sequence.get() + 1
        self._sequence.set(number)
        session_id = f"s{number}"
        self._sessions.set(session_id, {"user_id": user_id, "activity": activity})
        return session_id

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        """The session's data, or None."""
        return self._sessions.get(session_id)

    def count(self) -> int:
        """How many sessions there are."""
        return len(self._sessions)
