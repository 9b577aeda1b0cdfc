"""The report tests' one hook: say it plainly when the browser test was skipped."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if "test_html_in_chromium" in getattr(report, "nodeid", "")
    ]
    if skipped:
        terminalreporter.write_line(
            f"interleave: the HTML report was NOT rendered in a browser ({len(skipped)} tests "
            "skipped): headless Chromium is not installed here (apt-get install chromium; "
            ".ci/run installs it and runs them)",
            yellow=True,
        )
