"""All text rendering (tabulate lives here only).

A report has a summary table, then per finding: what happened, the interleaving diagram (one
column per thread, the resource and user-code line of each step), the lock-wait cycle for
deadlocks, and copy-paste replay lines.
"""

from __future__ import annotations

import shlex
from collections import Counter as _Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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

__all__ = [
    "ReplayContext",
    "render_explore",
    "render_finding",
    "render_history",
    "render_run",
    "render_trace",
]

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


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayContext:
    """How the reader of a report can run a schedule again: what the replay lines say.

    Attributes:
        factory: the Python name of the scenario factory (``lost_update``).
        target: ``module:factory`` or ``file.py:factory`` for ``interleave replay``.
        node_id: the pytest node ID of the test that explored it, if any (shell-quoted as
            needed).
        project: ``project=`` entries the exploration ran with (an ID does not record them:
            they are paths of this machine), repeated in the lines.
        python_call: the Python line for an ID that ``interleave.replay`` does not take (a
            ``check_linearizable`` ID); there is then no shell line.
    """

    factory: str | None = None
    target: str | None = None
    node_id: str | None = None
    project: tuple[str, ...] = ()
    python_call: Callable[[str], str] | None = None

    @classmethod
    def of(cls, result: ExploreResult, **changes: Any) -> ReplayContext:
        """The context a result implies (its target and project), with ``changes``."""
        target = changes.pop("target", result.target)
        factory = changes.pop("factory", target.rpartition(":")[2] if target else None)
        return cls(
            factory=factory,
            target=target,
            project=changes.pop("project", result.settings.project),
            **changes,
        )


def render_explore(
    result: ExploreResult,
    context: ReplayContext | None = None,
    *,
    how_to_prove: str | None = None,
) -> str:
    """The report of an exploration (``context``: the replay lines to print, see
    :class:`ReplayContext`; by default from the result's target; ``how_to_prove`` replaces the
    advice of ``explore()`` results, for ``check_linearizable``)."""
    if context is None:
        context = ReplayContext.of(result)
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
        out.append(render_finding(finding, context=context))
    return "\n".join(out)


def _how_to_prove(result: ExploreResult) -> str:
    from ._engine._settings import Verdict

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
        out.append(render_finding(finding, replay_lines=False))
    return "\n".join(out)


def render_finding(
    finding: Finding,
    *,
    context: ReplayContext | None = None,
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
        out.append(render_replay_lines(finding.schedule_id, context or ReplayContext()))
    return "\n".join(out)


def _teardown_traceback(finding: Finding) -> list[str]:
    # Shown even when the execution was drawn for an earlier finding: it is all there is to see.
    if not isinstance(finding, TeardownFailed) or not finding.traceback:
        return []
    return ["", "teardown() traceback:", _indent(finding.traceback.rstrip())]


def render_replay_lines(schedule_id: str, context: ReplayContext) -> str:
    """Copy-paste lines that replay ``schedule_id``.

    They need no options but ``project=``: the ID records those that shape an execution
    (``max_steps``, ``trace_attributes``, the patches), and ``replay()`` uses them. The pytest
    line names the test's node ID (``NODEID`` outside pytest), the shell line needs a target.
    """
    factory = context.factory or "scenario"
    python_extra = f", project={list(context.project)!r}" if context.project else ""
    shell_extra = "".join(f" --project {shlex.quote(p)}" for p in context.project)
    python = (
        context.python_call(schedule_id)
        if context.python_call is not None
        else f"interleave.replay({factory}, {schedule_id!r}{python_extra})"
    )
    lines = [
        f"schedule ID: {schedule_id}",
        "replay it:",
        f"  python:  {python}",
    ]
    node = context.node_id or "NODEID"
    lines.append(f"  pytest:  pytest {node} --interleave-replay={schedule_id}")
    if context.target and context.python_call is None:
        lines.append(
            f"  shell:   interleave replay {shlex.quote(context.target)} {schedule_id}"
            + shell_extra
        )
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


# ------------------------------------------------------------------ results as plain values
#: The version of the shape ``to_dict()`` returns; bumped when a key changes meaning or goes.
SCHEMA_VERSION = 1


def explore_dict(result: ExploreResult) -> dict[str, Any]:
    """``ExploreResult.to_dict()``: the result as JSON-ready values."""
    stats = result.statistics
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "exploration",
        "scenario": result.scenario,
        "target": result.target,
        "strategy": result.strategy,
        "verdict": str(result.verdict),
        "exhausted": result.exhausted,
        "stopped_because": str(result.stopped_because),
        "stopped_text": result.stopped_text,
        "schedules_run": result.schedules_run,
        "elapsed": result.elapsed,
        "statistics": {
            "executions": stats.executions,
            "steps": stats.steps,
            "max_depth": stats.max_depth,
            "pruned": stats.pruned,
            "threads": stats.threads,
            "phases": {
                phase: {
                    "seconds": stats.phases.get(phase, 0.0),
                    "executions": stats.phase_executions.get(phase, 0),
                }
                for phase in stats.phase_executions
            },
        },
        "settings": _settings_dict(result),
        "findings": [
            {**finding_dict(f), "occurrences": n}
            for f, n in zip(result.findings, result.occurrences, strict=True)
        ],
    }


def run_dict(run: RunResult) -> dict[str, Any]:
    """``RunResult.to_dict()``: one replayed execution as JSON-ready values."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "replay",
        "scenario": run.scenario,
        "schedule_id": run.schedule_id,
        "steps": _steps_dicts(run.trace),
        "findings": [finding_dict(f) for f in run.findings],
    }


def _settings_dict(result: ExploreResult) -> dict[str, Any]:
    settings = result.settings
    out: dict[str, Any] = {}
    for name in settings.option_names():
        value = getattr(settings, name)
        if isinstance(value, frozenset):
            value = sorted(v.name for v in value)
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out


def finding_dict(finding: Finding) -> dict[str, Any]:
    """One finding as JSON-ready values: what, where, and how to replay it."""
    out: dict[str, Any] = {
        "kind": finding.kind,
        "message": finding.message,
        "schedule_id": finding.schedule_id,
        "threads": list(finding.threads),
        "involved_steps": list(finding.steps),
        "steps": _steps_dicts(finding.trace) if finding.trace is not None else [],
    }
    if isinstance(finding, Deadlock):
        out["cycle"] = list(finding.cycle)
    elif isinstance(finding, LostUpdate):
        out["resource"] = describe_resource(finding.resource)
    elif isinstance(finding, ThreadCrashed):
        out["exception"] = finding.exception
        out["traceback"] = finding.traceback
    return out


def _steps_dicts(trace: Trace) -> list[dict[str, Any]]:
    names = trace.thread_names
    return [
        {
            "index": i,
            "thread": names[tid],
            "operation": op.label or op.kind,
            "kind": op.kind,
            "resource": describe_resource(op.resource),
            "location": str(loc) if loc is not None else None,
        }
        for i, (tid, op, loc) in enumerate(
            zip(trace.choices, trace.ops, trace.locations, strict=True)
        )
    ]


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
