"""All text rendering (tabulate lives here only).

A report has a summary table, then per finding: what happened, the interleaving diagram (one
column per thread, the resource and user-code line of each step), the lock-wait cycle for
deadlocks, and copy-paste replay lines.
"""

from __future__ import annotations

from collections import Counter as _Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ._core._findings import (
    Deadlock,
    Finding,
    InvariantViolation,
    LostUpdate,
    NotLinearizable,
    TeardownFailed,
    ThreadCrashed,
)
from ._core._ops import describe_resource
from ._core._trace import Trace

if TYPE_CHECKING:
    from ._results import ExploreResult, RunResult

__all__ = ["render_explore", "render_finding", "render_history", "render_run", "render_trace"]

#: Traces longer than this are shown around the steps that matter.
MAX_ROWS = 60
_CONTEXT = 3


def _table(rows: Sequence[Sequence[object]], headers: Sequence[str] = ()) -> str:
    from tabulate import tabulate

    return tabulate(rows, headers=list(headers), tablefmt="simple", disable_numparse=True)


def _kinds(findings: Sequence[Finding]) -> str:
    if not findings:
        return "none"
    counts = _Counter(f.kind for f in findings)
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())


def _rate(runs: int, seconds: float) -> str:
    if seconds <= 0:
        return f"{seconds:.3f} s"
    return f"{seconds:.3f} s ({runs / seconds:,.0f} schedules/s)"


def render_explore(
    result: ExploreResult,
    *,
    replay_call: Callable[[str], str] | None = None,
    how_to_prove: str | None = None,
) -> str:
    """The report of an exploration (``replay_call`` and ``how_to_prove`` replace the replay
    line and the advice of ``explore()`` results, for ``check_linearizable``)."""
    coverage = (
        f"exhausted: {result.stopped_text}"
        if result.exhausted
        else f"NOT exhausted: {result.stopped_text}"
    )
    summary = [
        ("scenario", result.scenario),
        ("strategy", result.strategy),
        ("schedules run", f"{result.schedules_run:,}"),
        ("coverage", coverage),
        ("verdict", str(result.verdict)),
        ("findings", _kinds(result.findings)),
        ("elapsed", _rate(result.schedules_run, result.elapsed)),
    ]
    verdict = (
        "no findings" + ("" if result.exhausted else " (but the search was not exhaustive)")
        if result.ok
        else f"{len(result.findings)} distinct finding(s)"
    )
    out = [f"interleave: {result.scenario}: {verdict}", _table(summary)]
    if not result.exhausted and result.ok:
        out.append(f"This is not a proof: {how_to_prove or _how_to_prove(result)}.")
    total = len(result.findings)
    shown: dict[str, int] = {}
    for number, (finding, seen) in enumerate(
        zip(result.findings, result.occurrences, strict=True), 1
    ):
        out.append("")
        header = (
            f"Finding {number} of {total}: {finding.kind} "
            f"(in {seen:,} of {result.schedules_run:,} schedules)"
        )
        out.append(header)
        out.append("=" * len(header))
        first = shown.setdefault(finding.schedule_id, number)
        if first != number:
            # The same execution as an earlier finding: do not draw the diagram twice.
            out.append(_wrap(finding.message))
            out.append(f"(same execution as finding {first}: schedule ID {finding.schedule_id})")
            out.extend(_teardown_traceback(finding))
            continue
        out.append(render_finding(finding, target=result.target, replay_call=replay_call))
    return "\n".join(out)


def _how_to_prove(result: ExploreResult) -> str:
    from ._results import Verdict

    if result.verdict is Verdict.BOUNDED:
        return (
            "schedules beyond the preemption bound were not run; drop preemption_bound (or "
            "use preemption_bound='iterative') for a proof"
        )
    if result.verdict is Verdict.INTERRUPTED:
        return "the exploration was interrupted; let it run to its end for a proof"
    if result.stopped_because == "preemption-bound-partial":
        return (
            "dpor pruned its search at the preemption bound; drop preemption_bound (or use "
            "preemption_bound='iterative') for a proof, or strategy='dfs' for every schedule "
            "within the bound"
        )
    if result.strategy.startswith(("random", "pct")):
        return (
            f"{result.strategy.split()[0]} samples schedules and never covers them all; use "
            "strategy='dpor' (or 'dfs') for a proof"
        )
    return "raise max_schedules (or the timeout) until the run says 'exhausted'"


