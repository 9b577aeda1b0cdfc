"""A finding as a Mermaid sequence diagram, to paste into a GitHub issue or pull request
(inside a fenced block marked ``mermaid``).

Threads and the resources they touch are the participants; each step is a message from the
thread to the resource, numbered like the text report; the finding's steps carry a note.
"""

from __future__ import annotations

from .._core._findings import Deadlock, Finding
from .._core._ops import describe_resource
from ._trace import marks_of

__all__ = ["to_mermaid"]

#: Longer executions are cut around the steps that matter (a diagram of thousands of
#: messages helps nobody, and GitHub refuses very large ones).
MAX_MESSAGES = 120


#: Mermaid's entity codes for the characters that would end or change a statement.
_ESCAPES = str.maketrans({"#": "#35;", ";": "#59;", "<": "#lt;", ">": "#gt;"})


def _text(text: str) -> str:
    """``text`` safe inside a Mermaid label: one line, no statement separators, no markup."""
    return " ".join(text.split()).translate(_ESCAPES)


def to_mermaid(finding: Finding) -> str:
    """The finding's execution as a Mermaid ``sequenceDiagram``.

    Example::

        result = interleave.explore(lost_update)
        print("```mermaid")
        print(to_mermaid(result.findings[0]))
        print("```")
    """
    trace = finding.trace
    lines = ["sequenceDiagram"]
    if trace is None or not len(trace):
        lines.append(f"    Note over nobody: {_text(finding.kind + ': ' + finding.message)}")
        return "\n".join(lines)
    marks = marks_of(finding)
    threads = sorted(set(trace.choices))
    resources: dict[str, str] = {}
    for op in trace.ops:
        resources.setdefault(describe_resource(op.resource), f"R{len(resources)}")
    for tid in threads:
        lines.append(f"    participant T{tid} as {_text(trace.thread_names[tid])}")
    for name, alias in resources.items():
        lines.append(f"    participant {alias} as {_text(name)}")
    n = len(trace)
    shown = set(range(n))
    if n > MAX_MESSAGES:
        shown = set(range(10)) | set(range(n - 20, n))
        for step in marks:
            shown.update(range(max(0, step - 5), min(n, step + 6)))
    previous = -1
    for i in sorted(shown):
        if i != previous + 1:
            lines.append(f"    Note over T{threads[0]}: ... {i - previous - 1} steps ...")
        previous = i
        tid, op = trace.choices[i], trace.ops[i]
        target = resources[describe_resource(op.resource)]
        lines.append(f"    T{tid}->>{target}: {i}: {_text(op.label or op.kind)}")
        mark = marks.get(i)
        if mark:
            lines.append(f"    Note over T{tid},{target}: {_text(mark.removeprefix('<- '))}")
    ended = [(tid, trace.outcomes[tid]) for tid in threads if trace.outcomes[tid] != "finished"]
    for tid, outcome in ended:
        lines.append(f"    Note over T{tid}: {outcome}")
    if isinstance(finding, Deadlock) and finding.cycle:
        cycle = " \u2192 ".join([*finding.cycle, finding.cycle[0]])
        lines.append(f"    Note over T{threads[0]},T{threads[-1]}: lock-wait cycle: {_text(cycle)}")
    else:
        lines.append(
            f"    Note over T{threads[0]},T{threads[-1]}: {_text(finding.kind)}: "
            f"{_text(finding.message.splitlines()[0][:160])}"
        )
    return "\n".join(lines)
