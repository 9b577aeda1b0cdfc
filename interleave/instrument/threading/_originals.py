"""The real ``threading``, ``queue`` and ``time`` objects the patch replaces, captured once.

Captured at import, before any execution can have swapped them: the patch always restores
exactly these, and the stand-ins fall back on them outside an execution. A leaf module: it
imports nothing of interleave, so every other module of the patch may import it.
"""

from __future__ import annotations

import queue
import threading
import time

__all__ = [
    "LOCK_TYPE",
    "REAL_BARRIER_INIT",
    "REAL_BOUNDED_SEMAPHORE",
    "REAL_CONDITION",
    "REAL_CURRENT_THREAD",
    "REAL_EVENT",
    "REAL_GET_IDENT",
    "REAL_GET_NATIVE_ID",
    "REAL_LOCAL",
    "REAL_LOCK",
    "REAL_QUEUE_GET",
    "REAL_QUEUE_INIT",
    "REAL_QUEUE_PUT",
    "REAL_RLOCK",
    "REAL_SEMAPHORE",
    "REAL_SIMPLE_QUEUE",
    "REAL_SLEEP",
    "REAL_THREAD_INIT",
    "REAL_THREAD_IS_ALIVE",
    "REAL_THREAD_JOIN",
    "REAL_THREAD_START",
    "RLOCK_TYPE",
    "THREAD",
]

REAL_LOCK = threading.Lock
REAL_RLOCK = threading.RLock
REAL_CONDITION = threading.Condition
REAL_SEMAPHORE = threading.Semaphore
REAL_BOUNDED_SEMAPHORE = threading.BoundedSemaphore
REAL_EVENT = threading.Event
REAL_LOCAL = threading.local
REAL_GET_IDENT = threading.get_ident
REAL_GET_NATIVE_ID = threading.get_native_id
REAL_CURRENT_THREAD = threading.current_thread
REAL_SLEEP = time.sleep
REAL_SIMPLE_QUEUE = queue.SimpleQueue
THREAD = threading.Thread
REAL_THREAD_INIT = THREAD.__init__
REAL_THREAD_START = THREAD.start
REAL_THREAD_JOIN = THREAD.join
REAL_THREAD_IS_ALIVE = THREAD.is_alive
REAL_BARRIER_INIT = threading.Barrier.__init__
REAL_QUEUE_INIT = queue.Queue.__init__
REAL_QUEUE_GET = queue.Queue.get
REAL_QUEUE_PUT = queue.Queue.put
# ``threading.Lock``/``RLock`` are factory functions on some versions: the types come from an
# instance.
LOCK_TYPE = type(REAL_LOCK())
RLOCK_TYPE = type(REAL_RLOCK())
