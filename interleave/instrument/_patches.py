"""Per-execution patches: code that must be swapped in while one execution runs.

``explore()`` and ``replay()`` enter the enabled patches around every execution (scenario
factory, threads, check and teardown included) and always undo them, also when the scenario
raises. The patches and the order in which they nest are listed here, once, rather than
registered as a side effect of importing their modules (which made the nesting order the import
order): outermost first.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import NamedTuple

from .._core._runtime import Runtime

__all__ = ["PATCHES", "ExecutionPatch", "Patch", "enabled_patches"]

ExecutionPatch = Callable[[Runtime], AbstractContextManager[object]]


class Patch(NamedTuple):
    """One per-execution patch: where its context factory lives and what switches it on."""

    name: str
    module: str
    factory: str
    option: str | None = None  # the explore() keyword that switches it; None: always on
    default: bool = True

    def load(self) -> ExecutionPatch:
        """The context factory (its module imported on first use)."""
        return _load(self.module, self.factory)


@functools.cache
def _load(module: str, factory: str) -> ExecutionPatch:
    # Cached: every explore() asks for the enabled patches, two or three times.
    patch: ExecutionPatch = getattr(importlib.import_module(module), factory)
    return patch


#: Outermost first: SQLite's cleanup wraps everything else (it closes every connection the
#: execution opened and removes its database copies, whatever else was swapped in), then the
#: ``sqlite3.connect`` patch, attribute tracing, the threading swap, and the asyncio swap
#: innermost (always on: it only changes what an execution's tasks get).
PATCHES: tuple[Patch, ...] = (
    Patch("sqlite", "interleave.instrument.sqlite._patch", "sqlite_execution"),
    Patch("sqlite3.connect", "interleave.instrument.sqlite._patch", "patch_sqlite", "patch_sqlite"),
    Patch(
        "trace_attributes",
        "interleave.instrument._watch",
        "trace_attributes",
        "trace_attributes",
        default=False,
    ),
    Patch(
        "threading",
        "interleave.instrument.threading._execution",
        "ThreadingExecution",
        "patch_threading",
    ),
    Patch("asyncio", "interleave.instrument.asyncio._execution", "AsyncioExecution"),
)


def enabled_patches(options: Mapping[str, object]) -> list[ExecutionPatch]:
    """The patches to enter, outermost first, given explore()'s keyword options."""
    chosen = []
    for patch in PATCHES:
        on = patch.default if patch.option is None else options.get(patch.option, patch.default)
        if on:
            chosen.append(patch.load())
    return chosen
