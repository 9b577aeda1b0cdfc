"""Scenarios: what a scenario factory returns, and how one becomes the program an execution runs.

A scenario *factory* builds fresh shared state and returns a :class:`Scenario` (or a list of
thread functions); each execution calls it again, so every execution starts from the same
state. This module checks what the factory gives and normalises it into a ``Program``.
"""

from __future__ import annotations

import inspect
import itertools
import operator
import os
import sys
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import FunctionType

from ._core import _interrupts
from ._core._program import Program, ThreadSpec
from ._core._schedule import DEFAULT_OPTIONS, ExecutionOptions
from .errors import ScenarioError

__all__ = [
    "Scenario",
    "bound_name",
    "builder",
    "check_factory",
    "factory_name",
    "factory_target",
    "not_a_factory",
]


ScenarioFactory = Callable[[], "Scenario | Sequence[Callable[[], object]]"]

# ``ThreadSpec(None, fn)`` without the named tuple's Python-level ``__new__`` (hot path).
_new_spec = tuple.__new__


@dataclass(frozen=True, slots=True, init=False)
class Scenario:
    """What a scenario factory returns: fresh shared state's threads and how to check it.

    Args:
        threads: the logical threads, as a sequence of callables (named after the function,
            ``worker#1``, ``worker#2`` …) or a mapping ``name -> callable``.
        check: called after every thread finished; returning False (or raising) is an
            ``invariant`` finding.
        teardown: called after every execution, also failed ones (close files, drop state).
        name: shown in reports; defaults to the factory's name.

    Example::

        def lost_update():
            hits = interleave.Shared("hits", 0)
            def worker():
                hits.set(hits.get() + 1)
            return interleave.Scenario(threads=[worker, worker],
                                       check=lambda: hits.get() == 2)
    """

    threads: Sequence[Callable[[], object]] | Mapping[str, Callable[[], object]]
    check: Callable[[], object] | None = None
    teardown: Callable[[], object] | None = None
    name: str | None = field(default=None)

    #: The normalised threads, computed once when the Scenario is made.
    _specs: tuple[ThreadSpec, ...] = field(default=(), init=False, repr=False, compare=False)

    def __init__(
        self,
        threads: Sequence[Callable[[], object]] | Mapping[str, Callable[[], object]],
        check: Callable[[], object] | None = None,
        teardown: Callable[[], object] | None = None,
        name: str | None = None,
    ) -> None:
        # Written out (init=False): a factory makes a Scenario on every execution, and the
        # generated frozen __init__ and its __post_init__ cost more than the rest of a small
        # factory. Frozen: the fields are set through object.__setattr__.
        _set = object.__setattr__
        _set(self, "threads", threads)
        _set(self, "check", check)
        _set(self, "teardown", teardown)
        _set(self, "name", name)
        _set(self, "_specs", _thread_specs(threads, "Scenario"))
        if not (
            (check is None or callable(check))
            and (teardown is None or callable(teardown))
            and (name is None or isinstance(name, str))
        ):
            _refuse(check, teardown, name)


def _refuse(check: object, teardown: object, name: object) -> None:
    """Raise the ScenarioError that says which of ``Scenario``'s arguments is wrong."""
    for label, fn in (("check", check), ("teardown", teardown)):
        if fn is not None and not callable(fn):
            raise ScenarioError(
                f"Scenario {label}= must be a callable taking no arguments, not {type(fn).__name__}"
            )
    raise ScenarioError(f"Scenario name={name!r} must be a string")


