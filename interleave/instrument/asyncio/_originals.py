"""The real ``asyncio`` objects, captured once before any patch (a leaf: imports nothing of
interleave), so that the stand-ins can build on them and the patch can put them back."""

from __future__ import annotations

import asyncio
import asyncio.locks
import asyncio.queues
import asyncio.taskgroups
import asyncio.tasks
import asyncio.timeouts

__all__ = ["MODULES", "REAL"]

#: The modules whose attributes the patch swaps: ``asyncio`` and the submodules that define
#: each name (code may use ``asyncio.locks.Lock`` as well as ``asyncio.Lock``).
MODULES = (
    asyncio,
    asyncio.locks,
    asyncio.queues,
    asyncio.tasks,
    asyncio.taskgroups,
    asyncio.timeouts,
)

_NAMES = (
    "Lock",
    "Event",
    "Condition",
    "Semaphore",
    "BoundedSemaphore",
    "Queue",
    "LifoQueue",
    "PriorityQueue",
    "sleep",
    "create_task",
    "current_task",
    "all_tasks",
    "gather",
    "wait_for",
    "timeout",
    "timeout_at",
    "TaskGroup",
    "wait",
    "as_completed",
    "shield",
    "to_thread",
)

#: name -> the real object (as ``asyncio`` exports it).
REAL: dict[str, object] = {name: getattr(asyncio, name) for name in _NAMES}
