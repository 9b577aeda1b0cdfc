"""One table across many explorations: ``summary_report(results)``.

Where :meth:`ExploreResult.report` tells the whole story of one exploration, the summary puts a
suite's explorations side by side, one row each: scenario, threads, executions, exhausted,
verdict, findings by kind, time, and the replay ID of the first finding. Plain text for a
terminal or a log, Markdown for a pull request or a CI job summary.

Text tables are drawn by ``_common.table`` (tabulate, imported when first needed); Markdown
tables are written here, with ``|`` in cells escaped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Final

from .._core._findings import Finding
from .._engine._settings import Verdict
from ..errors import InvalidArgument
from ._common import is_exploration, wrap
from ._common import table as _table

if TYPE_CHECKING:
    from .._results import ExploreResult

__all__ = ["FORMATS", "summary_report"]

#: The formats ``summary_report`` renders.
FORMATS: Final = ("text", "markdown")

#: (finding kind, column header), in the order of the columns. Step limits and failed
#: teardowns get a column only when one occurred.
_KIND_COLUMNS: Final = (
    ("deadlock", "deadlocks"),
    ("lost-update", "lost updates"),
    ("invariant", "invariant violations"),
    ("exception", "exceptions"),
)
_OPTIONAL_KIND_COLUMNS: Final = (
    ("step-limit", "step limits"),
    ("teardown", "teardown errors"),
    ("data-race", "data races"),
)


def summary_report(
    results: Iterable[ExploreResult] | Mapping[str, ExploreResult],
    *,
    format: str = "text",
    width: int | None = None,
) -> str:
    """A table of many explorations: one row per result, and a line of totals.

    Columns: scenario, threads, executions (schedules run), exhausted, the verdict
    (``proved``, ``bounded``, ``sampled`` or ``interrupted``: see :class:`~interleave.Verdict`),
    the number of distinct findings of each kind (deadlocks, lost updates, invariant
    violations, exceptions; step limits and teardown errors when there are any), seconds, and
    the schedule ID of the first finding, which ``interleave.replay(factory, ID)`` replays
    exactly.

    Args:
        results: the explorations, in the order of the rows; a mapping names each row by its
            key instead of by the scenario's name.
        format: ``"text"`` (an aligned table) or ``"markdown"`` (a GitHub table, for pull
            requests and CI job summaries).
        width: for ``"text"``, the columns it must fit in (a terminal's, a CI log's). A
            wider table folds: scenario, threads, executions, verdict and time on the row,
            the findings by kind and the first replay ID on an indented line below it. None
            (the default) keeps one line per exploration however wide.

    Returns:
        The table, a blank line and a totals line (no trailing newline).

    Raises:
        InvalidArgument: an unknown ``format``, or an item that is not an ``ExploreResult``.

    Example::

        results = [interleave.explore(lost_update), interleave.explore(fixed_counter)]
        print(interleave.summary_report(results))
        print(interleave.summary_report(results, format="markdown"))
        print(interleave.summary_report(results, width=100))   # folded to fit
    """
    if format not in FORMATS:
        raise InvalidArgument(
            f"format={format!r} is not one of {', '.join(repr(f) for f in FORMATS)}"
        )
    if width is not None and (isinstance(width, bool) or not isinstance(width, int) or width < 40):
        raise InvalidArgument(f"width={width!r} must be a number of columns, at least 40 (or None)")
    rows = named(results)
    optional = [
        (kind, header)
        for kind, header in _OPTIONAL_KIND_COLUMNS
        if any(f.kind == kind for _, r in rows for f in r.findings)
    ]
    kinds = [*_KIND_COLUMNS, *optional]
    headers = [
        "scenario",
        "threads",
        "executions",
        "exhausted",
        "verdict",
        *(header for _, header in kinds),
        "time (s)",
        "first finding (replay ID)",
    ]
    table = [
        [
            name,
            _threads(result),
            f"{result.schedules_run:,}",
            "yes" if result.exhausted else f"NO ({result.stopped_because})",
            str(result.verdict),
            *(_count(result.findings, kind) for kind, _ in kinds),
            f"{result.elapsed:.2f}",
            _first(result),
        ]
        for name, result in rows
    ]
    totals = _totals(rows)
    if format == "markdown":
        return f"{_markdown(table, headers)}\n\n{totals}"
    text = _table(table, headers)
    if width is not None and max(map(len, text.splitlines()), default=0) > width:
        text = _folded(rows)
        totals = wrap(totals, width)
    return f"{text}\n\n{totals}"


def _folded(rows: Sequence[tuple[str, ExploreResult]]) -> str:
    """The narrow table: the findings and the replay ID of each row on a line of their own."""
    table = [
        [
            name,
            _threads(result),
            f"{result.schedules_run:,}",
            str(result.verdict)
            + ("" if result.exhausted else f" (NOT exhausted: {result.stopped_because})"),
            f"{result.elapsed:.2f}",
        ]
        for name, result in rows
    ]
    lines = _table(table, ["scenario", "threads", "executions", "verdict", "time (s)"]).split("\n")
    out = lines[:2]
    for line, (_, result) in zip(lines[2:], rows, strict=True):
        out.append(line.rstrip())
        if result.findings:
            counts = Counter(f.kind for f in result.findings)
            found = ", ".join(f"{n} {kind}" for kind, n in counts.items())
            out.append(f"  {found}; replay: {_first(result)}")
    return "\n".join(out)


def named(
    results: Iterable[ExploreResult] | Mapping[str, ExploreResult],
) -> list[tuple[str, ExploreResult]]:
    """``(row name, result)`` pairs, each checked to be an ``ExploreResult``."""
    if is_exploration(results):
        raise InvalidArgument(
            "summary_report() takes a list of ExploreResult (or a mapping name -> result), "
            "not one ExploreResult; wrap it: summary_report([result])"
        )
    if isinstance(results, Mapping):
        pairs = [(str(name), result) for name, result in results.items()]
    elif isinstance(results, Iterable) and not isinstance(results, str | bytes):
        pairs = [(getattr(result, "scenario", ""), result) for result in results]
    else:
        raise InvalidArgument(
            f"summary_report(results={results!r:.60}) needs a list of ExploreResult "
            "(what interleave.explore() returns) or a mapping name -> ExploreResult"
        )
    for index, (name, result) in enumerate(pairs):
        if not is_exploration(result):
            where = f"results[{name!r}]" if isinstance(results, Mapping) else f"results[{index}]"
            raise InvalidArgument(
                f"{where} is a {type(result).__name__} ({result!r:.60}), not an ExploreResult; "
                "pass what interleave.explore() returns"
            )
    return pairs


def _threads(result: ExploreResult) -> str:
    # The explorer's statistics carry the thread count when the engine records it; otherwise
    # the traces of the findings show it. A clean result without either shows "-".
    recorded = getattr(result.statistics, "threads", None)
    if isinstance(recorded, int) and recorded > 0:
        return str(recorded)
    seen = [len(f.trace.thread_names) for f in result.findings if f.trace is not None]
    return str(max(seen)) if seen else "-"


def _count(findings: Sequence[Finding], kind: str) -> str:
    n = sum(1 for f in findings if f.kind == kind)
    return str(n) if n else "-"


def _first(result: ExploreResult) -> str:
    for finding in result.findings:
        if finding.schedule_id:
            return f"{finding.schedule_id} ({finding.kind})"
    return "-"


def _totals(rows: Sequence[tuple[str, ExploreResult]]) -> str:
    n = len(rows)
    failing = sum(1 for _, r in rows if r.findings)
    proven = sum(1 for _, r in rows if r.ok and r.exhausted)
    sampled = sum(1 for _, r in rows if r.ok and not r.exhausted)
    executions = sum(r.schedules_run for _, r in rows)
    seconds = sum(r.elapsed for _, r in rows)
    parts = [
        f"{n} exploration{'' if n == 1 else 's'}",
        f"{failing} with findings",
        f"{proven} exhaustively clean",
    ]
    if sampled:
        parts.append(f"{sampled} clean but NOT exhausted (not a proof: raise max_schedules)")
    verdicts = Counter(str(r.verdict) for _, r in rows)
    tally = ", ".join(f"{verdicts[str(v)]} {v}" for v in Verdict if verdicts[str(v)])
    verdict_part = f" (verdicts: {tally})" if tally else ""
    return f"{', '.join(parts)}{verdict_part}; {executions:,} executions in {seconds:.2f} s"


def _markdown(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(_cell(c) for c in cells) + " |"

    # Text columns left-aligned, counts and times right-aligned.
    align = ["---" if i in (0, 3, 4, len(headers) - 1) else "---:" for i in range(len(headers))]
    return "\n".join([line(headers), "|" + "|".join(align) + "|", *(line(r) for r in rows)])


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
