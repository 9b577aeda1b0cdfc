"""The HTML report: one self-contained file (inline CSS, SVG and script) to open in a browser or
keep as a CI artifact.

Per finding it shows what happened, the execution as swimlanes (``_svg.timeline``), the
lock-wait graph of a deadlock, what a passing run does differently, the replay lines to copy,
and every step in a table. Clicking (or focusing) a step shows its ``file:line`` and source
line; hovering shows them too. The page loads nothing: no ``src``, ``href``, ``url()`` or
``@import`` anywhere, so it works offline and under a strict content policy (a test checks
the text, another renders it in headless Chromium).
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, cast

from .._core._findings import Deadlock, Finding, InvariantViolation, TeardownFailed, ThreadCrashed
from .._core._ops import describe_resource
from ._common import is_exploration, kinds
from ._replay import ReplayContext, replay_lines
from ._svg import source_line, timeline, wait_graph
from ._text import schedules_run, seen_in
from ._trace import marks_of

if TYPE_CHECKING:
    from .._contrast import ClosestPass
    from .._core._trace import Trace
    from .._results import ExploreResult, RunResult

__all__ = ["to_html"]

_CSS = """
:root { --fg: #1d2430; --muted: #5b6575; --line: #d5dae3; --bg: #ffffff; --lane: #f4f6f9;
  --box: #e8eefb; --box-line: #5a7bd6; --bad: #c62828; --bad-bg: #fdecea; --ok: #2e7d32;
  --ok-bg: #e8f5e9; --warn: #a15c00; --warn-bg: #fff4e0; --mark: #ffe08a; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
  background: var(--bg); margin: 0; padding: 24px 32px 48px; }
h1 { font-size: 22px; margin: 0 0 12px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-top: 16px; border-top: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; color: var(--muted); }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 13px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600; }
.verdict.proved { background: var(--ok-bg); color: var(--ok); }
.verdict.bounded, .verdict.sampled, .verdict.interrupted { background: var(--warn-bg);
  color: var(--warn); }
.verdict.failed { background: var(--bad-bg); color: var(--bad); }
table { border-collapse: collapse; margin: 6px 0; }
th, td { text-align: left; padding: 3px 12px 3px 0; vertical-align: top; }
table.steps th, table.steps td { border-bottom: 1px solid var(--line); padding: 3px 10px; }
table.steps tr.marked td { background: var(--mark); }
table.steps tr.current td { outline: 2px solid var(--box-line); }
.summary th { color: var(--muted); font-weight: 500; }
.message { white-space: pre-wrap; background: var(--bad-bg); border-left: 4px solid var(--bad);
  padding: 8px 12px; margin: 8px 0; }
