"""``summary_report``: one table across many explorations, as text and as Markdown."""

from __future__ import annotations

import subprocess
import sys

import pytest
from textbook import lost_update

import interleave
from interleave import ExploreResult
from interleave._report import FORMATS, summary_report
from interleave.errors import InvalidArgument


def lost_update_twice() -> interleave.Scenario:
    hits = interleave.Shared("hits", 0)

    def worker() -> None:
        for _ in range(2):
            hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker, worker])


def locked_counter() -> interleave.Scenario:
    hits = interleave.Shared("hits", 0)
    lock = interleave.Lock(name="hits")

    def worker() -> None:
        with lock:
            hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker, worker, worker], check=lambda: hits.get() == 3)


def abba() -> interleave.Scenario:
    a, b = interleave.Lock(name="a"), interleave.Lock(name="b")

    def one() -> None:
        with a, b:
            pass

    def two() -> None:
        with b, a:
            pass

    return interleave.Scenario(threads={"one": one, "two": two})


def crash() -> interleave.Scenario:
    box = interleave.Shared("box", 0)

    def setter() -> None:
        box.set(1)

    def divider() -> None:
        _ = 1 / (1 - box.get())

    return interleave.Scenario(threads={"setter": setter, "divider": divider})


def spinner() -> interleave.Scenario:
    flag = interleave.Shared("flag", False)

    def waiter() -> None:
        while not flag.get():
            pass

    return interleave.Scenario(threads={"spinner": waiter})


@pytest.fixture(scope="module")
def results() -> list[ExploreResult]:
    # The table's fixed columns; the data races column comes with races (its own test).
    return [
        interleave.explore(lost_update, detect_data_races=False),
        interleave.explore(locked_counter),
        interleave.explore(abba),
        interleave.explore(crash, detect_data_races=False),
    ]


def rows_of(text: str) -> list[list[str]]:
    """The cells of a Markdown table's body rows."""
    body = [ln for ln in text.splitlines() if ln.startswith("| ")][1:]
    return [[cell.strip() for cell in ln.strip("|").split(" | ")] for ln in body]


def test_markdown_has_one_row_per_result_with_counts_by_kind(results: list[ExploreResult]) -> None:
    text = summary_report(results, format="markdown")
    lines = text.splitlines()
    assert lines[0] == (
        "| scenario | threads | executions | exhausted | verdict | deadlocks | lost updates | "
        "invariant violations | exceptions | time (s) | first finding (replay ID) |"
    )
    assert lines[1] == "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---|"
    rows = {row[0]: row for row in rows_of(text)}
    assert list(rows) == ["lost_update", "locked_counter", "abba", "crash"]
    assert rows["lost_update"][1:9] == [
        "2",
        str(results[0].schedules_run),
        "yes",
        "proved",
        "-",
        "1",
        "1",
        "-",
    ]
    assert rows["locked_counter"][3:9] == ["yes", "proved", "-", "-", "-", "-"]
    assert rows["abba"][5] == "1" and rows["abba"][1] == "2"
    assert rows["crash"][8] == "1"
    assert rows["locked_counter"][10] == "-"
    assert float(rows["abba"][9]) >= 0


def test_data_races_get_a_column_when_a_result_has_one() -> None:
    text = summary_report([interleave.explore(lost_update)], format="markdown")
    header = text.splitlines()[0]
    assert "| exceptions | data races | time (s) |" in header
    (row,) = rows_of(text)
    assert row[header.strip("|").split(" | ").index("data races")] == "1"


def test_the_replay_id_column_replays_the_first_finding(results: list[ExploreResult]) -> None:
    factories = {"lost_update": lost_update, "abba": abba, "crash": crash}
    for row in rows_of(summary_report(results, format="markdown")):
        if row[0] not in factories:
            continue
        schedule_id, kind = row[10].split(" ")
        run = interleave.replay(factories[row[0]], schedule_id)
        assert kind.strip("()") in {f.kind for f in run.findings}


