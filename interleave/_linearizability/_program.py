"""One scenario of a linearizability check as a scenario factory (:class:`_Program`): the
calls of each thread between marks, the history of an execution, and the candidates among its
real-time orders that no order of the model explains."""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._api import Scenario
from .._core import _context
from .._core._findings import CallRecord, NotLinearizable
from .._core._ops import Operation
from .._core._runtime import Runtime
from .._core._trace import Trace
from ..errors import (
    ScenarioError,
)
from ..instrument._shared import point
from ._checker import (
    Analysis,
    HistoryCall,
    Outcome,
    Spec,
    check_history,
    freeze,
    short_repr,
)
from ._history import (
    Poset,
    Span,
    call_poset,
    direct_before,
    happens_before,
    maximal_histories,
)
from ._scenarios import (
    ScenarioCalls,
)

_CACHE_LIMIT = 100_000
#: Failing reorderings kept (and replayed) per scenario: each costs one execution to confirm.
_MAX_CANDIDATES = 20


# ------------------------------------------------------------------ one execution
@dataclass(frozen=True, slots=True)
class _Failure:
    """A history that no order explains: the execution's own (``clocks`` empty), or that of a
    reordering of its independent steps (a candidate, with what is needed to replay it)."""

    spans: tuple[Span, ...]
    before: tuple[int, ...]
    analysis: Analysis
    choices: tuple[int, ...] = ()
    ops: tuple[Operation, ...] = ()
    clocks: list[list[int]] = field(default_factory=list)
    key: Hashable | None = None


class _Execution:
    """What one execution recorded: its runtime, its calls and, after check(), the failure."""

    __slots__ = ("failure", "rt", "spans")

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.spans: list[Span] = []
        self.failure: _Failure | None = None


def _snapshot(value: object) -> object:
    # A result the object keeps changing (an internal list) must be compared as returned.
    if isinstance(value, str | int | float | bytes | bool | type(None)):
        return value
    try:
        return copy.deepcopy(value)
    except Exception:
        return value


#: A call ready to run: method, arguments, the label of its mark, its name for the model.
_PreparedCall = tuple[str, tuple[Any, ...], str, str]


def _call_label(method: str, args: tuple[Any, ...]) -> str:
    inner = ", ".join(short_repr(a, 20) for a in args)
    return f"call {method}({inner})"


def _run_calls(
    execution: _Execution, obj: object, thread: int, calls: tuple[_PreparedCall, ...]
) -> None:
    """A thread of a scenario: its calls, each between an invocation and a response mark."""
    rt = execution.rt
    for method, args, label, name in calls:
        bound = getattr(obj, method)
        point(label)
        invoked = len(rt.choices) - 1
        try:
            outcome = Outcome(False, _snapshot(bound(*args)))
        except Exception as exc:
            outcome = Outcome(True, exc)
        point(outcome.describe(30))
        execution.spans.append(
            Span(HistoryCall(thread, method, args, outcome, name), invoked, len(rt.choices) - 1)
        )


def _calls_key(calls: Sequence[HistoryCall]) -> Hashable | None:
    try:
        return tuple(
            (
                c.thread,
                c.name,
                (True, type(c.outcome.value)) if c.outcome.raised else freeze(c.outcome.value),
            )
            for c in calls
        )
    except Exception:
        return None


class _Checker:
    """The ``check()`` of every execution of a run: its histories against the model.

    Counts what the benchmark and the health checks need: histories checked (and searched:
    not answered from the cache), seconds spent, calls, and calls that took a step of their own.
    """

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.histories = 0
        self.searched = 0
        self.seconds = 0.0
        self.calls = 0
        self.calls_with_steps = 0
        self._cache: dict[tuple[Hashable, tuple[int, ...]], Analysis] = {}
        self._orders: dict[Poset, list[tuple[int, ...]]] = {}
        #: (calls, poset) pairs whose every order was explained: the same again is too.
        self._clean: set[tuple[Hashable, Poset]] = set()

    def check(
        self, rt: Runtime, recorded: Sequence[Span]
    ) -> tuple[_Failure | None, _Failure | None]:
        """The execution's own failing history, else a failing reordering (a candidate)."""
        start = time.perf_counter()
        try:
            return self._check(rt, recorded)
        finally:
            self.seconds += time.perf_counter() - start

    def _check(
        self, rt: Runtime, recorded: Sequence[Span]
    ) -> tuple[_Failure | None, _Failure | None]:
        spans = tuple(sorted(recorded, key=lambda s: (s.call.thread, s.invoked)))
        calls = tuple(s.call for s in spans)
        key = _calls_key(calls)
        choices = rt.choices
        self.calls += len(spans)
        for s in spans:
            t = s.call.thread
            if any(choices[k] == t for k in range(s.invoked + 1, s.returned)):
                self.calls_with_steps += 1
        direct = direct_before(spans)
        analysis = self._verdict(calls, key, direct)
        if not analysis.ok:
            return _Failure(spans, direct, analysis), None
        clocks = happens_before(choices, rt.ops, [t.created_at for t in rt.threads])
        poset = call_poset(choices, clocks, spans)
        if key is not None and (key, poset) in self._clean:
            return None, None
        histories = self._orders.get(poset)
        if histories is None:
            if len(self._orders) >= _CACHE_LIMIT:
                self._orders.clear()
            histories = self._orders[poset] = maximal_histories(poset)
        for before in histories:
            if before == direct:
                continue
            analysis = self._verdict(calls, key, before)
            if not analysis.ok:
                candidate = _Failure(
                    spans,
                    before,
                    analysis,
                    tuple(choices),
                    tuple(rt.ops),
                    clocks,
                    None if key is None else (key, before),
                )
                return None, candidate
        if key is not None:
            if len(self._clean) >= _CACHE_LIMIT:
                self._clean.clear()
            self._clean.add((key, poset))
        return None, None

    def _verdict(
        self, calls: tuple[HistoryCall, ...], key: Hashable | None, before: tuple[int, ...]
    ) -> Analysis:
        self.histories += 1
        if key is not None:
            known = self._cache.get((key, before))
            if known is not None:
                return known
        self.searched += 1
        analysis = check_history(self.spec, calls, before)
        if key is not None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[(key, before)] = analysis
        return analysis


