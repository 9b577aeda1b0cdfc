"""Instrumented primitives: shared values, counters, caches, locks and threads.

Each is a plain working object outside an exploration; inside one, every operation is a
yield point the scheduler can interleave.
"""

from ._conditions import Condition as Condition
from ._events import Event as Event
from ._locks import Lock as Lock
from ._locks import RLock as RLock
from ._semaphores import BoundedSemaphore as BoundedSemaphore
from ._semaphores import Semaphore as Semaphore
from ._shared import Cache as Cache
from ._shared import Counter as Counter
from ._shared import Shared as Shared
from ._shared import point as point
from ._spawn import ThreadHandle as ThreadHandle
from ._spawn import spawn as spawn
from ._watch import unwatch as unwatch
from ._watch import watch as watch

__all__ = [
    "BoundedSemaphore",
    "Cache",
    "Condition",
    "Counter",
    "Event",
    "Lock",
    "RLock",
    "Semaphore",
    "Shared",
    "ThreadHandle",
    "point",
    "spawn",
    "unwatch",
    "watch",
]
