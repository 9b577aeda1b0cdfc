"""Scenarios of concurrent calls: parsing ``operations``, generating scenarios (every one, a
seeded sample, or drawn by hypothesis), shrinking a failing one, and the linearizability IDs
that carry a scenario and a schedule.

A scenario is a tuple of threads, each a tuple of calls ``(method, args)``. Threads are
interchangeable (the object under test is fresh, and a thread is only its calls), so scenarios
are kept with their threads sorted: ``((a,), (b,))`` and ``((b,), (a,))`` are one scenario.

hypothesis is imported here only, and only when an argument is a strategy.
"""

from __future__ import annotations

import ast
import base64
import binascii
import itertools
import math
import random
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from ..errors import InvalidArgument, InvalidScheduleId

__all__ = [
    "Call",
    "CallTemplate",
    "ScenarioCalls",
    "all_scenarios",
    "canonical",
    "count_scenarios",
    "decode_id",
    "encode_id",
    "hypothesis_search",
    "is_linearizability_id",
    "parse_operations",
    "sample_scenarios",
    "shrink",
]

Call = tuple[str, tuple[Any, ...]]
ScenarioCalls = tuple[tuple[Call, ...], ...]

#: The prefix and format version of linearizability IDs.
ID_PREFIX = "L1-"
_MAX_ID_TEXT = 1 << 17
_MAX_SCENARIO_TEXT = 1 << 16
_ID = re.compile(r"L1-(?P<scenario>[A-Za-z0-9_-]+)\.(?P<inner>[0-9]+-[A-Za-z0-9_-]*)")


@dataclass(frozen=True, slots=True)
class CallTemplate:
    """One entry of ``operations``: a method and its arguments (values or strategies)."""

    method: str
    args: tuple[Any, ...]
    drawn: bool  # some argument is a hypothesis strategy

    def call(self) -> Call:
        """The call itself (only for templates without strategies)."""
        return (self.method, self.args)


def _strategy_type() -> type | None:
    # A strategy can only be passed when hypothesis is imported already.
    module = sys.modules.get("hypothesis.strategies")
    return getattr(module, "SearchStrategy", None) if module is not None else None


def is_literal(value: object) -> bool:
    """Does ``value`` survive ``repr`` and ``ast.literal_eval`` unchanged (so an ID can hold
    it)?"""
    try:
        back = ast.literal_eval(repr(value))
    except Exception:
        return False
    return type(back) is type(value) and bool(back == value) and _same_types(back, value)


def _same_types(a: object, b: object) -> bool:
    if isinstance(a, list | tuple | set | frozenset):
        return all(_same_types(x, y) for x, y in zip(a, cast(Iterable[object], b), strict=True))
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return all(
            type(k1) is type(k2) and _same_types(v1, v2)
            for (k1, v1), (k2, v2) in zip(a.items(), b.items(), strict=True)
        )
    return type(a) is type(b)


def parse_operations(
    operations: object, has_method: Callable[[str], bool]
) -> tuple[CallTemplate, ...]:
    """``operations`` as templates, validated.

    Raises:
        InvalidArgument: a malformed entry, a method the model lacks, or an argument that is
            neither a literal value nor a hypothesis strategy.
    """
    example = "operations=['increment', ('add', (5,)), ('get', ())]"
    if isinstance(operations, str | bytes) or not hasattr(operations, "__iter__"):
        raise InvalidArgument(
            f"operations={operations!r} must be a list of method names or (method, args) "
            f"pairs, e.g. {example}"
        )
    strategy = _strategy_type()
    templates: list[CallTemplate] = []
    for entry in cast(Iterable[object], operations):
        if isinstance(entry, str):
            name, args = entry, ()
        elif isinstance(entry, tuple | list) and len(entry) == 2 and isinstance(entry[0], str):
            name, args = entry[0], entry[1]
            if isinstance(args, list):
                args = tuple(args)
            if not isinstance(args, tuple):
                raise InvalidArgument(
                    f"operations: the arguments of {name!r} must be a tuple, got {args!r}; "
                    f"write ({name!r}, ({args!r},)) for one argument"
                )
        else:
            raise InvalidArgument(
                f"operations: {entry!r} is neither a method name nor a (method, args) pair; "
                f"e.g. {example}"
            )
        if not name.isidentifier():
            raise InvalidArgument(f"operations: {name!r} is not a method name")
        if not has_method(name):
            raise InvalidArgument(
                f"operations: the model has no method {name!r}: the model is the sequential "
                "specification and needs every method the scenarios call"
            )
        drawn = False
        for arg in cast(tuple[Any, ...], args):
            if strategy is not None and isinstance(arg, strategy):
                drawn = True
            elif not is_literal(arg):
                raise InvalidArgument(
                    f"operations: argument {arg!r} of {name!r} is neither a literal value "
                    "(numbers, strings, bytes, None, booleans, and tuples, lists and dicts of "
                    "them: a schedule ID records it) nor a hypothesis strategy"
                )
        template = CallTemplate(name, args, drawn)
        if template not in templates:
            templates.append(template)
    if not templates:
        raise InvalidArgument(f"operations= is empty: give the calls to try, e.g. {example}")
    return tuple(templates)


