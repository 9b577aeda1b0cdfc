"""docs/asyncio.md cannot rot: its ```python blocks run in order, in one namespace.

A block is skipped when the line before its fence is ``<!-- not-tested -->``.
"""

from __future__ import annotations

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "asyncio.md"
_FENCE = re.compile(r"^```(\w*)\s*$")


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line, code) of each tested ```python block."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        previous = next((ln.strip() for ln in reversed(lines[:i]) if ln.strip()), "")
        end = i + 1
        while lines[end].strip() != "```":
            end += 1
        if match[1] == "python" and previous != "<!-- not-tested -->":
            blocks.append((i + 2, "\n".join(lines[i + 1 : end]) + "\n"))
        i = end + 1
    return blocks


def test_asyncio_guide_examples_run() -> None:
    blocks = python_blocks(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) >= 6
    namespace: dict[str, object] = {"__name__": "asyncio_guide"}
    for line, code in blocks:
        # Padded so tracebacks and reports point at the page's own line numbers.
        exec(compile("\n" * (line - 1) + code, str(PAGE), "exec"), namespace)