.note { color: var(--muted); }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; }
svg text { font: 12px ui-monospace, Menlo, Consolas, monospace; fill: var(--fg); }
svg .lane { fill: var(--lane); stroke: var(--bg); stroke-width: 2; }
svg .lane-name { font-weight: 600; }
svg .step-no, svg .gap { fill: var(--muted); }
svg .step rect { fill: var(--box); stroke: var(--box-line); stroke-width: 1.2; }
svg .step { cursor: pointer; outline: none; }
svg .step:hover rect, svg .step:focus rect, svg .step.current rect { stroke-width: 3; }
svg .step.marked rect { fill: var(--mark); stroke: var(--bad); stroke-width: 2; }
svg .step .res { fill: var(--muted); font-size: 11px; }
svg .switch-mark { fill: var(--warn); }
svg .conflict line { stroke: #8a94a6; stroke-width: 1; stroke-dasharray: 4 3; }
svg .conflict polygon { fill: #8a94a6; }
svg .cause line { stroke: var(--bad); stroke-width: 2.5; }
svg .cause polygon, svg .waits polygon { fill: var(--bad); }
svg .cause text, svg .waits text { fill: var(--bad); font-weight: 600; }
svg .cause text, svg .held text, svg .waits text, svg .parting text { paint-order: stroke;
  stroke: var(--bg); stroke-width: 4px; stroke-linejoin: round; }
svg .pending rect { fill: var(--bg); stroke: var(--bad); stroke-width: 1.5;
  stroke-dasharray: 5 3; }
svg .pending text { fill: var(--bad); }
svg .held line { stroke: #6b7385; stroke-width: 1.5; }
svg .held polygon { fill: #6b7385; }
svg .held text { fill: var(--muted); }
svg .waits line { stroke: var(--bad); stroke-width: 2; }
svg .parting line { stroke: var(--ok); stroke-width: 2; stroke-dasharray: 6 4; }
svg .parting text { fill: var(--ok); font-weight: 600; }
svg .node.thread rect { fill: var(--box); stroke: var(--box-line); stroke-width: 1.5; }
svg .node.resource ellipse { fill: var(--mark); stroke: var(--warn); stroke-width: 1.5; }
.detail { min-height: 3.2em; padding: 6px 10px; background: var(--lane); border-radius: 6px; }
.changed { background: var(--ok-bg); border-left: 4px solid var(--ok); padding: 8px 12px; }
.replay { position: relative; }
.replay pre { background: #1d2430; color: #e6e9ef; padding: 10px 12px; border-radius: 6px;
  overflow-x: auto; margin: 4px 0; }
.replay button { position: absolute; right: 8px; top: 8px; font-size: 12px; }
.legend span { margin-right: 18px; }
.legend .swatch { display: inline-block; width: 12px; height: 12px; vertical-align: -1px;
  margin-right: 4px; border-radius: 2px; }
"""

# Shows the clicked (or focused) step: its thread, operation, file:line and source line, and
# highlights its row in the step table. Errors would show in the browser's console: the
# browser test fails on any.
_SCRIPT = """
(function () {
  function show(step) {
    var id = step.dataset.finding;
    var panel = document.getElementById("detail-" + id);
    if (!panel) { return; }
    var d = step.dataset;
    var text = "step " + d.step + ": " + d.thread + " " + d.op + " " + d.resource;
    if (d.where) { text += "\\n" + d.where + (d["function"] ? " in " + d["function"] + "()" : ""); }
    if (d.source) { text += "\\n    " + d.source; }
    if (d.mark) { text += "\\n" + d.mark; }
    panel.textContent = text;
    document.querySelectorAll(".current").forEach(function (el) {
      el.classList.remove("current");
    });
    step.classList.add("current");
    var row = document.getElementById("row-" + id + "-" + d.step);
    if (row) { row.classList.add("current"); }
  }
  document.querySelectorAll("svg .step").forEach(function (step) {
    step.addEventListener("click", function () { show(step); });
    step.addEventListener("focus", function () { show(step); });
  });
  document.querySelectorAll(".replay button").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = button.parentNode.querySelector("pre").textContent;
      if (navigator.clipboard) {
        navigator.clipboard.writeText(text).then(function () {
          button.textContent = "copied";
        }, function () { button.textContent = "select and copy"; });
      }
    });
  });
  document.body.dataset.ready = "yes";
})();
"""


def to_html(result: ExploreResult | RunResult, context: ReplayContext | None = None) -> str:
    """The HTML report of an exploration or a replay: one self-contained page.

    Args:
        result: what :func:`interleave.explore` or :func:`interleave.replay` returned.
        context: the replay lines to print (see :class:`ReplayContext`); by default from the
            result's target.

    Example::

        result = interleave.explore(lost_update)
        Path("report.html").write_text(result.to_html(), encoding="utf-8")
    """
    if is_exploration(result):
        title, head = _explore_head(result)
        if context is None:
            context = ReplayContext.of(result)
        sections = _explore_findings(result, context)
    else:
        run = cast("RunResult", result)
        title = f"interleave: replay of {run.scenario}"
        verdict = "ok" if run.ok else "failed"
        head = (
            f'<h1>{escape(title)} <span class="verdict {verdict}">{verdict}</span></h1>'
            f'<p class="mono">{escape(run.schedule_id)}: {len(run.trace)} steps, '
            f"findings: {escape(kinds(run.findings))}</p>"
        )
        sections = [
            _finding(f"f{n}", f"{f.kind}", f, context=None, closest=None)
            for n, f in enumerate(run.findings, 1)
        ]
        if not run.findings:
            sections.append(_execution("run", run.trace, None, {}, None))
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title>",
            f"<style>{_CSS}</style></head><body>",
            head,
            _legend(),
            *sections,
            f"<script>{_SCRIPT}</script>",
            "</body></html>",
        ]
    )


def _explore_head(result: ExploreResult) -> tuple[str, str]:
    found = "no findings" if result.ok else f"{len(result.findings)} distinct finding(s)"
    title = f"interleave: {result.scenario}: {found}"
    coverage = ("exhausted: " if result.exhausted else "NOT exhausted: ") + result.stopped_text
    verdict = str(result.verdict)
    rows = [
        ("scenario", result.scenario),
        ("strategy", result.strategy),
        ("schedules run", schedules_run(result)),
        ("coverage", coverage),
        ("findings", kinds(result.findings)),
        ("elapsed", f"{result.elapsed:.3f} s"),
    ]
    if result.statistics.retried:
        rows.append(("retried", f"{result.statistics.retried:,} time(s) a task ran again"))
    table = "".join(f"<tr><th>{k}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    status = (
        f'<span class="verdict failed">{escape(found)}</span>'
        if result.findings
        else '<span class="verdict proved">no findings</span>'
    )
    head = (
        f"<h1>interleave: {escape(result.scenario)}</h1>"
        f'<p>{status} verdict: <span class="verdict {verdict}">{verdict}</span></p>'
        f'<table class="summary">{table}</table>'
    )
    if result.ok and not result.exhausted:
        from ._text import advice_for_proof

        head += f'<p class="note">This is not a proof: {escape(advice_for_proof(result))}.</p>'
    return title, head


def _explore_findings(result: ExploreResult, context: ReplayContext) -> list[str]:
    out = []
    shown: dict[str, int] = {}
    total = len(result.findings)
    for number, (finding, seen) in enumerate(
        zip(result.findings, result.occurrences, strict=True), 1
    ):
        header = f"Finding {number} of {total}: {finding.kind} ({seen_in(seen, result)})"
        first = shown.setdefault(finding.schedule_id, number)
        if first != number:
            out.append(
                f"<section><h2>{escape(header)}</h2>"
                f'<div class="message">{escape(finding.message)}</div>'
                f'<p class="note">The same execution as finding {first} '
                f"(schedule ID <code>{escape(finding.schedule_id)}</code>).</p>"
                + _tracebacks(finding)
                + "</section>"
            )
            continue
        out.append(
            _finding(
                f"f{number}",
                header,
                finding,
                context=context,
                closest=result.closest_pass(number - 1),
            )
        )
    return out


def _finding(
    ident: str,
    header: str,
    finding: Finding,
    *,
    context: ReplayContext | None,
    closest: ClosestPass | None,
) -> str:
    out = [f'<section id="{ident}">', f"<h2>{escape(header)}</h2>"]
    out.append(f'<div class="message">{escape(finding.message)}</div>')
    if isinstance(finding, Deadlock):
        out.append("<h3>Lock-wait graph</h3>")
        out.append(f'<div class="scroll">{wait_graph(finding)}</div>')
    if finding.trace is not None and len(finding.trace):
        out.append(_execution(ident, finding.trace, finding, marks_of(finding), closest))
    out.append(_tracebacks(finding))
    if closest is not None:
        out.append(
            f'<h3>What changed</h3><p class="changed">{escape(closest.sentence())}.<br>'
            f"The passing schedule: <code>{escape(closest.schedule_id)}</code></p>"
        )
    if context is not None and finding.schedule_id:
        lines = "\n".join(
            f"# {label}\n{line}" for label, line in replay_lines(finding.schedule_id, context)
        )
        out.append(
            "<h3>Replay it</h3>"
            f'<div class="replay"><pre>{escape(lines)}</pre>'
            '<button type="button">copy</button></div>'
        )
    out.append("</section>")
    return "".join(out)


def _execution(
    ident: str,
    trace: Trace,
    finding: Finding | None,
    marks: dict[int, str],
    closest: ClosestPass | None,
) -> str:
    pending = (
        {info.thread: f"waits for {info.waits_for}" for info in finding.waits}
        if isinstance(finding, Deadlock)
        else {}
    )
    picture = timeline(finding, trace, marks, closest=closest, ident=ident, pending=pending)
    blocked = [
        f"{name} {outcome}"
        for name, outcome in zip(trace.thread_names, trace.outcomes, strict=True)
        if outcome != "finished"
    ]
    out = [
        f"<h3>The execution: {len(trace)} steps, {trace.preemptions()} preemption(s)</h3>",
        f'<div class="scroll">{picture.svg}</div>',
    ]
    if picture.elided:
        out.append(
            f'<p class="note">{picture.elided} steps far from the marked ones are left '
            "out of the picture; the table below has every step.</p>"
        )
    if blocked:
        out.append(f'<p class="note">At the end: {escape(", ".join(blocked))}.</p>')
    out.append(
        f'<p class="detail mono" id="detail-{ident}">Click a step (or tab to it) to see its '
        "line of code.</p>"
    )
    out.append(_step_table(ident, trace, marks))
    return "".join(out)


def _step_table(ident: str, trace: Trace, marks: dict[int, str]) -> str:
    rows = []
    for step in trace.steps:
        loc = step.location
        where = str(loc) if loc is not None else ""
        source = source_line(loc.filename, loc.lineno) if loc is not None else ""
        mark = marks.get(step.index, "").removeprefix("<- ")
        cls = ' class="marked"' if mark else ""
        rows.append(
            f'<tr id="row-{ident}-{step.index}"{cls}><td>{step.index}</td>'
            f"<td>{escape(step.thread_name)}</td><td>{escape(step.op.label or step.op.kind)}</td>"
            f"<td>{escape(describe_resource(step.op.resource))}</td>"
            f'<td class="mono">{escape(where)}</td><td class="mono">{escape(source)}</td>'
            f"<td>{escape(mark)}</td></tr>"
        )
    return (
        f"<details><summary>Every step ({len(trace)})</summary>"
        '<table class="steps"><tr><th>step</th><th>thread</th><th>operation</th>'
        "<th>resource</th><th>where</th><th>code</th><th></th></tr>"
        + "".join(rows)
        + "</table></details>"
    )


def _tracebacks(finding: Finding) -> str:
    text = ""
    if isinstance(finding, ThreadCrashed | TeardownFailed) and finding.traceback:
        text = finding.traceback
    elif isinstance(finding, InvariantViolation) and "\n" in finding.detail:
        text = finding.detail
    if not text:
        return ""
    return f"<h3>Traceback</h3><pre>{escape(text.rstrip())}</pre>"


def _legend() -> str:
    return (
        '<p class="legend note">'
        '<span><span class="swatch" style="background:#e8eefb;border:1px solid #5a7bd6">'
        "</span>a step (click it)</span>"
        '<span><span class="swatch" style="background:#ffe08a;border:1px solid #c62828">'
        "</span>a step of the finding</span>"
        "<span>dashed grey line: conflicting steps of two threads, in the order they ran</span>"
        "<span>red line: how the finding came about</span>"
        '<span><span class="swatch" style="background:#a15c00"></span>'
        "a switch away from a thread that had not finished</span></p>"
    )
