"""The linearizability checker: is there a sequential order of a history's calls that explains
every result and respects real time?

A *history* is a list of completed calls (thread, method, arguments, outcome) and, per call,
the set of calls that returned before it was invoked (``before``: a bit mask). A history is
linearizable against a *model* (a plain class with the same methods, the sequential
specification) when some total order of the calls

- puts every call after the calls in its ``before`` mask (real-time order), and
- gives, run one by one on a fresh model, the outcome each call had.

The search is Wing and Gong's, with Lowe's memoisation: depth first, at each point trying
every call that may come next (all its ``before`` calls placed), on a copy of the model; a
state ``(placed calls, model state)`` that failed once fails again, so it is remembered and cut.
Model states are compared by value (see :func:`freeze`); a state that cannot be frozen is not
remembered (slower, never wrong).

When the model defines ``partition_key(method, args)``, the calls are split by key and each part
is checked against a fresh model on its own (P-compositionality: sound when calls on different
keys touch disjoint parts of the state, which is what defining the method claims).

When no order exists, the answer says how far the search got: the longest order that explains
its calls, and for each call that could come next there, what the model gives instead.
"""

from __future__ import annotations

import copy
import itertools
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

__all__ = ["Analysis", "HistoryCall", "Outcome", "Spec", "check_history", "freeze"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a call did: returned ``value``, or raised it (``raised=True``, an exception)."""

    raised: bool
    value: object

    def matches(self, other: Outcome) -> bool:
        """Does ``other`` (the model's outcome) explain this one?

        Returned values are compared with ``==``; raised exceptions by their exact type.
        """
        if self.raised != other.raised:
            return False
        if self.raised:
            return type(self.value) is type(other.value)
        try:
            return bool(self.value == other.value)
        except Exception:
            return False

    def as_model(self, width: int = 40) -> str:
        """What a model does, in words: ``returns 2`` or ``raises Empty``."""
        if self.raised:
            return f"raises {type(self.value).__name__}"
        return "returns " + short_repr(self.value, width)

    def describe(self, width: int = 40) -> str:
        """``-> 2`` or ``raised Empty``."""
        if self.raised:
            return f"raised {type(self.value).__name__}"
        return "-> " + short_repr(self.value, width)


def short_repr(value: object, width: int = 40) -> str:
    """``repr(value)``, cut to ``width`` characters."""
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= width else text[: width - 3] + "..."


@dataclass(frozen=True, slots=True)
class HistoryCall:
    """One completed call of a history.

    ``name`` identifies the call (method and arguments) for the model's table of moves: by
    default ``method`` and the ``repr`` of ``args``, which is exact for the literal values
    ``check_linearizable`` accepts.
    """

    thread: int
    method: str
    args: tuple[object, ...]
    outcome: Outcome
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", f"{self.method}{self.args!r}")

    def describe(self, width: int = 40) -> str:
        """``get('k')`` (arguments shortened)."""
        inner = ", ".join(short_repr(a, width) for a in self.args)
        return f"{self.method}({inner})"


class Spec:
    """A model class (or any factory of model objects), how it partitions calls, and the model
    states met so far.

    States are *interned* while every one of them freezes (see :func:`freeze`): each distinct
    state gets a number, and each ``(state, call)`` pair is run on the model once, so the
    searches of one check (thousands of histories over a few dozen states) mostly look moves
    up. A state that does not freeze switches interning off for the rest of the check: states
    are then model objects, copied before every call.

    Args:
        model: called with no argument for a fresh model in its initial state.
    """

    __slots__ = ("_ids", "_interning", "_keyer", "_models", "_moves", "model", "name")

    #: Interned moves kept before the table is emptied (a long check with many states).
    MAX_MOVES = 200_000

    def __init__(self, model: Callable[[], object]) -> None:
        self.model = model
        self.name = display_name(model, "model")
        self._keyer: Callable[[str, tuple[object, ...]], object] | None = None
        if callable(getattr(model, "partition_key", None)):
            # Asked of one instance, made once: keys depend on the call, not on any state.
            self._keyer = model().partition_key  # type: ignore[attr-defined]
        self._interning = True
        self._ids: dict[Hashable, int] = {}
        self._models: list[object] = []
        self._moves: dict[tuple[int, str], tuple[Outcome, int]] = {}

    @property
    def partitions(self) -> bool:
        """Does the model split histories by key?"""
        return self._keyer is not None

    def key(self, call: HistoryCall) -> object:
        """The call's partition key (None: it touches the whole object)."""
        assert self._keyer is not None
        return self._keyer(call.method, call.args)

    def start(self) -> object:
        """The initial state: a number while interning, else a fresh model."""
        model = self.model()
        if self._interning:
            number = self._intern(model)
            if number is not None:
                return number
        return model

    def move(self, state: object, call: HistoryCall) -> tuple[Outcome, object]:
        """What ``call`` gives in ``state``, and the state after it (``state`` is unchanged).

        Raises:
            _Unfrozen: interning was on and the next state does not freeze (interning is now
                off: search again from :meth:`start`).
        """
        if not isinstance(state, int):
            trial = copy.deepcopy(state)
            return apply(trial, call), trial
        known = self._moves.get((state, call.name))
        if known is not None:
            return known
        trial = copy.deepcopy(self._models[state])
        got = apply(trial, call)
        number = self._intern(trial)
        if number is None:
            self._interning = False
            raise _Unfrozen(type(trial).__qualname__)
        if len(self._moves) >= self.MAX_MOVES:
            self._moves.clear()
        self._moves[(state, call.name)] = (got, number)
        return got, number

    def _intern(self, model: object) -> int | None:
        key = state_key(model)
        if key is None:
            self._interning = False
            return None
        number = self._ids.get(key)
        if number is None:
            number = self._ids[key] = len(self._models)
            # Kept, never changed again: moves start from a copy.
            self._models.append(model)
        return number


def apply(model: object, call: HistoryCall) -> Outcome:
    """Run ``call`` on ``model`` (which it changes); what it returned or raised."""
    try:
        return Outcome(False, getattr(model, call.method)(*call.args))
    except Exception as exc:
        return Outcome(True, exc)


def display_name(obj: object, fallback: str) -> str:
    """How reports and replay lines name ``obj``: its qualified name where that is an
    expression (``Counter``, ``Tests.Model``), its plain name when it was defined in a
    function, else ``fallback``."""
    qualname = getattr(obj, "__qualname__", None)
    if isinstance(qualname, str) and all(p.isidentifier() for p in qualname.split(".")):
        return qualname
    name = getattr(obj, "__name__", None)
    if isinstance(name, str) and name.isidentifier():
        return name
    return fallback


class _Unfrozen(Exception):
    """A model state that cannot be frozen into a hashable value."""


_SCALARS = (type(None), bool, int, float, complex, str, bytes)


def freeze(value: object) -> Hashable:
    """A hashable value that is equal for equal model states.

    Scalars keep their type (``1`` and ``True`` are different states); sequences, mappings and
    sets keep their iteration order (a model may depend on it); objects are their class and
    attributes. Any other hashable object stands for itself (its ``==`` must be faithful).

    Raises:
        _Unfrozen: part of the state is neither of these (the search then remembers nothing).
    """
    cls = type(value)
    if cls in _SCALARS:
        return (cls, value)
    if isinstance(value, list | tuple | deque):
        return (cls, tuple(freeze(v) for v in value))
    if isinstance(value, dict):
        return (cls, tuple((freeze(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, set | frozenset):
        return (cls, tuple(freeze(v) for v in value))
    state = _state_of(value)
    if state is not None:
        return (cls, freeze(state))
    try:
        hash(value)
    except TypeError:
        raise _Unfrozen(cls.__qualname__) from None
    return (cls, value)


def _state_of(value: object) -> object | None:
    attrs = getattr(value, "__dict__", None)
    slots = [
        name
        for klass in type(value).__mro__
        for name in getattr(klass, "__slots__", ())
        if name not in ("__dict__", "__weakref__") and hasattr(value, name)
    ]
    if attrs is None and not slots:
        return None
    merged = dict(attrs or {})
    for name in slots:
        merged[name] = getattr(value, name)
    return merged


def state_key(model: object) -> Hashable | None:
    """The memo key of ``model``'s state, or None when it cannot be frozen."""
    try:
        return freeze(model)
    except (_Unfrozen, RecursionError):
        return None


@dataclass(frozen=True, slots=True)
class Analysis:
    """The answer of :func:`check_history`.

    Attributes:
        ok: some order explains the history.
        order: an order that explains every call (``ok``), or the longest order that explains
            its calls (not ``ok``); indices into the history.
        stuck: not ``ok``: each call that could come next after ``order``, with what the
            model gives there instead of its outcome.
        checked: the calls that were searched (all, or the part of one partition key).
        key: the partition key of ``checked`` (``partitioned`` is True).
        partitioned: the model split the history by key.
    """

    ok: bool
    order: tuple[int, ...] = ()
    stuck: tuple[tuple[int, Outcome], ...] = ()
    checked: tuple[int, ...] = ()
    key: object = None
    partitioned: bool = False
    searched: int = field(default=0, compare=False)


def check_history(spec: Spec, calls: Sequence[HistoryCall], before: Sequence[int]) -> Analysis:
    """Is the history linearizable against ``spec``? (See the module docs.)

    Args:
        spec: the model.
        calls: the history's calls.
        before: per call, the bit mask of the calls that must come before it.
    """
    everything = tuple(range(len(calls)))
    if not spec.partitions:
        return _search(spec, calls, before, everything, None, False)
    parts: dict[object, list[int]] = {}
    for index, call in enumerate(calls):
        key = spec.key(call)
        if key is None:
            # A call on the whole object: no split is sound.
            return _search(spec, calls, before, everything, None, False)
        parts.setdefault(key, []).append(index)
    searched = 0
    orders = []
    for key, members in parts.items():
        found = _search(spec, calls, before, tuple(members), key, True)
        searched += found.searched
        if not found.ok:
            return found
        orders.append(found.order)
    return Analysis(
        ok=True,
        order=_merge(orders, before),
        checked=everything,
        partitioned=True,
        searched=searched,
    )


def _merge(orders: Sequence[tuple[int, ...]], before: Sequence[int]) -> tuple[int, ...]:
    """One order of all calls that keeps each part's order and real time (it exists when every
    part has one: linearizability is local)."""
    n = len(before)
    needs = list(before)
    for order in orders:
        for earlier, later in itertools.pairwise(order):
            needs[later] |= 1 << earlier
    placed = 0
    merged: list[int] = []
    while len(merged) < n:
        c = next(c for c in range(n) if not placed >> c & 1 and needs[c] & ~placed == 0)
        merged.append(c)
        placed |= 1 << c
    return tuple(merged)


def _search(
    spec: Spec,
    calls: Sequence[HistoryCall],
    before: Sequence[int],
    members: tuple[int, ...],
    key: object,
    partitioned: bool,
) -> Analysis:
    n = len(members)
    # Re-index the part's calls 0..n-1; real-time masks restricted to the part.
    position = {c: i for i, c in enumerate(members)}
    local_before = []
    for c in members:
        mask = 0
        bits = before[c]
        for d in members:
            if bits >> d & 1:
                mask |= 1 << position[d]
        local_before.append(mask)
    full = (1 << n) - 1
    seen: set[tuple[int, Hashable]] = set()
    order: list[int] = []
    best: list[tuple[tuple[int, ...], tuple[tuple[int, Outcome], ...]]] = []
    nodes = 0

    def dfs(done: int, state: object) -> bool:
        nonlocal nodes
        nodes += 1
        if done == full:
            return True
        memo = state if isinstance(state, int) else state_key(state)
        if memo is not None:
            if (done, memo) in seen:
                return False
            seen.add((done, memo))
        misses: list[tuple[int, Outcome]] = []
        for i in range(n):
            if done >> i & 1 or local_before[i] & ~done:
                continue
            call = calls[members[i]]
            got, after = spec.move(state, call)
            if call.outcome.matches(got):
                order.append(i)
                if dfs(done | 1 << i, after):
                    return True
                order.pop()
            else:
                misses.append((i, got))
        if not best or len(order) > len(best[0][0]):
            best[:] = [(tuple(order), tuple(misses))]
        return False

    try:
        ok = dfs(0, spec.start())
    except _Unfrozen:
        # A state that does not freeze: interning is off now; search with model objects.
        seen.clear()
        order.clear()
        best.clear()
        ok = dfs(0, spec.start())
    if ok:
        return Analysis(
            ok=True,
            order=tuple(members[i] for i in order),
            checked=members,
            key=key,
            partitioned=partitioned,
            searched=nodes,
        )
    longest, misses = best[0]
    return Analysis(
        ok=False,
        order=tuple(members[i] for i in longest),
        stuck=tuple((members[i], got) for i, got in misses),
        checked=members,
        key=key,
        partitioned=partitioned,
        searched=nodes,
    )
