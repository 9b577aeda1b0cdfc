"""The replay lines of a report, from a :class:`ReplayContext`: what to paste to run a
schedule again (Python, pytest, shell)."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._results import ExploreResult

__all__ = ["ReplayContext", "render_replay_lines"]


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
        importable: whether ``factory`` is a name the factory's module binds (else it is only
            the function's own name, which the python line says).
        detect_data_races: whether the exploration looked for data races: the python and
            shell lines turn them off too when it did not (an ID does not record detectors,
            which never change an execution), so the replay reports what the search did.
    """

    factory: str | None = None
    target: str | None = None
    node_id: str | None = None
    project: tuple[str, ...] = ()
    python_call: Callable[[str], str] | None = None
    importable: bool = True
    detect_data_races: bool = True

    @classmethod
    def of(cls, result: ExploreResult, **changes: Any) -> ReplayContext:
        """The context a result implies (its target and project), with ``changes``."""
        target = changes.pop("target", result.target)
        factory = changes.pop("factory", target.rpartition(":")[2] if target else None)
        importable = True
        if factory is None:
            # No module binds the factory (a local function, one made by a function): its own
            # name, which works where it was defined, with a word for the other cases.
            own = result.scenario.rpartition(".")[2]
            factory = own if own.isidentifier() else None
            importable = False
        return cls(
            factory=factory,
            target=target,
            project=changes.pop("project", result.settings.project),
            importable=importable,
            detect_data_races=changes.pop("detect_data_races", result.settings.detect_data_races),
            **changes,
        )


def replay_lines(schedule_id: str, context: ReplayContext) -> list[tuple[str, str]]:
    """``(label, command)`` pairs that replay ``schedule_id``: python, pytest, shell."""
    factory = context.factory or "scenario"
    python_extra = f", project={list(context.project)!r}" if context.project else ""
    shell_extra = "".join(f" --project {shlex.quote(p)}" for p in context.project)
    if not context.detect_data_races:
        python_extra += ", detect_data_races=False"
        shell_extra += " --no-detect-data-races"
    # Outside pytest there is no node ID: the line keeps a NODEID placeholder for the reader
    # to fill in (the plugin passes the real one).
    node = context.node_id or "NODEID"
    python = (
        context.python_call(schedule_id)
        if context.python_call is not None
        else f"interleave.replay({factory}, {schedule_id!r}{python_extra})"
    )
    if context.python_call is None and (context.factory is None or not context.importable):
        python += f"  # {factory}: the scenario factory explored (no module-level name)"
    lines = [
        ("python", python),
        ("pytest", f"pytest {node} --interleave-replay={schedule_id}"),
    ]
    if context.target and context.python_call is None:
        lines.append(
            (
                "shell",
                f"interleave replay {shlex.quote(context.target)} {schedule_id}{shell_extra}",
            )
        )
    return lines


def render_replay_lines(schedule_id: str, context: ReplayContext) -> str:
    """Copy-paste lines that replay ``schedule_id``.

    They need no options but ``project=`` (and ``detect_data_races=False`` when the search
    ran without it): the ID records those that shape an execution (``max_steps``,
    ``trace_attributes``, the patches), and ``replay()`` uses them. The pytest
    line names the test's node ID (``NODEID`` outside pytest), the shell line needs a target.
    """
    out = [f"schedule ID: {schedule_id}", "replay it:"]
    out.extend(f"  {label + ':':<8} {line}" for label, line in replay_lines(schedule_id, context))
    return "\n".join(out)