def canonical(scenario: ScenarioCalls) -> ScenarioCalls:
    """The scenario with its threads in a fixed order (threads are interchangeable)."""
    return tuple(sorted(scenario, key=repr))


def count_scenarios(templates: int, threads: int, calls: int) -> int:
    """How many scenarios of ``threads`` threads of exactly ``calls`` calls there are, threads
    being interchangeable."""
    sequences = templates**calls
    return math.comb(sequences + threads - 1, threads)


def all_scenarios(
    templates: tuple[CallTemplate, ...], threads: int, calls: int
) -> Iterator[ScenarioCalls]:
    """Every scenario of ``threads`` threads of exactly ``calls`` calls (each a multiset of
    threads), the ones of the first operations first."""
    sequences = list(itertools.product(range(len(templates)), repeat=calls))
    for combo in itertools.combinations_with_replacement(range(len(sequences)), threads):
        yield tuple(tuple(templates[i].call() for i in sequences[j]) for j in combo)


def sample_scenarios(
    templates: tuple[CallTemplate, ...], threads: int, calls: int, count: int, seed: int
) -> list[ScenarioCalls]:
    """``count`` distinct scenarios of exactly ``calls`` calls per thread, drawn with ``seed``."""
    rng = random.Random(seed)
    found: dict[ScenarioCalls, None] = {}
    for _ in range(count * 20):
        if len(found) >= count:
            break
        scenario = tuple(
            tuple(templates[rng.randrange(len(templates))].call() for _ in range(calls))
            for _ in range(threads)
        )
        found.setdefault(canonical(scenario), None)
    return list(found)


def shrink(scenario: ScenarioCalls, fails: Callable[[ScenarioCalls], bool]) -> ScenarioCalls:
    """The smallest scenario reachable from ``scenario`` by dropping threads and calls that
    still ``fails`` (greedy: the first smaller candidate that fails is kept, until none does)."""
    current = scenario
    while True:
        for candidate in _smaller(current):
            if fails(candidate):
                current = candidate
                break
        else:
            return current


def _smaller(scenario: ScenarioCalls) -> Iterator[ScenarioCalls]:
    seen: set[ScenarioCalls] = set()
    if len(scenario) > 1:
        for t in range(len(scenario)):
            candidate = canonical(scenario[:t] + scenario[t + 1 :])
            if candidate not in seen:
                seen.add(candidate)
                yield candidate
    for t, thread in enumerate(scenario):
        if len(thread) == 1:
            continue
        for i in range(len(thread) - 1, -1, -1):
            shorter = thread[:i] + thread[i + 1 :]
            candidate = canonical((*scenario[:t], shorter, *scenario[t + 1 :]))
            if candidate not in seen:
                seen.add(candidate)
                yield candidate


class _Failed(Exception):
    """Raised inside the hypothesis test for a failing scenario (hypothesis shrinks it)."""

    def __init__(self, scenario: ScenarioCalls) -> None:
        super().__init__(repr(scenario))
        self.scenario = scenario


def hypothesis_search(
    templates: tuple[CallTemplate, ...],
    threads: int,
    calls: int,
    *,
    max_scenarios: int,
    seed: int,
    fails: Callable[[ScenarioCalls], bool],
) -> ScenarioCalls | None:
    """Draw up to ``max_scenarios`` scenarios with hypothesis (each thread 1 to ``calls``
    calls, arguments from the strategies); return the failing scenario hypothesis shrank to,
    or None when none failed.

    ``fails`` runs the scenario (an exception other than a failure stops the search and is
    raised here, without shrinking).
    """
    import hypothesis
    from hypothesis import strategies as st

    def template_strategy(t: CallTemplate) -> Any:
        args = [a if isinstance(a, st.SearchStrategy) else st.just(a) for a in t.args]
        return st.tuples(st.just(t.method), st.tuples(*args))

    call = st.one_of(*[template_strategy(t) for t in templates])
    scenario_strategy = st.lists(
        st.lists(call, min_size=1, max_size=calls).map(tuple),
        min_size=threads,
        max_size=threads,
    ).map(lambda threads_: canonical(tuple(threads_)))
    stopped: list[BaseException] = []

    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=max_scenarios,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[hypothesis.Phase.generate, hypothesis.Phase.shrink],
        suppress_health_check=list(hypothesis.HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
    )
    @hypothesis.given(scenario_strategy)
    def probe(scenario: ScenarioCalls) -> None:
        if stopped:
            return
        for thread in scenario:
            for method, args in thread:
                for arg in args:
                    if not is_literal(arg):
                        stopped.append(
                            InvalidArgument(
                                f"operations: a strategy for {method!r} drew {arg!r}, which is "
                                "not a literal value (a schedule ID must record every "
                                "argument): draw numbers, strings, bytes, None, booleans, or "
                                "tuples, lists and dicts of them"
                            )
                        )
                        return
        try:
            failed = fails(scenario)
        except Exception as exc:
            stopped.append(exc)
            return
        if failed:
            raise _Failed(scenario)

    try:
        probe()
    except _Failed as failure:
        if stopped:
            raise stopped[0] from None
        return failure.scenario
    if stopped:
        raise stopped[0]
    return None


