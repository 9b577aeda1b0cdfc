"""The calls of a ``not-linearizable`` finding (``check_linearizable``): per thread, the
real-time order they must keep, and why no order of the model explains them."""

from __future__ import annotations

from .._core._findings import NotLinearizable
from ._common import indent, table, wrap

__all__ = ["render_history"]


def render_history(finding: NotLinearizable) -> str:
    """The calls of a ``not-linearizable`` finding, per thread, and why no order explains
    them."""
    from .._linearizability._checker import short_repr

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
        indent(table(rows, ("thread", "call", "result", "steps", *([""] if keyed else [])))),
    ]
    if finding.key is not None:
        out.append(
            wrap(
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
