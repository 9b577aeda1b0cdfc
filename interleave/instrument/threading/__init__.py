"""Unmodified ``threading``/``queue``/``time.sleep`` code under the scheduler.

While one execution runs (scenario factory, threads, ``check`` and ``teardown``), this patch
swaps in scheduled versions of the threading API:

- ``threading.Lock``, ``RLock``, ``Condition``, ``Semaphore``, ``BoundedSemaphore`` and
  ``Event`` return the scheduled primitives of :mod:`interleave.instrument` when called
  from the execution (a simulated thread, the factory, ``check`` or ``teardown``), and the real
  objects when called from anywhere else (another OS thread, the scheduler itself), so pytest,
  greenlet and the rest of the process keep working.
- ``threading.Thread.start`` starts a simulated thread; ``join``, ``is_alive``, ``name``,
  ``ident`` and ``daemon`` work on it. ``current_thread()``, ``get_ident()`` and
  ``get_native_id()`` return stable per-simulated-thread values (derived from the thread's
  index, so they are the same in every execution).
- ``threading.Barrier`` and ``queue.Queue``/``LifoQueue``/``PriorityQueue`` built during the
  execution run on scheduled locks and conditions; ``queue.SimpleQueue`` is replaced by a
  scheduled equivalent. ``threading.local`` keeps one namespace per simulated thread.
- ``time.sleep`` is a yield point and returns at once (no real sleeping).
- Locks, conditions, semaphores and events that modules of the project (see
  :mod:`interleave.instrument._project`) created *before* the exploration (module globals and
  class attributes) are swapped for scheduled stand-ins named ``module.NAME`` for the
  execution, and so are names bound with ``from threading import Lock``.

A blocking call with a timeout may time out: a scheduling choice like any other. Everything is
restored when the execution ends, also on errors and ``KeyboardInterrupt``.

A call this patch cannot schedule (a real socket read, a lock from another OS thread, a C call)
is the watchdog's business (:mod:`interleave._core._watchdog`), which is on with or without
this patch.

The package, along its seams (each module imports only those above it in this list):

- ``_originals``: the real objects, captured once (imports nothing of interleave);
- ``_scheduling``: is this call part of an execution (should it get scheduled objects)?
- ``_factories``: the stand-ins for ``threading.Lock`` & co., adoption of existing primitives;
- ``_threads``: ``Thread``, ``current_thread``, idents, ``time.sleep``, ``threading.local``;
- ``_queues``: ``queue.Queue`` & co., ``queue.SimpleQueue``, ``threading.Barrier``;
- ``_globals``: the project's module globals and class attributes, swapped per execution;
- ``_execution``: the module-wide swap and the part of the patch around every execution
  (compiled, see ``_core/_native.py``);
- ``_patch``: the public face: ``patch_threading``, ``exploration_scope``, ``is_patched``.
"""

from ._patch import exploration_scope as exploration_scope
from ._patch import is_patched as is_patched
from ._patch import patch_threading as patch_threading
from ._threads import IDENT_BASE as IDENT_BASE

__all__ = [
    "IDENT_BASE",
    "exploration_scope",
    "is_patched",
    "patch_threading",
]
