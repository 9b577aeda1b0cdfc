"""Results as plain, JSON-ready values, in the shape ``schema.json`` (beside this module)
describes, and the JUnit properties of an exploration.

Every value is a ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` or ``None``, so
``json.dumps`` takes it as it is. The shape is versioned (``schema_version``): a key may be
added within a version; one that changes meaning or goes bumps it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from .._core._findings import (
    DataRace,
    Deadlock,
    Finding,
    InvariantViolation,
    LostUpdate,
    StepLimit,
    TeardownFailed,
    ThreadCrashed,
)
from .._core._ops import Location, describe_resource
from ._common import is_exploration

if TYPE_CHECKING:
    from .._contrast import ClosestPass
    from .._core._trace import Step, Trace
    from .._results import ExploreResult, RunResult

__all__ = [
    "SCHEMA_VERSION",
    "explore_dict",
    "finding_dict",
    "junit_properties",
    "run_dict",
    "schema",
    "summary_dict",
    "to_json",
]

#: The version of the shape ``to_dict()`` returns; bumped when a key changes meaning or goes.
SCHEMA_VERSION = 1


def schema() -> dict[str, Any]:
    """The JSON schema (draft 2020-12) of every value this module produces."""
    from importlib.resources import files

    text = files(__package__).joinpath("schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def to_json(value: ExploreResult | RunResult | Mapping[str, Any], *, indent: int = 2) -> str:
    """``value`` (a result, or a dict from this module) as JSON text."""
    data = value if isinstance(value, Mapping) else value.to_dict()
    return json.dumps(data, indent=indent, ensure_ascii=False)


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
            "tasks": stats.tasks,
            "retried": stats.retried,
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
            {
                **finding_dict(f),
                "occurrences": n,
                "closest_passing": _closest_dict(result.closest_pass(i)),
            }
            for i, (f, n) in enumerate(zip(result.findings, result.occurrences, strict=True))
        ],
    }


def _closest_dict(closest: ClosestPass | None) -> dict[str, Any] | None:
    if closest is None:
        return None
    return {
        "schedule_id": closest.schedule_id,
        "agree_steps": closest.agree_steps,
        "passing": _choice(closest.passing),
        "failing": _choice(closest.failing),
        "sentence": closest.sentence(),
    }


def _choice(step: Step) -> dict[str, Any]:
    return {
        "thread": step.thread_name,
        "operation": step.op.label or step.op.kind,
        "resource": describe_resource(step.op.resource),
        "location": _where(step.location),
    }


def run_dict(run: RunResult) -> dict[str, Any]:
    """``RunResult.to_dict()``: one replayed execution as JSON-ready values."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "replay",
        "scenario": run.scenario,
        "schedule_id": run.schedule_id,
        "verdict": "ok" if run.ok else "failed",
        "steps": _steps_dicts(run.trace),
        "findings": [finding_dict(f) for f in run.findings],
    }


def summary_dict(
    results: Iterable[ExploreResult] | Mapping[str, ExploreResult],
) -> dict[str, Any]:
    """What :func:`~interleave.summary_report` shows, as JSON-ready values: one row per
    exploration (in order, named by the mapping's keys if given) and the totals."""
    from ._summary import named

    rows = named(results)
    verdicts = Counter(str(r.verdict) for _, r in rows)
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "summary",
        "verdict": _overall(verdicts),
        "explorations": [
            {
                "name": name,
                "scenario": r.scenario,
                "target": r.target,
                "threads": r.statistics.threads,
                "executions": r.schedules_run,
                "exhausted": r.exhausted,
                "stopped_because": str(r.stopped_because),
                "verdict": str(r.verdict),
                "findings": dict(Counter(f.kind for f in r.findings)),
                "schedule_ids": _distinct_ids(r.findings),
                "elapsed": r.elapsed,
            }
            for name, r in rows
        ],
        "totals": {
            "explorations": len(rows),
            "with_findings": sum(1 for _, r in rows if r.findings),
            "executions": sum(r.schedules_run for _, r in rows),
            "elapsed": sum(r.elapsed for _, r in rows),
            "verdicts": dict(verdicts),
        },
    }


def _overall(verdicts: Counter[str]) -> str:
    # The weakest verdict of the rows: one sampled row makes the whole table sampled.
    for verdict in ("interrupted", "sampled", "bounded"):
        if verdicts[verdict]:
            return verdict
    return "proved"


