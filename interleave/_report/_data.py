"""Results as plain, JSON-ready values (``to_dict()``), in the shape ``schema.json`` describes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._core._findings import Deadlock, Finding, LostUpdate, ThreadCrashed
from .._core._ops import describe_resource

if TYPE_CHECKING:
    from .._core._trace import Trace
    from .._results import ExploreResult, RunResult

__all__ = ["SCHEMA_VERSION", "explore_dict", "finding_dict", "run_dict"]

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
