"""Step tables: the interleaving diagram of an execution and the lock-wait cycle of a deadlock.

A trace is drawn one row per step and one column per thread. A table wider than the report's
width (a terminal, a CI log) is folded rather than left to wrap: first each step's ``file:line``
moves to a line of its own under the step, then long paths, operation labels and resource
names are shortened, so the columns stay aligned at any width a reader is likely to have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._core._findings import DataRace, Deadlock, Finding, LostUpdate, NotLinearizable
from .._core._ops import Location, describe_resource
from ._common import indent, table

if TYPE_CHECKING:
    from .._core._trace import Trace

__all__ = ["MAX_ROWS", "WIDTH", "marks_of", "render_trace", "render_wait_cycle"]

#: Traces longer than this are shown around the steps that matter.
MAX_ROWS = 60
_CONTEXT = 3
#: The width reports are drawn for (text wraps at it; tables fold to it).
WIDTH = 100
#: When a folded table is still too wide, cells are shortened to these lengths.
_SHORT_LABEL = 16
_SHORT_RESOURCE = 24
_SHORT_PATH = 32


def marks_of(finding: Finding) -> dict[int, str]:
    """The steps of ``finding`` worth pointing at, with what to write beside them."""
    if isinstance(finding, LostUpdate):
        return {
            finding.read_step: "<- read",
            finding.other_write_step: "<- writes after that read",
            finding.write_step: "<- LOST UPDATE: overwrites it",
        }
    if isinstance(finding, DataRace):
        return {
            finding.first_step: f"<- {finding.first_access}",
            finding.second_step: f"<- DATA RACE: {finding.second_access}",
        }
    if isinstance(finding, NotLinearizable):
        return {step: "<- no order explains this result" for step in finding.steps}
    if finding.steps:
        return {finding.steps[-1]: f"<- {finding.kind}"}
    return {}


def visible_rows(n: int, marks: dict[int, str]) -> list[int | None]:
    """The steps of an ``n``-step trace to show (None: a gap), around the marked ones."""
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


def render_trace(trace: Trace, *, marks: dict[int, str] | None = None, width: int = WIDTH) -> str:
    """The interleaving diagram: one row per step, one column per thread, folded to
    ``width`` columns when it is wider."""
    marks = marks or {}
    wide = _diagram(trace, marks, folded=False, short=False)
    if _width(wide) <= width:
        return wide
    folded = _diagram(trace, marks, folded=True, short=False)
    if _width(folded) <= width:
        return folded
    return _diagram(trace, marks, folded=True, short=True)


def _width(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def _diagram(trace: Trace, marks: dict[int, str], *, folded: bool, short: bool) -> str:
    names = trace.thread_names
    used = sorted(set(trace.choices))
    column = {tid: k for k, tid in enumerate(used)}
    headers = ["step", *(names[t] for t in used), "resource"]
    if not folded:
        headers.append("where")
    headers.append("")
    rows: list[list[str]] = []
    details: list[str] = []  # per row, what goes on the line below it when folded
    for i in visible_rows(len(trace), marks):
        if i is None:
            rows.append(["...", *([""] * (len(headers) - 1))])
            details.append("")
            continue
        tid, op, loc = trace.choices[i], trace.ops[i], trace.locations[i]
        cells = [""] * len(used)
        label = op.label or op.kind
        resource = describe_resource(op.resource)
        if folded:
            # One line per row, so each row's detail line can follow it.
            label, resource = _flat(label), _flat(resource)
        full, whole = label, resource
        if short:
            label, resource = _cut(label, _SHORT_LABEL), _cut(resource, _SHORT_RESOURCE)
        cells[column[tid]] = label
        place = _where(loc, short=short)
        row = [str(i), *cells, resource]
        if not folded:
            row.append(place)
        row.append(marks.get(i, ""))
        rows.append(row)
        # What was cut short in its column (a SQL statement, a long key) is given whole below.
        parts = [full if label != full else "", f"on {whole}" if resource != whole else ""]
        parts.append(f"at {place}" if place else "")
        details.append("  ".join(p for p in parts if p))
    text = table(rows, headers)
    if not folded:
        return text
    lines = text.splitlines()
    out = lines[:2]  # the headers and their rule
    pad = " " * (len("step") + 2)
    for line, detail in zip(lines[2:], details, strict=True):
        out.append(line.rstrip())
        if detail:
            out.append(f"{pad}{detail}")
    return "\n".join(out)


def _where(loc: Location | None, *, short: bool) -> str:
    if loc is None:
        return ""
    text = str(loc)
    if short and len(text) > _SHORT_PATH:
        # Keep the file's name and its folder: enough to find it, short enough to fit.
        path, _, line = text.rpartition(":")
        parts = path.replace("\\", "/").split("/")
        text = ".../" + "/".join(parts[-2:]) + ":" + line if len(parts) > 2 else text
    return text


def _flat(text: str) -> str:
    return " ".join(text.split())


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def render_wait_cycle(finding: Deadlock, *, width: int = WIDTH) -> str:
    """The lock-wait cycle (or every blocked thread) of a deadlock, on one line when it fits
    in ``width``, else one line per thread."""
    if finding.cycle:
        names = list(finding.cycle)
        links = [
            f"{names[i]} --waits for--> {names[i + 1]} --held by-->"
            for i in range(0, len(names), 2)
        ]
        whole = "  " + " ".join([*links, names[0]])
        if len(whole) <= width:
            lines = ["lock-wait cycle:", whole]
        else:
            lines = ["lock-wait cycle:", *(f"  {link}" for link in links), f"  {names[0]}"]
    else:
        lines = ["blocked threads (no cycle):"]
    rows = []
    for info in finding.waits:
        held = ", ".join(sorted({h.thread for h in info.holders})) or "-"
        rows.append(
            (info.thread, info.waits_for, held, str(info.location) if info.location else "-")
        )
    lines.append(indent(table(rows, ("thread", "waits for", "held by", "where"))))
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
        lines.append(indent(table(holds, ("thread", "holds", "taken at step", "where"))))
    return "\n".join(lines)
