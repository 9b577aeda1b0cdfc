"""The documentation cannot rot: every ```python block of our pages runs, in order.

Each page's blocks run one after another in one namespace, so a later block may use what an
earlier one defined (as a reader would in one session). A block is skipped only when the line
before its fence is ``<!-- not-tested -->`` (used sparingly, for snippets that need a pytest
session or a shell). Output excerpts live in ```text blocks and are not run.

Only the pages owned by the documentation are listed here; the guides of the plugins and
integrations test their own snippets.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = (
    "README.md",
    "docs/tutorial.md",
    "docs/concepts.md",
    "docs/primitives.md",
    "docs/strategies.md",
    "docs/progress.md",
    "docs/reference/json.md",
    "docs/reference/html-report.md",
)
NOT_TESTED = "<!-- not-tested -->"
_FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w+-]*)\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: str
    line: int  # 1-based line of the first code line
    lang: str
    code: str
    tested: bool


def extract_blocks(text: str, page: str = "<page>") -> list[Block]:
    """Every fenced block of ``text``, in order, with its language and whether it runs."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        indent, lang = len(match["indent"]), match["lang"]
        previous = next((ln.strip() for ln in reversed(lines[:i]) if ln.strip()), "")
        start = i + 1
        end = start
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if end == len(lines):
            raise ValueError(f"{page}:{i + 1}: the ```{lang} block is never closed")
        body = "\n".join(ln[indent:] for ln in lines[start:end]) + "\n"
        blocks.append(Block(page, start + 1, lang, body, previous != NOT_TESTED))
        i = end + 1
    return blocks


def python_blocks(page: str) -> list[Block]:
    text = (ROOT / page).read_text(encoding="utf-8")
    return [b for b in extract_blocks(text, page) if b.lang == "python"]


def run_blocks(blocks: list[Block], namespace: dict[str, object], filename: str) -> int:
    """Run the tested blocks in order in ``namespace``; return how many ran.

    Code is compiled with the page's line numbers under ``filename``, so a failure points at
    the line of the page (and reports show ``page.md:LINE`` as the source of each step).
    """
    ran = 0
    for block in blocks:
        if not block.tested:
            continue
        tree = ast.parse(block.code, filename)
        ast.increment_lineno(tree, block.line - 1)
        exec(compile(tree, filename, "exec"), namespace)
        ran += 1
    return ran


@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run(page: str, capsys: pytest.CaptureFixture[str]) -> None:
    blocks = python_blocks(page)
    # Run as a script would (``if __name__ == "__main__":`` blocks run too).
    namespace: dict[str, object] = {"__name__": "__main__"}
    ran = run_blocks(blocks, namespace, str(ROOT / page))
    # A parser bug that finds nothing must not pass silently: every page has runnable examples.
    assert ran >= 1, f"{page}: no runnable ```python block found"
    capsys.readouterr()


@pytest.mark.parametrize("page", PAGES)
def test_page_skips_are_rare(page: str) -> None:
    blocks = python_blocks(page)
    skipped = [b.line for b in blocks if not b.tested]
    assert len(skipped) <= max(1, len(blocks) // 4), (
        f"{page}: {len(skipped)} of {len(blocks)} python blocks are marked not-tested "
        f"(lines {skipped}); test them instead"
    )


def test_extract_blocks_reads_language_lines_and_marker() -> None:
    text = "\n".join(
        [
            "# Title",
            "```python",
            "x = 1",
            "```",
            "",
            NOT_TESTED,
            "```python",
            "raise SystemExit",
            "```",
            "```text",
            "output",
            "```",
        ]
    )
    blocks = extract_blocks(text)
    assert [(b.lang, b.line, b.tested) for b in blocks] == [
        ("python", 3, True),
        ("python", 8, False),
        ("text", 11, True),
    ]
    assert blocks[0].code == "x = 1\n"


def test_extract_blocks_rejects_an_unclosed_fence() -> None:
    with pytest.raises(ValueError, match="never closed"):
        extract_blocks("```python\nx = 1\n", "page.md")


def test_run_blocks_shares_one_namespace_and_reports_the_page_line() -> None:
    blocks = extract_blocks("```python\nx = 41\n```\n\n```python\nx += 1\n1 / 0\n```\n", "p.md")
    namespace: dict[str, object] = {}
    with pytest.raises(ZeroDivisionError) as info:
        run_blocks(blocks, namespace, "p.md")
    assert namespace["x"] == 42
    entry = info.traceback[-1]
    assert (str(entry.path), entry.lineno + 1) == ("p.md", 7)  # pytest's lineno is 0-based


def test_run_blocks_skips_blocks_marked_not_tested() -> None:
    text = f"```python\nran = []\n```\n{NOT_TESTED}\n```python\nraise SystemExit\n```\n"
    namespace: dict[str, object] = {}
    assert run_blocks(extract_blocks(text), namespace, "p.md") == 1
    assert namespace["ran"] == []