class _Program:
    """The scenario factory of one scenario (a callable object: ``explore(program)``)."""

    def __init__(
        self, make: Callable[[], object], scenario: ScenarioCalls, checker: _Checker, name: str
    ) -> None:
        self.make = make
        self.scenario = scenario
        self.checker = checker
        self.name = name
        self.last: _Execution | None = None
        self.prepared = tuple(
            tuple((m, a, _call_label(m, a), f"{m}{a!r}") for m, a in thread) for thread in scenario
        )
        #: Failing reorderings seen, one per distinct history (in the order first seen), and
        #: how many executions showed each.
        self.candidates: dict[Hashable, _Failure] = {}
        self.seen: dict[Hashable, int] = {}

    def __call__(self) -> Scenario:
        rt = _context.building()
        if rt is None:
            raise ScenarioError("a check_linearizable scenario runs only inside interleave")
        obj = self.make()
        for thread in self.scenario:
            for method, _ in thread:
                if not callable(getattr(obj, method, None)):
                    raise ScenarioError(
                        f"make() returned {type(obj).__name__!s}, which has no method "
                        f"{method!r} (operations= calls it); make() must build the object "
                        "under test"
                    )
        execution = self.last = _Execution(rt)
        threads = {
            f"t{i + 1}": functools.partial(_run_calls, execution, obj, i, calls)
            for i, calls in enumerate(self.prepared)
        }
        return Scenario(
            threads=threads, check=functools.partial(self._check, execution), name=self.name
        )

    def _check(self, execution: _Execution) -> bool:
        execution.failure, candidate = self.checker.check(execution.rt, execution.spans)
        if candidate is not None:
            key = candidate.key if candidate.key is not None else len(self.seen)
            self.seen[key] = self.seen.get(key, 0) + 1
            if key not in self.candidates and len(self.candidates) < _MAX_CANDIDATES:
                self.candidates[key] = candidate
        return execution.failure is None


# ------------------------------------------------------------------ findings
def _describe(call: HistoryCall) -> str:
    return f"t{call.thread + 1} {call.describe(20)}"


def _message(failure: _Failure, model: str) -> str:
    analysis = failure.analysis
    spans = failure.spans
    count = len(analysis.checked)
    where = f" on key {short_repr(analysis.key)}" if analysis.partitioned else ""
    head = (
        f"the results of {count} calls{where} cannot come from any sequential order of them "
        f"that keeps real time (a call after every call that returned before it was invoked) "
        f"under {model}."
    )
    misses = "; ".join(
        f"{_describe(spans[i].call)} {spans[i].call.outcome.describe(60)} where {model} "
        f"{got.as_model(60)}"
        for i, got in analysis.stuck
    )
    if analysis.order:
        steps = ", ".join(
            f"{_describe(spans[i].call)} {spans[i].call.outcome.describe(60)}"
            for i in analysis.order
        )
        return f"{head} The longest order that explains its calls is {steps}; after it, {misses}."
    return f"{head} Whichever call comes first: {misses}."


def _finding(failure: _Failure, trace: Trace, lin_id: str, model: str) -> NotLinearizable:
    spans = failure.spans
    names = trace.thread_names
    analysis = failure.analysis
    calls = tuple(
        CallRecord(
            thread=names[s.call.thread],
            method=s.call.method,
            args=s.call.args,
            result=s.call.outcome.value,
            raised=s.call.outcome.raised,
            invoked=s.invoked,
            returned=s.returned,
        )
        for s in spans
    )
    after = tuple(
        (a, b)
        for b, mask in enumerate(failure.before)
        for a in range(len(spans))
        if mask >> a & 1 and spans[a].call.thread != spans[b].call.thread
    )
    return NotLinearizable(
        message=_message(failure, model),
        threads=tuple(dict.fromkeys(names[spans[i].call.thread] for i in analysis.checked)),
        steps=tuple(sorted(spans[i].returned for i, _ in analysis.stuck)),
        schedule_id=lin_id,
        trace=trace,
        signature=("not-linearizable",),
        model=model,
        calls=calls,
        after=after,
        checked=analysis.checked,
        key=short_repr(analysis.key, 60) if analysis.partitioned else None,
        order=analysis.order,
        stuck=tuple((i, got.as_model(200)) for i, got in analysis.stuck),
    )
