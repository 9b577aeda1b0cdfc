"""Per-execution patches: code that must be swapped in while one execution runs.

An instrumentation that patches a module (``sqlite3.connect``, ``threading``) registers a
factory here. ``explore()`` and ``replay()`` enter the enabled patches around every execution
(scenario factory, threads, check and teardown included) and always undo them, also when the
scenario raises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager

from .._core._runtime import Runtime

__all__ = ["ExecutionPatch", "enabled_patches", "register"]

ExecutionPatch = Callable[[Runtime], AbstractContextManager[object]]

# name -> (patch, option that switches it, default when the option is not given)
_REGISTRY: dict[str, tuple[ExecutionPatch, str | None, bool]] = {}


def register(
    name: str, patch: ExecutionPatch, *, option: str | None = None, default: bool = True
) -> None:
    """Register ``patch`` under ``name``; ``option`` names the explore() keyword that
    switches it (None: always on)."""
    _REGISTRY[name] = (patch, option, default)


def enabled_patches(options: Mapping[str, object]) -> list[ExecutionPatch]:
    """The patches to enter, in registration order, given explore()'s keyword options."""
    chosen = []
    for patch, option, default in _REGISTRY.values():
        on = default if option is None else bool(options.get(option, default))
        if on:
            chosen.append(patch)
    return chosen