def _thread_specs(threads: object, where: str) -> tuple[ThreadSpec, ...]:
    if type(threads) is list and threads:
        # The common case, on every execution: a list of plain, synchronous functions.
        for fn in threads:
            if type(fn) is not FunctionType or fn.__code__.co_flags & inspect.CO_COROUTINE:
                break
        else:
            return tuple([_new_spec(ThreadSpec, (None, fn, ())) for fn in threads])
    if isinstance(threads, Mapping):
        specs = []
        for name, fn in threads.items():
            if not isinstance(name, str) or not name:
                raise ScenarioError(f"{where} thread names must be non-empty strings, got {name!r}")
            if not callable(fn):
                raise ScenarioError(
                    f"{where} thread {name!r} must be a callable, not {type(fn).__name__}"
                )
            specs.append(ThreadSpec(name, fn))
        result = tuple(specs)
    elif isinstance(threads, Sequence) and not isinstance(threads, str | bytes):
        for i, fn in enumerate(threads):
            if not callable(fn):
                raise ScenarioError(
                    f"{where} thread {i} must be a callable, not {type(fn).__name__} "
                    f"({fn!r}); pass the function itself, not its result"
                )
        result = tuple(ThreadSpec(None, fn) for fn in threads)
    else:
        raise ScenarioError(
            f"{where} threads= must be a list of callables or a mapping name -> callable, "
            f"not {type(threads).__name__}"
        )
    asynchronous = [_is_async(spec.fn) for spec in result]
    if any(asynchronous):
        if not all(asynchronous):
            sync = [_fn_name(s.fn) for s, a in zip(result, asynchronous, strict=True) if not a]
            tasks = [_fn_name(s.fn) for s, a in zip(result, asynchronous, strict=True) if a]
            raise ScenarioError(
                f"{where} mixes async functions ({', '.join(tasks)}) with synchronous threads "
                f"({', '.join(sync)}): interleave explores either the tasks of one event loop "
                "or threads, not both (a task blocked on a thread's lock stops its whole event "
                "loop, which it cannot model soundly yet). Make every thread an async function, "
                "or none"
            )
        from .instrument.asyncio import AsyncMain

        result = tuple(ThreadSpec(spec.name, AsyncMain(spec.fn), spec.args) for spec in result)
    if not result:
        raise ScenarioError(
            f"{where} needs at least one thread: threads= is empty (return the thread "
            "functions, e.g. Scenario(threads=[worker, worker]))"
        )
    return result


def _is_async(fn: object) -> bool:
    # Plain functions (the common case, on every execution) are checked by their code flags;
    # anything else (partials, methods, callables) through inspect.
    if type(fn) is FunctionType:
        return bool(fn.__code__.co_flags & inspect.CO_COROUTINE)
    return inspect.iscoroutinefunction(fn)


def _fn_name(fn: object) -> str:
    return str(getattr(fn, "__name__", fn))


def _with_cancellers(threads: tuple[ThreadSpec, ...]) -> tuple[ThreadSpec, ...]:
    """The scenario's tasks and, after them, a canceller pair for each (``cancellation=True``)."""
    from .instrument.asyncio import AsyncMain, cancellers

    if not threads or not isinstance(threads[0].fn, AsyncMain):
        return threads
    return threads + tuple(
        ThreadSpec(None, fn) for i in range(len(threads)) for fn in cancellers(i)
    )


def factory_name(factory: object) -> str:
    """The factory's qualified name (the scenario's name unless it gives one)."""
    return str(getattr(factory, "__qualname__", None) or getattr(factory, "__name__", "scenario"))


def factory_target(factory: object) -> str | None:
    """``module:qualname`` for the command line, or ``path.py:name`` for scripts.

    A factory made by a function (``inc = increments(3, 2)``: its qualname is
    ``increments.<locals>.scenario``) is named by a module-level name bound to it, in its own
    module or any other (:func:`bound_name`); None when nothing names it (a lambda, a local
    function).
    """
    name = getattr(factory, "__qualname__", None)
    module = getattr(factory, "__module__", None)
    path: str | None = None
    if not isinstance(name, str) or "<" in name or "." in name:
        found = bound_name(factory)
        if found is None:
            return None
        module, name = found
        if module != "__main__":
            return f"{module}:{name}"
        path = getattr(sys.modules.get(module), "__file__", None)
    elif module in (None, "__main__") or not isinstance(module, str):
        try:
            path = inspect.getsourcefile(factory)  # type: ignore[arg-type]
        except TypeError:
            return None
    else:
        return f"{module}:{name}"
    if not path or not os.path.isfile(path):  # (code run from a string: ``python -c``)
        return None
    rel = os.path.relpath(path)
    return f"{path if rel.startswith('..') else rel}:{name}"


