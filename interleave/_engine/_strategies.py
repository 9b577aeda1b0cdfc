"""Strategies: which schedules to run, in which order, and when the space is covered.

A strategy hands the explorer one chooser per execution (:meth:`Strategy.next_chooser`) and
learns from each finished execution (:meth:`Strategy.record`). Exhaustive strategies return
``None`` from ``next_chooser`` when every schedule they must cover has run; sampling strategies
never do.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import ClassVar

from .._core._native import mypyc_attr
from .._core._ops import Operation
from .._core._program import Chooser, RunOutcome
from .._core._threads import SimThread
from .._core._views import StepView
from ..errors import NondeterministicScenario

__all__ = [
    "SEED_CHUNK",
    "DfsStrategy",
    "IterativeBound",
    "PctStrategy",
    "RandomStrategy",
    "Strategy",
    "chunk_seed",
]


@mypyc_attr(allow_interpreted_subclasses=True)
class Strategy:
    """Base class of exploration strategies."""

    name: ClassVar[str] = "strategy"

    def next_chooser(self) -> Chooser | None:
        raise NotImplementedError

    def record(self, outcome: RunOutcome) -> None:
        """Learn from a finished execution (backtracking, DPOR bookkeeping …)."""

    def last_was_pruned(self) -> bool:
        """Was the last execution equivalent to an earlier one (pruned by reduction)?"""
        return False

    #: Set when a preemption bound cut some schedule: running out then is not a proof.
    cut: bool = False
    #: Does running out of schedules under a preemption bound cover every schedule within
    #: the bound? (True for DFS; DPOR prunes by equivalence, and the representative of a
    #: class may need more preemptions than the bound allows.)
    exact_bound: ClassVar[bool] = True

    def describe(self) -> str:
        return self.name


@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)
class _DfsNode:
    """One scheduling decision on the current DFS path.

    ``options`` are the thread indices to try here, in order (the default policy's pick first,
    so the first execution is the non-preemptive one and few-preemption schedules come early);
    ``pos`` is the option being explored now; ``enabled`` is kept to notice nondeterminism.
    """

    __slots__ = ("enabled", "ops", "options", "pos")

    def __init__(
        self, options: list[int], enabled: tuple[int, ...], ops: tuple[Operation, ...]
    ) -> None:
        self.options = options
        self.pos = 0
        self.enabled = enabled
        self.ops = ops  # the pending operation of each enabled thread


@mypyc_attr(allow_interpreted_subclasses=True)
class DfsStrategy(Strategy):
    """Exhaustive depth-first search over every interleaving of the yield points.

    The exploration tree is kept as the path of the current execution: a stack of
    :class:`_DfsNode`, one per step. After each execution the deepest node with an untried
    option advances and everything below it is dropped::

        step 0   [A*, B]        * = option being explored
        step 1   [A*, B]
        step 2   [B*]           <- exhausted nodes are popped,
                                   then the deepest open node moves on to its next option
    """

    name = "dfs"

    def __init__(self, preemption_bound: int | None = None) -> None:
        self.stack: list[_DfsNode] = []
        self._started = False
        self.exhausted = False
        self.bound = preemption_bound
        self.cut = False
        # The replay fast path (see Chooser): the last chooser's token, and the first steps
        # of the next execution that replay the last one's choices (above the node moved on).
        self._token: object = None
        self._replayable = 0

    def describe(self) -> str:
        return self.name if self.bound is None else f"{self.name} (preemption bound {self.bound})"

    def next_chooser(self) -> Chooser | None:
        if self._started and not self.stack:
            self.exhausted = True
            return None
        self._started = True
        chooser = _DfsChooser(self, self._token, self._replayable)
        self._token = chooser.token
        return chooser

    def record(self, outcome: RunOutcome) -> None:
        stack = self.stack
        # A step-limited execution ends early: nodes past its end were never reached.
        del stack[outcome.steps :]
        self._replayable = 0
        while stack:
            node = stack[-1]
            if node.pos + 1 < len(node.options):
                node.pos += 1
                self._replayable = len(stack) - 1
                return
            stack.pop()


class _DfsChooser:
    __slots__ = ("_listed", "_tids", "follows", "replayable", "stack", "strategy", "token")

    def __init__(self, strategy: DfsStrategy, follows: object, replayable: int) -> None:
        self.strategy = strategy
        self.stack = strategy.stack
        self.token = object()
        self.follows = follows
        self.replayable = replayable
        # The runtime keeps its list of enabled threads from one step to the next while
        # nothing can change it: their ids are kept with it (the list held, so not reused).
        self._listed: list[SimThread] | None = None
        self._tids: tuple[int, ...] = ()

    def choose(self, view: StepView, enabled: list[SimThread]) -> SimThread:
        depth = len(view.choices)
        stack = self.stack
        if enabled is self._listed:
            tids = self._tids
        else:
            self._listed = enabled
            tids = self._tids = tuple([t.tid for t in enabled])
        if depth < len(stack):
            # Replaying the current path: the same threads must be enabled as recorded.
            node = stack[depth]
            if tids != node.enabled:
                raise _nondeterminism(view, depth, node.enabled, enabled)
            index = tids.index(node.options[node.pos])
            chosen = enabled[index]
            if node.ops:  # (a task's nodes above its floor record no operations)
                op, expected = chosen.pending, node.ops[index]
                assert op is not None
                # Each execution builds its own operations: compare kind and resource inline
                # first (the common case, at most replayed steps), the full rule on a miss.
                if (
                    op is not expected
                    and (op.kind != expected.kind or op.resource != expected.resource)
                    and not same_operation(op, expected)
                ):
                    raise _operation_changed(depth, chosen, expected, op)
            return chosen
        first = view.default_choice(enabled)
        options = [first.tid]
        bound = self.strategy.bound
        last = view.last
        # Any other choice is a preemption when the last thread could have continued.
        preempts = last is not None and last in enabled
        # runtime.preemptions counts the preemptions of the steps before this one.
        if bound is not None and preempts and view.preemptions >= bound:
            if len(enabled) > 1:
                self.strategy.cut = True
        else:
            options.extend(t.tid for t in enabled if t is not first)
        stack.append(_DfsNode(options, tids, tuple([t.pending for t in enabled])))  # type: ignore[misc]
        return first


def _nondeterminism(
    view: StepView, depth: int, recorded: tuple[int, ...], enabled: list[SimThread]
) -> NondeterministicScenario:
    names = view.threads

    def show(tids: Sequence[int]) -> str:
        return ", ".join(repr(names[t].name) if t < len(names) else f"#{t}" for t in tids) or (
            "none"
        )

    return NondeterministicScenario(
        f"the scenario is not deterministic: at step {depth}, after the same schedule prefix, "
        f"an earlier execution could run [{show(recorded)}] but this one can run "
        f"[{show([t.tid for t in enabled])}]. Each execution must build fresh state in the "
        "factory and must not depend on time, randomness, hash order or state left over "
        "from earlier executions (module-level caches, files, databases)"
    )


_PLAIN = (str, int, float, bytes, bool, type(None), tuple)


def same_operation(a: Operation, b: Operation) -> bool:
    """Are ``a`` and ``b`` the same operation in two executions (kind and resource)?

    Objects in a resource other than plain values (a cache key that is a user object made
    fresh by each execution) may compare unequal across executions; they are compared by
    type.
    """
    if a.kind != b.kind:
        return False
    ra, rb = a.resource, b.resource
    if ra == rb:
        return True
    if len(ra) != len(rb):
        return False
    for x, y in zip(ra, rb, strict=True):
        if x == y:
            continue
        if isinstance(x, _PLAIN) or type(x) is not type(y):
            return False
    return True


def _operation_changed(
    depth: int, thread: SimThread, expected: Operation, actual: Operation
) -> NondeterministicScenario:
    if expected.kind == actual.kind and expected.resource[:1] == actual.resource[:1]:
        # Same operation on a differently named object: most often a name made per execution
        # (a temporary file, a counter in a name).
        hint = (
            "The same operation touches a differently named object: every execution must name "
            "its shared objects the same way (a database file created per execution keeps its "
            "name in a fresh directory, or comes from interleave.sqlite.template)"
        )
    else:
        hint = (
            "Each execution must build fresh state in the factory and must not depend on time, "
            "randomness, hash order or state left over from earlier executions (module-level "
            "caches, files, databases)"
        )
    return NondeterministicScenario(
        f"the scenario is not deterministic: at step {depth}, after the same schedule prefix, "
        f"thread {thread.name!r} was about to {expected.describe()} in an earlier execution "
        f"but is about to {actual.describe()} in this one. {hint}"
    )


#: Executions per seed of ``random`` and ``pct``: execution ``k`` of an exploration draws from
#: a generator seeded by ``chunk_seed(seed, k // SEED_CHUNK)``, in one process as in a parallel
#: exploration (whose tasks are these chunks), so the sample depends on the seed only.
SEED_CHUNK = 200


def chunk_seed(seed: int, chunk: int) -> int:
    """The seed of chunk ``chunk`` of an exploration seeded ``seed`` (chunk 0: ``seed``)."""
    return seed if chunk == 0 else seed * 1_000_003 + chunk


class _Chunked(Strategy):
    """A seeded strategy whose generator is seeded again at each chunk (see SEED_CHUNK)."""

    def __init__(self, seed: int, chunk: int) -> None:
        self.seed = seed
        self.chunk = chunk  # the chunk of the next execution
        self.left = SEED_CHUNK  # executions left in it
        self.rng = random.Random(chunk_seed(seed, chunk))

    def _next_rng(self) -> random.Random:
        if self.left == 0:
            self.chunk += 1
            self.left = SEED_CHUNK
            self.rng = random.Random(chunk_seed(self.seed, self.chunk))
            self._new_chunk()
        self.left -= 1
        return self.rng

    def _new_chunk(self) -> None:
        """What else starts afresh with a chunk (a parallel task knows nothing before it)."""


class RandomStrategy(_Chunked):
    """Uniformly random choice at every step, from a seeded ``random.Random`` (seeded again
    every ``SEED_CHUNK`` executions; ``chunk``: the chunk to start at)."""

    name = "random"

    def __init__(self, seed: int, chunk: int = 0) -> None:
        super().__init__(seed, chunk)

    def next_chooser(self) -> Chooser | None:
        return _RandomChooser(self._next_rng())

    def describe(self) -> str:
        return f"random (seed={self.seed})"


class _RandomChooser:
    __slots__ = ("rng",)

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def choose(self, view: StepView, enabled: list[SimThread]) -> SimThread:
        if len(enabled) == 1:
            return enabled[0]
        return enabled[self.rng.randrange(len(enabled))]


class PctStrategy(_Chunked):
    """Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010).

    Each execution gives every thread a random priority (all above ``depth``) and picks
    ``depth - 1`` random change points among the steps; the highest-priority enabled thread
    always runs, and at the i-th change point the running thread drops to priority
    ``depth - i``. A bug of depth d (d ordering constraints) is found with probability at least
    1 / (n * k**(d-1)) per execution, for n threads and k steps. Seeded: the same seed gives the
    same schedules (seeded again every ``SEED_CHUNK`` executions, which start again from the
    first length estimate; ``chunk``: the chunk to start at).
    """

    name = "pct"

    def __init__(self, seed: int, depth: int, chunk: int = 0) -> None:
        super().__init__(seed, chunk)
        self.depth = depth
        self.steps = 16  # estimate of the execution length, grown as executions are seen

    def _new_chunk(self) -> None:
        self.steps = 16

    def next_chooser(self) -> Chooser | None:
        rng = self._next_rng()
        return _PctChooser(rng, self.depth, self.steps)

    def record(self, outcome: RunOutcome) -> None:
        self.steps = max(self.steps, outcome.steps)

    def describe(self) -> str:
        return f"pct (depth={self.depth}, seed={self.seed})"


class _PctChooser:
    __slots__ = ("changes", "depth", "priority", "rng")

    def __init__(self, rng: random.Random, depth: int, steps: int) -> None:
        self.rng = rng
        self.depth = depth
        self.priority: dict[int, float] = {}
        count = min(depth - 1, steps)
        points = rng.sample(range(1, steps + 1), count) if count > 0 else []
        # change point step -> the low priority the running thread drops to
        self.changes = {step: float(depth - 1 - i) for i, step in enumerate(sorted(points))}

    def choose(self, view: StepView, enabled: list[SimThread]) -> SimThread:
        priority = self.priority
        for thread in enabled:
            if thread.tid not in priority:
                priority[thread.tid] = self.depth + self.rng.random()
        best = max(enabled, key=lambda t: priority[t.tid])
        low = self.changes.get(view.step_count)
        if low is not None:
            priority[best.tid] = low
            best = max(enabled, key=lambda t: priority[t.tid])
        return best


class IterativeBound(Strategy):
    """Preemption-bounded search with iterative deepening: bound 0, 1, 2 … (CHESS).

    Each round is a complete bounded search; the search ends when a round cut nothing (the
    whole space was covered) or the budget runs out. Schedules of earlier rounds are run again
    in later ones, which is the price of finding the simplest bugs first.
    """

    def __init__(self, make: Callable[[int], Strategy]) -> None:
        self.make = make
        self.bound = 0
        self.inner = make(0)

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.inner.name

    def next_chooser(self) -> Chooser | None:
        while True:
            chooser = self.inner.next_chooser()
            if chooser is not None:
                return chooser
            if not self.inner.cut:
                self.cut = False
                return None
            self.bound += 1
            self.inner = self.make(self.bound)

    def record(self, outcome: RunOutcome) -> None:
        self.inner.record(outcome)
        self.cut = True  # until a round finishes without cutting anything

    def last_was_pruned(self) -> bool:
        return self.inner.last_was_pruned()

    @property
    def exact_bound(self) -> bool:  # type: ignore[override]
        return self.inner.exact_bound

    def describe(self) -> str:
        return f"{self.name} (iterative preemption bound, reached {self.bound})"
