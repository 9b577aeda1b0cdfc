"""A finding as a Mermaid sequence diagram: participants for threads and resources, a message
per step, notes for the finding's steps, and nothing that would break Mermaid's parser."""

from __future__ import annotations

import re

from gallery import results

from interleave._report import to_mermaid


def test_the_lost_update_as_a_sequence_diagram() -> None:
    finding = results()["lost_update"].findings[0]
    text = to_mermaid(finding)
    lines = text.splitlines()
    assert lines[0] == "sequenceDiagram"
    assert "    participant T0 as worker#35;1" in lines
    assert "    participant R0 as shared 'hits'" in lines
    messages = [line for line in lines if "->>" in line]
    assert messages == [
        "    T0->>R0: 0: get",
        "    T1->>R0: 1: get",
        "    T1->>R0: 2: set",
        "    T0->>R0: 3: set",
    ]
    assert "    Note over T0,R0: LOST UPDATE: overwrites it" in lines


def test_the_deadlock_shows_the_blocked_threads_and_the_cycle() -> None:
    text = to_mermaid(results()["dining_philosophers"].findings[0])
    assert text.count("Note over") >= 4
    assert "lock-wait cycle: philosopher0 \u2192 lock 'fork1' \u2192 philosopher1" in text
    assert all(f"Note over T{t}: blocked" in text for t in range(3))


def test_every_finding_gives_lines_mermaid_can_parse() -> None:
    statement = re.compile(
        r"^(sequenceDiagram|    participant \w+ as [^;#<>]*(#\w+;[^;#<>]*)*"
        r"|    \w+->>\w+: .*|    Note over \w+(,\w+)?: .*)$"
    )
    for result in results().values():
        for finding in result.findings:
            for line in to_mermaid(finding).splitlines():
                assert statement.match(line), line
                # A raw ; or # would end the statement or start an entity.
                bare = re.sub(r"#\w+;", "", line.split(": ", 1)[-1])
                assert ";" not in bare and "#" not in bare and "<" not in bare, line


def test_a_long_execution_is_cut_around_the_steps_that_matter() -> None:
    spin = results()["spinner"].findings[0]
    text = to_mermaid(spin)
    assert text.count("->>") <= 120
    assert "steps ..." in text or (spin.trace is not None and len(spin.trace) <= 120)