def _distinct_ids(findings: Iterable[Finding]) -> list[str]:
    return list(dict.fromkeys(f.schedule_id for f in findings if f.schedule_id))


def junit_properties(result: ExploreResult | RunResult) -> list[tuple[str, str]]:
    """``(name, value)`` pairs for a JUnit XML ``<properties>`` element (pytest's
    ``record_property``): the verdict, the executions and every schedule ID.

    An exploration gives ``interleave_verdict``, ``interleave_exhausted``,
    ``interleave_stopped_because``, ``interleave_schedules_run``, ``interleave_executions``
    (every phase), ``interleave_findings`` (``1 lost-update, 1 invariant``) and one
    ``interleave_finding_N`` per finding (``lost-update 2-kAQE...``); a replay gives
    ``interleave_replayed``, ``interleave_verdict`` (``ok`` or ``failed``) and the findings.
    """
    findings = result.findings
    props: list[tuple[str, str]] = [("interleave_scenario", result.scenario)]
    if not is_exploration(result):
        run = cast("RunResult", result)
        props += [
            ("interleave_replayed", run.schedule_id),
            ("interleave_verdict", "ok" if run.ok else "failed"),
        ]
    else:
        props += [
            ("interleave_verdict", str(result.verdict)),
            ("interleave_exhausted", "true" if result.exhausted else "false"),
            ("interleave_stopped_because", str(result.stopped_because)),
            ("interleave_schedules_run", str(result.schedules_run)),
            ("interleave_executions", str(result.statistics.executions)),
        ]
    counts = Counter(f.kind for f in findings)
    props.append(
        ("interleave_findings", ", ".join(f"{n} {k}" for k, n in counts.items()) or "none")
    )
    props += [
        (f"interleave_finding_{n}", f"{f.kind} {f.schedule_id}".strip())
        for n, f in enumerate(findings, 1)
    ]
    return props


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
    trace = finding.trace
    out: dict[str, Any] = {
        "kind": finding.kind,
        "message": finding.message,
        "schedule_id": finding.schedule_id,
        "threads": list(finding.threads),
        "involved_steps": list(finding.steps),
        "steps": _steps_dicts(trace) if trace is not None else [],
        "thread_outcomes": (
            dict(zip(trace.thread_names, trace.outcomes, strict=True)) if trace else {}
        ),
        "preemptions": trace.preemptions() if trace is not None else 0,
    }
    if isinstance(finding, Deadlock):
        out["cycle"] = list(finding.cycle)
        out["waits"] = [
            {
                "thread": w.thread,
                "waits_for": w.waits_for,
                "location": _where(w.location),
                "holders": [
                    {
                        "thread": h.thread,
                        "resource": h.resource,
                        "step": h.step,
                        "location": _where(h.location),
                    }
                    for h in w.holders
                ],
            }
            for w in finding.waits
        ]
    elif isinstance(finding, LostUpdate):
        out["resource"] = describe_resource(finding.resource)
        out["read_step"] = finding.read_step
        out["other_write_step"] = finding.other_write_step
        out["write_step"] = finding.write_step
    elif isinstance(finding, DataRace):
        out["resource"] = describe_resource(finding.resource)
        out["accesses"] = [
            {
                "step": finding.first_step,
                "access": finding.first_access,
                "location": _where(finding.first_location),
            },
            {
                "step": finding.second_step,
                "access": finding.second_access,
                "location": _where(finding.second_location),
            },
        ]
    elif isinstance(finding, InvariantViolation):
        out["detail"] = finding.detail
    elif isinstance(finding, ThreadCrashed):
        out["thread"] = finding.thread
        out["exception"] = finding.exception
        out["traceback"] = finding.traceback
    elif isinstance(finding, StepLimit):
        out["thread"] = finding.thread
        out["max_steps"] = finding.max_steps
    elif isinstance(finding, TeardownFailed):
        out["exception"] = finding.exception
        out["traceback"] = finding.traceback
    return out


def _where(location: Location | None) -> str | None:
    return str(location) if location is not None else None


def _steps_dicts(trace: Trace) -> list[dict[str, Any]]:
    names = trace.thread_names
    return [
        {
            "index": i,
            "thread": names[tid],
            "operation": op.label or op.kind,
            "kind": op.kind,
            "resource": describe_resource(op.resource),
            "location": _where(loc),
            "function": loc.function if loc is not None else None,
        }
        for i, (tid, op, loc) in enumerate(
            zip(trace.choices, trace.ops, trace.locations, strict=True)
        )
    ]