def render_run(run: RunResult) -> str:
    """The report of one replayed execution."""
    head = (
        f"interleave: replay of {run.scenario} with {run.schedule_id}: "
        f"{len(run.trace)} steps, findings: {_kinds(run.findings)}"
    )
    out = [head]
    if not run.findings:
        out.append(render_trace(run.trace))
    for finding in run.findings:
        out.append("")
        out.append(f"{finding.kind}")
        out.append("-" * len(finding.kind))
        out.append(render_finding(finding, target=None, replay_lines=False))
    return "\n".join(out)


def render_finding(
    finding: Finding,
    *,
    target: str | None = None,
    replay_lines: bool = True,
    replay_call: Callable[[str], str] | None = None,
) -> str:
    """One finding: message, diagram, cycle, traceback and replay lines."""
    out = [_wrap(finding.message)]
    if isinstance(finding, NotLinearizable):
        out.append("")
        out.append(render_history(finding))
    if finding.trace is not None:
        out.append(
            f"({len(finding.trace)} steps, {finding.trace.preemptions()} preemption(s) "
            "in this schedule)"
        )
    marks: dict[int, str] = {}
    if isinstance(finding, LostUpdate):
        marks = {
            finding.read_step: "<- read",
            finding.other_write_step: "<- writes after that read",
            finding.write_step: "<- LOST UPDATE: overwrites it",
        }
    elif isinstance(finding, NotLinearizable):
        marks = {step: "<- no order explains this result" for step in finding.steps}
    elif finding.steps:
        marks = {finding.steps[-1]: f"<- {finding.kind}"}
    if isinstance(finding, Deadlock):
        out.append("")
        out.append(render_wait_cycle(finding))
    if finding.trace is not None and len(finding.trace):
        out.append("")
        out.append(render_trace(finding.trace, marks=marks))
        blocked = [
            (name, outcome)
            for name, outcome in zip(
                finding.trace.thread_names, finding.trace.outcomes, strict=True
            )
            if outcome != "finished"
        ]
        if blocked:
            out.append("at the end: " + ", ".join(f"{name} {outcome}" for name, outcome in blocked))
    if isinstance(finding, ThreadCrashed) and finding.traceback:
        out.append("")
        out.append("traceback:")
        out.append(_indent(finding.traceback.rstrip()))
    if isinstance(finding, InvariantViolation) and finding.detail and "\n" in finding.detail:
        out.append("")
        out.append("check() traceback:")
        out.append(_indent(finding.detail.rstrip()))
    out.extend(_teardown_traceback(finding))
    if replay_lines and finding.schedule_id:
        out.append("")
        out.append(render_replay_lines(finding.schedule_id, target, replay_call))
    return "\n".join(out)


def _teardown_traceback(finding: Finding) -> list[str]:
    # Shown even when the execution was drawn for an earlier finding: it is all there is to see.
    if not isinstance(finding, TeardownFailed) or not finding.traceback:
        return []
    return ["", "teardown() traceback:", _indent(finding.traceback.rstrip())]


def render_replay_lines(
    schedule_id: str, target: str | None, replay_call: Callable[[str], str] | None = None
) -> str:
    """Copy-paste lines that replay ``schedule_id`` (``replay_call`` gives the Python line of
    IDs that ``interleave.replay`` does not take).

    They need no options: the ID records those that shape an execution (``max_steps``,
    ``trace_attributes``, the patches), and ``replay()`` uses them.
    """
    factory = target.rpartition(":")[2] if target else "scenario"
    python = (
        replay_call(schedule_id)
        if replay_call is not None
        else f"interleave.replay({factory}, {schedule_id!r})"
    )
    lines = [
        f"schedule ID: {schedule_id}",
        "replay it:",
        f"  python:  {python}",
        f"  pytest:  pytest NODEID --interleave-replay={schedule_id}",
    ]
    if target and replay_call is None:
        lines.append(f"  shell:   interleave replay {target} {schedule_id}")
    return "\n".join(lines)


def render_wait_cycle(finding: Deadlock) -> str:
    """The lock-wait cycle (or every blocked thread) of a deadlock."""
    if finding.cycle:
        names = list(finding.cycle)
        parts = []
        for i, name in enumerate(names):
            parts.append(name)
            parts.append("--waits for-->" if i % 2 == 0 else "--held by-->")
        parts.append(names[0])
        lines = ["lock-wait cycle:", "  " + " ".join(parts)]
    else:
        lines = ["blocked threads (no cycle):"]
    rows = []
    for info in finding.waits:
        held = ", ".join(sorted({h.thread for h in info.holders})) or "-"
        rows.append(
            (info.thread, info.waits_for, held, str(info.location) if info.location else "-")
        )
    lines.append(_indent(_table(rows, ("thread", "waits for", "held by", "where"))))
    holds = [
        (
            h.thread,
            h.resource,
            "-" if h.step is None else str(h.step),
            str(h.location) if h.location else "-",
        )
        for info in finding.waits
        for h in info.holders
        if h.step is not None
    ]
    if holds:
        lines.append(_indent(_table(holds, ("thread", "holds", "taken at step", "where"))))
    return "\n".join(lines)


