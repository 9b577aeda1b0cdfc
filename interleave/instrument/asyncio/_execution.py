"""The part of the asyncio patch that runs around every execution (compiled, see
``_core/_native.py``).

The module-wide swap it counts itself into, and the public face of the patch, are in
:mod:`._patch`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType

from ..._core._runtime import Runtime
from .._swap import bind_project_aliases
from ._loop import LoopState
from ._patch import ALIASES, SWAP

__all__ = ["AsyncioExecution"]


# module name -> (size of its namespace when scanned, names bound to a real asyncio object).
_candidates: dict[str, tuple[int, list[str]]] = {}


def _aliases_in(module: ModuleType) -> list[str]:
    namespace = vars(module)
    entry = _candidates.get(module.__name__)
    if entry is None or entry[0] != len(namespace):
        # (A stand-in too: the module may be scanned while another exploration has it bound.)
        names = [n for n, v in list(namespace.items()) if id(v) in ALIASES or SWAP.stands_in(v)]
        entry = _candidates[module.__name__] = (len(namespace), names)
    return entry[1]


class AsyncioExecution:
    """The per-execution patch (a class, not a generator: it runs once per execution)."""

    __slots__ = ("rt", "undo")

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.undo: list[Callable[[], None]] = []

    def __enter__(self) -> None:
        SWAP.install()
        try:
            # Names stay swapped while the module-wide swap does (see ModuleSwap.bind).
            bind_project_aliases(self.rt, SWAP, "asyncio", ALIASES, _aliases_in)
            if "aiosqlite" in sys.modules:
                from . import _aiosqlite

                self.undo.extend(_aiosqlite.patch(sys.modules["aiosqlite"]))
        except BaseException:
            self._restore()
            raise

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self._restore()

    def _restore(self) -> None:
        for undo in reversed(self.undo):
            undo()
        self.undo = []
        state = self.rt.peek(LoopState)
        if state is not None:
            state.restore()
        SWAP.uninstall()
