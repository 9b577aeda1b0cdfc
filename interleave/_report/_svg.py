"""Inline SVG pictures for the HTML report: the timeline of an execution (one swimlane per
thread, a box per step, lines between conflicting steps) and the lock-wait graph of a deadlock.

Everything is drawn with plain shapes and text: no ``<marker>``, ``<use>`` or ``url(#...)``
(arrowheads are small polygons), so the page references nothing at all, not even itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from .._core._findings import DataRace, Deadlock, Finding, LostUpdate
from .._core._ops import conflict, describe_resource

if TYPE_CHECKING:
    from .._contrast import ClosestPass
    from .._core._trace import Trace

__all__ = ["Picture", "source_line", "timeline", "wait_graph"]

_LANE = 64  # height of a swimlane
_COLUMN = 128  # width of a step
_BOX_W, _BOX_H = 116, 42
_LEFT = 132  # the lane names
_TOP = 34  # the step numbers
#: Longer traces are drawn around the steps that matter, like the text report.
MAX_STEPS = 240


@dataclass(frozen=True, slots=True)
class Picture:
    """An SVG element and the number of steps it leaves out."""

    svg: str
    elided: int


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def source_line(filename: str, lineno: int) -> str:
    """The stripped source line, or "" when it cannot be read (the report renders on the
    machine that explored, where the file usually is)."""
    import linecache

    return linecache.getline(filename, lineno).strip()


def _switches(trace: Trace) -> set[int]:
    """Steps at which the previous thread was switched away from although it ran again
    later (a preemption, unless it was blocked there)."""
    last: dict[int, int] = {}
    for i, t in enumerate(trace.choices):
        last[t] = i
    choices = trace.choices
    return {
        i
        for i in range(1, len(choices))
        if choices[i] != choices[i - 1] and last[choices[i - 1]] > i
    }


def _conflicts(trace: Trace, steps: list[int]) -> list[tuple[int, int]]:
    """For each shown step, an edge from the latest earlier shown step of another thread
    whose footprint conflicts with it: the order that matters between threads."""
    edges = []
    for k, j in enumerate(steps):
        op = trace.ops[j]
        for i in reversed(steps[:k]):
            if trace.choices[i] != trace.choices[j] and conflict(
                trace.ops[i].footprint, op.footprint
            ):
                edges.append((i, j))
                break
    return edges


def _arrow(x1: float, y1: float, x2: float, y2: float, cls: str, label: str = "") -> str:
    """A line with a polygon arrowhead at (x2, y2), and an optional label at its middle."""
    angle = math.atan2(y2 - y1, x2 - x1)
    size = 8
    left = (x2 - size * math.cos(angle - 0.4), y2 - size * math.sin(angle - 0.4))
    right = (x2 - size * math.cos(angle + 0.4), y2 - size * math.sin(angle + 0.4))
    head = f"{x2:.1f},{y2:.1f} {left[0]:.1f},{left[1]:.1f} {right[0]:.1f},{right[1]:.1f}"
    out = [
        f'<g class="{cls}"><line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"/>',
        f'<polygon points="{head}"/>',
    ]
    if label:
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2 - 4
        out.append(f'<text x="{mx:.1f}" y="{my:.1f}" text-anchor="middle">{escape(label)}</text>')
    out.append("</g>")
    return "".join(out)


def _shown(n: int, marks: dict[int, str]) -> list[int]:
    if n <= MAX_STEPS:
        return list(range(n))
    keep = set(range(20)) | set(range(n - 40, n))
    for step in marks:
        keep.update(range(max(0, step - 10), min(n, step + 11)))
    return sorted(keep)


def timeline(
    finding: Finding | None,
    trace: Trace,
    marks: dict[int, str],
    *,
    closest: ClosestPass | None = None,
    ident: str = "t",
    pending: dict[str, str] | None = None,
) -> Picture:
    """The execution as swimlanes: one lane per thread, one box per step in the thread that
    ran it, a line from each step to the earlier step of another thread it conflicts with,
    the finding's steps marked, switches marked, where a passing run parts, and (``pending``:
    thread name -> text) what each blocked thread waits for at the end."""
    pending = pending or {}
    steps = _shown(len(trace), marks)
    used = sorted(set(trace.choices))
    lane = {tid: k for k, tid in enumerate(used)}
    column = {step: k for k, step in enumerate(steps)}
    extra = 1 if pending else 0
    width = _LEFT + _COLUMN * (max(1, len(steps)) + extra) + 16
    height = _TOP + _LANE * max(1, len(used)) + 30
    out = [
        f'<svg class="timeline" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="timeline of {len(trace)} steps in {len(used)} threads">'
    ]
    for tid, k in lane.items():
        y = _TOP + k * _LANE
        out.append(
            f'<rect class="lane" x="0" y="{y}" width="{width}" height="{_LANE}"/>'
            f'<text class="lane-name" x="8" y="{y + _LANE / 2 + 4}">'
            f"{escape(_cut(trace.thread_names[tid], 16))}</text>"
        )
    previous = -1
    for step in steps:
        x = _LEFT + column[step] * _COLUMN
        if step != previous + 1:
            out.append(
                f'<text class="gap" x="{x - 8}" y="{_TOP - 8}" text-anchor="middle">\u2026</text>'
            )
        previous = step
        out.append(
            f'<text class="step-no" x="{x + _BOX_W / 2}" y="{_TOP - 12}" '
            f'text-anchor="middle">{step}</text>'
        )
    if closest is not None and closest.agree_steps in column:
        x = _LEFT + column[closest.agree_steps] * _COLUMN - 6
        out.append(
            f'<g class="parting"><line x1="{x}" y1="{_TOP - 6}" x2="{x}" y2="{height - 22}"/>'
            f'<text x="{x + 4}" y="{height - 8}">a passing run parts here</text></g>'
        )
    centre = {
        step: (
            _LEFT + column[step] * _COLUMN + _BOX_W / 2,
            _TOP + lane[trace.choices[step]] * _LANE + (_LANE - _BOX_H) / 2 + _BOX_H / 2,
        )
        for step in steps
    }
    special = _special_edges(finding)
    for i, j in _conflicts(trace, steps):
        if (i, j) not in special:
            out.append(_edge(centre[i], centre[j], "conflict"))
    for (i, j), label in special.items():
        if i in centre and j in centre:
            out.append(_edge(centre[i], centre[j], "cause", label))
    switches = _switches(trace)
    for step in steps:
        out.append(_box(trace, step, centre[step], marks.get(step, ""), step in switches, ident))
    end = _LEFT + len(steps) * _COLUMN
    for tid, k in lane.items():
        waits = pending.get(trace.thread_names[tid])
        if waits:
            top = _TOP + k * _LANE + (_LANE - _BOX_H) / 2
            out.append(
                f'<g class="pending"><title>{escape(waits)}</title>'
                f'<rect x="{end}" y="{top}" width="{_BOX_W}" height="{_BOX_H}" rx="6"/>'
                f'<text x="{end + _BOX_W / 2}" y="{top + 17}" text-anchor="middle">blocked</text>'
                f'<text x="{end + _BOX_W / 2}" y="{top + 33}" text-anchor="middle">'
                f"{escape(_cut(waits.removeprefix('waits for '), 18))}</text></g>"
            )
    out.append("</svg>")
    return Picture("".join(out), len(trace) - len(steps))


def _special_edges(finding: Finding | None) -> dict[tuple[int, int], str]:
    if isinstance(finding, LostUpdate):
        return {
            (finding.read_step, finding.other_write_step): "then another write",
            (finding.other_write_step, finding.write_step): "overwritten",
        }
    if isinstance(finding, DataRace):
        return {(finding.first_step, finding.second_step): "unordered: a data race"}
    return {}


def _edge(a: tuple[float, float], b: tuple[float, float], cls: str, label: str = "") -> str:
    (x1, y1), (x2, y2) = a, b
    if y1 == y2:  # same lane (should not happen for conflicts): bend above the boxes
        y1 = y2 = y1 - _BOX_H / 2
    else:  # from the bottom or top edge of one box to the other
        sign = 1 if y2 > y1 else -1
        y1 += sign * _BOX_H / 2
        y2 -= sign * _BOX_H / 2
        x1 += 10
        x2 -= 10
    return _arrow(x1, y1, x2, y2, cls, label)


def _box(
    trace: Trace, step: int, centre: tuple[float, float], mark: str, switch: bool, ident: str
) -> str:
    op, loc = trace.ops[step], trace.locations[step]
    thread = trace.thread_names[trace.choices[step]]
    label = op.label or op.kind
    resource = describe_resource(op.resource)
    where = str(loc) if loc is not None else ""
    source = source_line(loc.filename, loc.lineno) if loc is not None else ""
    function = loc.function if loc is not None else ""
    x, y = centre[0] - _BOX_W / 2, centre[1] - _BOX_H / 2
    classes = "step" + (" marked" if mark else "") + (" switch" if switch else "")
    tip = f"step {step}: {thread} {label} {resource}" + (f"\n{where}" if where else "")
    if source:
        tip += f"\n{source}"
    if mark:
        tip += f"\n{mark.removeprefix('<- ')}"
    out = [
        f'<g class="{classes}" tabindex="0" data-finding="{_attr(ident)}" data-step="{step}" '
        f'data-thread="{_attr(thread)}" data-op="{_attr(label)}" '
        f'data-resource="{_attr(resource)}" data-where="{_attr(where)}" '
        f'data-function="{_attr(function)}" data-source="{_attr(source)}" '
        f'data-mark="{_attr(mark.removeprefix("<- "))}">',
        f"<title>{escape(tip)}</title>",
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{_BOX_W}" height="{_BOX_H}" rx="6"/>',
        f'<text class="op" x="{centre[0]:.1f}" y="{y + 17:.1f}" text-anchor="middle">'
        f"{escape(_cut(label, 16))}</text>",
        f'<text class="res" x="{centre[0]:.1f}" y="{y + 33:.1f}" text-anchor="middle">'
        f"{escape(_cut(resource, 18))}</text>",
    ]
    if switch:
        out.append(
            f'<polygon class="switch-mark" points="{x - 2:.1f},{y - 2:.1f} '
            f'{x + 10:.1f},{y - 2:.1f} {x - 2:.1f},{y + 10:.1f}"/>'
        )
    out.append("</g>")
    return "".join(out)


def wait_graph(finding: Deadlock) -> str:
    """The lock-wait graph of a deadlock: threads and resources around a circle, an arrow
    from each blocked thread to what it waits for and from each resource to its holder."""
    nodes: list[tuple[str, str]] = []  # (name, "thread" | "resource")
    edges: list[tuple[str, str, str]] = []  # (from, to, "waits" | "held")
    if finding.cycle:
        names = list(finding.cycle)
        nodes = [(n, "thread" if i % 2 == 0 else "resource") for i, n in enumerate(names)]
        for i, name in enumerate(names):
            edges.append((name, names[(i + 1) % len(names)], "waits" if i % 2 == 0 else "held"))
    else:
        for info in finding.waits:
            for name, kind in ((info.thread, "thread"), (info.waits_for, "resource")):
                if (name, kind) not in nodes:
                    nodes.append((name, kind))
            edges.append((info.thread, info.waits_for, "waits"))
            for hold in info.holders:
                if (hold.thread, "thread") not in nodes:
                    nodes.append((hold.thread, "thread"))
                edges.append((info.waits_for, hold.thread, "held"))
    count = max(1, len(nodes))
    radius = 50 + 20 * count
    size = 2 * radius + 160
    cx = cy = size / 2
    place = {
        name: (
            cx + radius * math.sin(2 * math.pi * k / count),
            cy - radius * math.cos(2 * math.pi * k / count),
        )
        for k, (name, _) in enumerate(nodes)
    }
    out = [
        f'<svg class="waits" width="{size:.0f}" height="{size:.0f}" '
        f'viewBox="0 0 {size:.0f} {size:.0f}" role="img" aria-label="lock-wait graph">'
    ]
    for source, target, kind in edges:
        (x1, y1), (x2, y2) = place[source], place[target]
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        label = "waits for" if kind == "waits" else "held by"
        out.append(_arrow(x1 + ux * 30, y1 + uy * 30, x2 - ux * 34, y2 - uy * 34, kind, label))
    for name, kind in nodes:
        x, y = place[name]
        shape = (
            f'<rect x="{x - 64:.1f}" y="{y - 16:.1f}" width="128" height="32" rx="8"/>'
            if kind == "thread"
            else f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="70" ry="18"/>'
        )
        out.append(
            f'<g class="node {kind}"><title>{escape(name)}</title>{shape}'
            f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle">'
            f"{escape(_cut(name, 20))}</text></g>"
        )
    out.append("</svg>")
    return "".join(out)
