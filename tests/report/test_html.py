"""The HTML report: self-contained (nothing loaded from anywhere), one timeline per finding with
a box per step, the lines that explain the finding, what changed and the replay lines; and it
renders in headless Chromium without a console error."""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from gallery import replays, results

from interleave._report import ReplayContext, to_html

#: What would make a browser fetch something: any of these in the file text fails the test.
LOADS = re.compile(r"\bsrc\s*=|\bhref\s*=|url\s*\(|@import|https?://|//cdn", re.IGNORECASE)


@functools.cache
def every_page() -> dict[str, str]:
    pages = {name: result.to_html() for name, result in results().items()}
    pages.update({f"replay {name}": run.to_html() for name, run in replays().items()})
    return pages


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def elements(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(page)
    return parser.tags


@pytest.mark.parametrize("name", sorted(every_page()))
def test_the_page_loads_nothing(name: str) -> None:
    page = every_page()[name]
    found = LOADS.findall(page)
    assert not found, f"{name}: the page would load {found[:5]}"
    tags = {tag for tag, _ in elements(page)}
    assert not tags & {"link", "img", "iframe", "object", "embed", "use", "image", "base"}
    assert all("src" not in attrs for _, attrs in elements(page))


@pytest.mark.parametrize("name", sorted(every_page()))
def test_every_picture_is_well_formed_svg(name: str) -> None:
    page = every_page()[name]
    pictures = re.findall(r"<svg\b.*?</svg>", page, re.DOTALL)
    assert bool(pictures) == ('class="message"' in page or "replay" in name)
    for svg in pictures:
        ET.fromstring(svg)  # raises on a malformed picture


def test_a_lost_update_has_a_lane_per_thread_a_box_per_step_and_the_causal_lines() -> None:
    result = results()["lost_update"]
    page = result.to_html()
    finding = result.findings[0]
    assert finding.trace is not None
    # The first picture is the lost update's (the data race of the program has its own).
    picture = re.findall(r"<svg\b.*?</svg>", page, re.DOTALL)[0]
    steps = [a for tag, a in elements(picture) if tag == "g" and "step" in (a.get("class") or "")]
    assert [a["data-step"] for a in steps] == [str(i) for i in range(len(finding.trace))]
    assert {a["data-thread"] for a in steps} == {"worker#1", "worker#2"}
    assert picture.count('class="lane"') == 2
    # The read, the write after it and the lost write, joined by the two lines of the cause.
    marked = [a["data-step"] for a in steps if "marked" in (a.get("class") or "")]
    assert marked == [
        str(s) for s in sorted({finding.read_step, finding.other_write_step, finding.write_step})
    ]
    assert "then another write" in page and "overwritten" in page
    # Hovering shows the line of code; clicking fills the panel from the same data.
    read = steps[finding.read_step]
    assert read["data-where"] and read["data-where"].endswith(":25")
    assert read["data-source"] == "hits.set(hits.get() + 1)  # a read, then a write: two steps"
    assert "hits.set(hits.get() + 1)" in page.split("<title>", 2)[2].split("</title>")[0]


def test_the_page_says_what_changed_and_how_to_replay() -> None:
    result = results()["lost_update"]
    page = result.to_html()
    closest = result.closest_passing[0]
    assert closest is not None
    assert "What changed" in page and closest.schedule_id in page
    assert "a passing run parts here" in page
    finding = result.findings[0]
    assert f"interleave.replay(lost_update, &#x27;{finding.schedule_id}&#x27;)" in page
    context = ReplayContext(factory="hits_factory", node_id="tests/test_hits.py::test_hits")
    with_node = to_html(result, context)
    assert f"pytest tests/test_hits.py::test_hits --interleave-replay={finding.schedule_id}" in (
        with_node
    )


def test_a_deadlock_draws_its_lock_wait_graph_and_the_blocked_threads() -> None:
    page = results()["dining_philosophers"].to_html()
    assert 'class="waits"' in page and "Lock-wait graph" in page
    graph = re.search(r'<svg class="waits".*?</svg>', page, re.DOTALL)
    assert graph is not None
    nodes = re.findall(r'<g class="node (thread|resource)"><title>([^<]*)</title>', graph[0])
    assert sorted(nodes) == sorted(
        [("thread", f"philosopher{i}") for i in range(3)]
        + [("resource", f"lock &#x27;fork{i}&#x27;") for i in range(3)]
    )
    assert graph[0].count("waits for") == 3 and graph[0].count("held by") == 3
    assert page.count('<g class="pending">') == 3


def test_a_clean_result_and_a_replay_render_too() -> None:
    clean = results()["locked_counter"].to_html()
    assert "no findings" in clean and "proved" in clean
    sampled = results()["sampled"].to_html()
    assert "This is not a proof" in sampled or "findings" in sampled
    run = next(iter(replays().values()))
    page = run.to_html()
    assert run.schedule_id in page and "<svg" in page