def _visible_rows(n: int, marks: dict[int, str]) -> list[int | None]:
    if n <= MAX_ROWS:
        return list(range(n))
    keep = set(range(5)) | set(range(max(0, n - 10), n))
    for step in marks:
        keep.update(range(max(0, step - _CONTEXT), min(n, step + _CONTEXT + 1)))
    rows: list[int | None] = []
    prev = -1
    for i in sorted(keep):
        if i != prev + 1:
            rows.append(None)
        rows.append(i)
        prev = i
    return rows


def render_trace(trace: Trace, *, marks: dict[int, str] | None = None) -> str:
    """The interleaving diagram: one row per step, one column per thread."""
    marks = marks or {}
    names = trace.thread_names
    used = sorted(set(trace.choices))
    headers = ["step", *(names[t] for t in used), "resource", "where", ""]
    column = {tid: k for k, tid in enumerate(used)}
    rows: list[list[str]] = []
    for i in _visible_rows(len(trace), marks):
        if i is None:
            rows.append(["...", *([""] * len(used)), "", "", ""])
            continue
        tid, op, loc = trace.choices[i], trace.ops[i], trace.locations[i]
        cells = [""] * len(used)
        cells[column[tid]] = op.label or op.kind
        rows.append(
            [
                str(i),
                *cells,
                describe_resource(op.resource),
                str(loc) if loc else "",
                marks.get(i, ""),
            ]
        )
    return _table(rows, headers)


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line if line else line for line in text.splitlines())


def _wrap(text: str, width: int = 100) -> str:
    import textwrap

    # Wrap each line on its own: a message's own line breaks (a multi-line exception message,
    # a SQL statement) carry meaning and must survive.
    lines: list[str] = []
    for line in text.splitlines():
        lines.extend(textwrap.wrap(line, width) or [line])
    return "\n".join(lines) or text


def render_history(finding: NotLinearizable) -> str:
    """The calls of a ``not-linearizable`` finding, per thread, and why no order explains
    them."""
    from ._linearizability._checker import short_repr

    def call_text(i: int) -> str:
        call = finding.calls[i]
        return f"{call.thread} {call.method}({', '.join(short_repr(a, 20) for a in call.args)})"

    def result_text(i: int, width: int = 200) -> str:
        # Whole in the explanation (two long results may differ at the end), short in the table.
        call = finding.calls[i]
        if call.raised:
            return f"raised {type(call.result).__name__}"
        return "-> " + short_repr(call.result, width)

    checked = set(finding.checked)
    # A column for the calls on other keys, when the model partitions and some are.
    keyed = finding.key is not None and len(checked) < len(finding.calls)
    rows = [
        (
            call.thread,
            f"{call.method}({', '.join(short_repr(a, 20) for a in call.args)})",
            result_text(i, 30),
            f"{call.invoked}-{call.returned}",
            *([] if not keyed else ["" if i in checked else "(another key)"]),
        )
        for i, call in enumerate(finding.calls)
    ]
    out = [
        "calls (each thread's in order; a call runs from its 'call' step to its result step):",
        _indent(_table(rows, ("thread", "call", "result", "steps", *([""] if keyed else [])))),
    ]
    if finding.key is not None:
        out.append(
            _wrap(
                f"{finding.model}.partition_key() checks calls on different keys apart; no "
                f"order explains the calls on key {finding.key}."
            )
        )
    after = [(a, b) for a, b in finding.after if a in checked and b in checked]
    if after:
        out.append("real time: a call invoked after another one returned must come after it:")
        out.extend(f"  {call_text(a)} before {call_text(b)}" for a, b in after)
    if finding.order:
        out.append(f"the longest order {finding.model} explains:")
        out.extend(f"  {call_text(i)} {result_text(i)}" for i in finding.order)
        out.append("after it, no call fits:")
    else:
        out.append(f"no call can come first under {finding.model}:")
    for i, gives in finding.stuck:
        out.append(f"  {call_text(i)} {result_text(i)}")
        out.append(f"    but {finding.model} {gives} there")
    return "\n".join(out)
