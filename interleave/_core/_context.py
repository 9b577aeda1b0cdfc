"""Which runtime, if any, is scheduling the current OS thread.

Outside an exploration :func:`active` returns ``None`` and every primitive behaves as a plain
object. Only the OS thread that runs an exploration sees it, so production threads elsewhere in
the process are never scheduled by accident.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._runtime import Runtime

__all__ = ["active", "building", "state"]


class _State(threading.local):
    # ``active``: the runtime while it schedules simulated threads.
    # ``building``: the runtime while the scenario factory builds state (names are assigned
    # from the runtime's counters so they are the same in every execution).
    active: Runtime | None = None
    building: Runtime | None = None


#: The per-OS-thread state itself; the shims' hot path reads ``state.active`` directly.
state = _State()
_state = state


def active() -> Runtime | None:
    """The runtime scheduling this OS thread, or ``None``."""
    return _state.active


def building() -> Runtime | None:
    """The runtime whose scenario is being built or run, or ``None``."""
    return _state.building