# ------------------------------------------------------------------ linearizability IDs
def encode_id(scenario: ScenarioCalls, schedule_id: str) -> str:
    """``L1-<scenario>.<schedule ID>``: the scenario (deflated ``repr``, base64url, CRC-16)
    and the schedule of the execution."""
    data = zlib.compress(repr(scenario).encode("utf-8"), 9, -15)
    raw = data + binascii.crc_hqx(data, 0xFFFF).to_bytes(2, "big")
    text = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    return f"{ID_PREFIX}{text}.{schedule_id}"


def is_linearizability_id(text: str) -> bool:
    """Does ``text`` look like a linearizability ID (and not a plain schedule ID)?"""
    return text.strip().startswith(ID_PREFIX)


def decode_id(text: str) -> tuple[ScenarioCalls, str]:
    """The scenario and the schedule ID in a linearizability ID.

    Raises:
        InvalidScheduleId: the text is not one, or it is damaged (the message says how).
    """
    if not isinstance(text, str):
        raise InvalidScheduleId(f"schedule_id={text!r} must be a string such as 'L1-...'")
    text = text.strip()
    shown = text if len(text) <= 60 else text[:40] + f"... ({len(text):,} characters)"
    if len(text) > _MAX_ID_TEXT:
        raise InvalidScheduleId(f"linearizability ID {shown!r} is too long to be one")
    if not text.startswith(ID_PREFIX):
        raise InvalidScheduleId(
            f"{shown!r} is not a linearizability ID (those start with {ID_PREFIX!r}): a plain "
            "schedule ID from explore() replays with interleave.replay(factory, id)"
        )
    match = _ID.fullmatch(text)
    if match is None:
        raise InvalidScheduleId(
            f"linearizability ID {shown!r} is damaged: expected {ID_PREFIX}<scenario>.<schedule "
            "ID> in base64url characters; copy it whole from the report"
        )
    payload = match["scenario"]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    except (binascii.Error, ValueError):
        raise InvalidScheduleId(f"linearizability ID {shown!r} is damaged (base64)") from None
    if len(raw) < 3 or binascii.crc_hqx(raw[:-2], 0xFFFF) != int.from_bytes(raw[-2:], "big"):
        raise InvalidScheduleId(
            f"linearizability ID {shown!r} is damaged: its checksum does not match (a "
            "character was changed or lost); copy it whole from the report"
        )
    inflater = zlib.decompressobj(-15)
    try:
        body = inflater.decompress(raw[:-2], _MAX_SCENARIO_TEXT)
    except zlib.error:
        raise InvalidScheduleId(f"linearizability ID {shown!r} is damaged (deflate)") from None
    if inflater.unconsumed_tail:
        raise InvalidScheduleId(f"linearizability ID {shown!r} holds too large a scenario")
    try:
        scenario = ast.literal_eval(body.decode("utf-8"))
    except Exception:
        raise InvalidScheduleId(
            f"linearizability ID {shown!r} is damaged: its scenario does not parse"
        ) from None
    if not _is_scenario(scenario):
        raise InvalidScheduleId(
            f"linearizability ID {shown!r} is damaged: it holds no scenario of calls"
        )
    return scenario, match["inner"]


def _is_scenario(value: object) -> bool:
    if not isinstance(value, tuple) or not value:
        return False
    for thread in value:
        if not isinstance(thread, tuple) or not thread:
            return False
        for call in thread:
            if not (
                isinstance(call, tuple)
                and len(call) == 2
                and isinstance(call[0], str)
                and call[0].isidentifier()
                and isinstance(call[1], tuple)
            ):
                return False
    return True
