"""Install and remove the threading patch: process-wide, and once per execution.

The module-wide swap (``threading.Lock`` & co., ``Thread`` methods, ``queue``, ``time.sleep``)
is reference counted, so that executions in several OS threads, and an exploration that keeps
it on between executions (:func:`exploration_scope`), share one installation; names that project
modules bound with ``from threading import Lock`` are swapped with it (:meth:`ModuleSwap.bind`).
Each execution adds its own part: the primitives in the project's globals swapped for
stand-ins, and its ``Thread`` objects marked stopped at the end. The machinery is in
:mod:`._execution` (compiled); this module is its public face.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..._core._runtime import Runtime
from ._execution import SWAP, ThreadingExecution

__all__ = ["exploration_scope", "is_patched", "patch_threading"]


def is_patched() -> bool:
    """Is the threading patch on (some execution or exploration scope is running)?"""
    return SWAP.active


@contextlib.contextmanager
def exploration_scope() -> Iterator[None]:
    """Keep the module-wide swap in place for many executions.

    Optional: each execution installs and restores everything by itself. Wrapping a whole
    exploration in this scope makes that per-execution work cheap (a reference count) while
    still restoring everything when the scope ends. Between executions only the explorer runs,
    and calls from other OS threads get real objects as always.

    Example::

        with exploration_scope():
            for chooser in choosers:
                Runtime(build, chooser, contexts=[patch_threading]).run()
    """
    SWAP.install()
    try:
        yield
    finally:
        SWAP.uninstall()


def patch_threading(rt: Runtime) -> contextlib.AbstractContextManager[None]:
    """Run ``threading``/``queue``/``time.sleep`` code of one execution under ``rt``."""
    return ThreadingExecution(rt)