def bound_name(factory: object, *, main: bool = True) -> tuple[str, str] | None:
    """``(module, name)``: a public module-level name bound to ``factory`` itself.

    The factory's own module is looked at first, then every other loaded module in name
    order, the main module last (``main=False`` leaves it out: worker processes cannot
    import it by name). The standard library and interleave's own modules (but its bundled
    examples) are left out: no scenario is bound there, and they hold most of the names of a
    process (a closure's scan took 0.4 ms per ``explore()`` with 350 modules loaded, more
    than an exploration of 30 executions).
    """
    own = getattr(factory, "__module__", None)
    stdlib = sys.stdlib_module_names
    modules = sorted(
        (name, module)
        for name, module in list(sys.modules.items())
        if (top := name.partition(".")[0]) not in stdlib
        and (top != "interleave" or name.startswith("interleave._examples"))
        and name not in ("__main__", "__mp_main__", own)
    )
    if isinstance(own, str) and own in sys.modules and (main or own != "__main__"):
        modules.insert(0, (own, sys.modules[own]))
    if main and own != "__main__" and "__main__" in sys.modules:
        modules.append(("__main__", sys.modules["__main__"]))
    for module_name, module in modules:
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        if not any(map(operator.is_, namespace.values(), itertools.repeat(factory))):
            continue
        for key, value in list(namespace.items()):
            if value is factory and key.isidentifier() and not key.startswith("__"):
                return module_name, key
    return None


def check_factory(factory: object) -> None:
    """Raise ``ScenarioError`` unless ``factory`` is a callable that is not a Scenario."""
    if isinstance(factory, Scenario):
        raise ScenarioError(
            "explore() needs the scenario *factory* (a function that builds fresh state and "
            "returns a Scenario), not a Scenario: each execution must start from fresh state. "
            "Pass the function itself, e.g. explore(lost_update), not explore(lost_update())"
        )
    if not callable(factory):
        raise ScenarioError(
            f"the scenario must be a callable factory returning interleave.Scenario, "
            f"not {type(factory).__name__}"
        )
    kind = not_a_factory(factory)
    if kind is not None:
        raise ScenarioError(
            f"the scenario must be a callable factory returning interleave.Scenario, not "
            f"{kind}: pass the function that builds fresh state and returns the Scenario"
        )


def not_a_factory(value: object) -> str | None:
    """What ``value`` is, if it is callable but calling it cannot make a Scenario: a type
    alias (``Callable[[], Scenario]``) or a class other than Scenario's own (calling it
    makes one of its own instances); None otherwise."""
    if typing.get_origin(value) is not None or isinstance(value, typing.TypeVar):
        return f"a type alias ({value!r})"
    if inspect.isclass(value) and not issubclass(value, Scenario):
        return f"a class (calling it makes a {value.__name__})"
    return None


def builder(
    factory: Callable[[], object], options: ExecutionOptions = DEFAULT_OPTIONS
) -> Callable[[], Program]:
    """The runtime's ``build``: call the factory, normalise what it returns. ``options`` are
    recorded in the schedule IDs of the executions."""
    default_name = factory_name(factory)

    # Ctrl-C waits until the factory returns (see _core/_interrupts.py): setup that acquires
    # what the teardown releases (a temporary folder) is never cut short between the two.
    @_interrupts.hold_below
    def build() -> Program:
        produced = factory()
        if isinstance(produced, Scenario):
            specs = produced._specs
            return Program(
                threads=_with_cancellers(specs) if options.cancellation else specs,
                check=produced.check,
                teardown=produced.teardown,
                name=produced.name or default_name,
                options=options,
            )
        if isinstance(produced, Sequence | Mapping) and not isinstance(produced, str | bytes):
            specs = _thread_specs(produced, f"scenario factory {default_name}()")
            return Program(
                threads=_with_cancellers(specs) if options.cancellation else specs,
                name=default_name,
                options=options,
            )
        raise ScenarioError(
            f"scenario factory {default_name}() returned {type(produced).__name__} "
            f"({produced!r:.60}); it must return interleave.Scenario(threads=[...]) or a "
            "list of callables"
        )

    return build