def test_text_is_an_aligned_table_and_a_totals_line(results: list[ExploreResult]) -> None:
    text = summary_report(results)
    lines = text.splitlines()
    assert lines[0].split() == [
        "scenario",
        "threads",
        "executions",
        "exhausted",
        "verdict",
        "deadlocks",
        "lost",
        "updates",
        "invariant",
        "violations",
        "exceptions",
        "time",
        "(s)",
        "first",
        "finding",
        "(replay",
        "ID)",
    ]
    assert set(lines[1]) == {"-", " "}
    assert lines[2].startswith("lost_update ")
    assert lines[-2] == ""
    total = sum(r.schedules_run for r in results)
    assert lines[-1].startswith(
        f"4 explorations, 3 with findings, 1 exhaustively clean (verdicts: 4 proved); "
        f"{total:,} executions in "
    )
    assert results[0].findings[0].schedule_id in text


def test_a_mapping_names_the_rows_and_markdown_escapes_pipes(
    results: list[ExploreResult],
) -> None:
    text = summary_report({"counter | unlocked": results[0]}, format="markdown")
    assert rows_of(text)[0][0] == "counter \\| unlocked"
    assert text.endswith(
        "1 exploration, 1 with findings, 0 exhaustively clean (verdicts: 1 proved); "
        f"{results[0].schedules_run:,} executions in "
        f"{results[0].elapsed:.2f} s"
    )


def test_a_budget_cut_is_not_called_exhausted() -> None:
    result = interleave.explore(locked_counter, max_schedules=2)
    assert not result.exhausted
    text = summary_report([result])
    assert "NO (max_schedules)" in text
    assert "1 clean but NOT exhausted (not a proof: raise max_schedules)" in text
    assert rows_of(summary_report([result], format="markdown"))[0][4] == "sampled"
    assert "(verdicts: 1 sampled)" in text


def test_the_verdict_column_and_totals_count_each_verdict() -> None:
    results = {
        "proved": interleave.explore(lost_update),
        "bounded": interleave.explore(lost_update_twice, strategy="dfs", preemption_bound=0),
        "sampled": interleave.explore(locked_counter, strategy="random", max_schedules=3),
    }
    rows = rows_of(summary_report(results, format="markdown"))
    assert [(row[0], row[4]) for row in rows] == [
        ("proved", "proved"),
        ("bounded", "bounded"),
        ("sampled", "sampled"),
    ]
    assert "(verdicts: 1 proved, 1 bounded, 1 sampled)" in summary_report(results)


def test_step_limits_get_a_column_only_when_there_are_some(results: list[ExploreResult]) -> None:
    assert "step limits" not in summary_report(results)
    spin = interleave.explore(spinner, max_steps=50)
    row = rows_of(summary_report([spin], format="markdown"))[0]
    assert row[0] == "spinner" and row[9] == "1" and row[4] == "sampled"
    assert "step limits" in summary_report([spin])


def test_empty_input_gives_an_empty_table() -> None:
    assert summary_report([], format="markdown").endswith(
        "0 explorations, 0 with findings, 0 exhaustively clean; 0 executions in 0.00 s"
    )


def test_bad_arguments_say_what_to_pass(results: list[ExploreResult]) -> None:
    assert FORMATS == ("text", "markdown")
    with pytest.raises(InvalidArgument, match=r"format='html' is not one of 'text', 'markdown'"):
        summary_report(results, format="html")
    with pytest.raises(InvalidArgument, match=r"not one ExploreResult; wrap it: summary_report"):
        summary_report(results[0])
    with pytest.raises(InvalidArgument, match=r"results\[1\] is a str \('oops'\), not an Explore"):
        summary_report([results[0], "oops"])  # type: ignore[list-item]
    with pytest.raises(InvalidArgument, match=r"results\['x'\] is a int"):
        summary_report({"x": 1})  # type: ignore[dict-item]
    with pytest.raises(InvalidArgument, match=r"needs a list of ExploreResult"):
        summary_report(42)  # type: ignore[arg-type]


def test_importing_the_summary_module_does_not_import_tabulate() -> None:
    code = "import sys, interleave._report; assert 'tabulate' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
