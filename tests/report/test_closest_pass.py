"""What changed: each finding comes with the closest passing schedule (the same choices for as
many steps as possible, then one other thread, then no preemption) and the step where the runs
part, in the text, HTML and JSON reports."""

from __future__ import annotations

from gallery import dining_philosophers, lost_update, results

import interleave


def test_the_lost_update_passes_when_worker_1_writes_before_worker_2_reads() -> None:
    result = results()["lost_update"]
    closest = result.closest_passing[0]
    assert closest is not None
    assert closest.agree_steps == 1
    assert (closest.passing.thread_name, closest.passing.op.label) == ("worker#1", "set")
    assert (closest.failing.thread_name, closest.failing.op.label) == ("worker#2", "get")
    assert closest.sentence().startswith(
        "runs agree for 1 step; at step 1 the passing run lets worker#1 run set shared 'hits' ("
    )
    assert "before worker#2 runs get shared 'hits'" in closest.sentence()
    # The invariant broken by the same execution shares the answer.
    assert result.closest_passing[1] == closest


def test_the_passing_schedule_replays_clean_and_agrees_on_the_prefix() -> None:
    for name in ("lost_update", "dining_philosophers", "crash", "three_workers"):
        result = results()[name]
        factory = dining_philosophers() if name == "dining_philosophers" else None
        for finding, closest in zip(result.findings, result.closest_passing, strict=True):
            if finding.kind == "data-race":
                # A race shows in every schedule that runs both accesses: nothing to search.
                assert closest is None
                continue
            assert closest is not None, (name, finding.kind)
            # Passing: no finding but the races, which every schedule shows.
            run = interleave.replay(
                factory or _factory(name), closest.schedule_id, detect_data_races=False
            )
            assert run.ok, (name, run.findings)
            assert finding.trace is not None
            k = closest.agree_steps
            assert run.trace.choices[:k] == finding.trace.choices[:k]
            assert run.trace.choices[k] != finding.trace.choices[k]
            assert run.trace.step(k) == closest.passing
            assert finding.trace.step(k) == closest.failing


def _factory(name: str) -> object:
    from gallery import factory_of

    return factory_of(name)


def test_the_latest_parting_step_is_chosen() -> None:
    # Changing step 2 of the lost update (worker#1 writes before worker#2 does) still loses
    # worker#2's update; step 1 is the latest step where another choice passes.
    result = interleave.explore(lost_update, strategy="dfs")
    closest = result.closest_passing[0]
    assert closest is not None and closest.agree_steps == 1


def test_the_reports_say_what_changed() -> None:
    result = results()["lost_update"]
    closest = result.closest_passing[0]
    assert closest is not None
    text = result.report()
    assert "what changed: runs agree for 1 step; at step 1 the passing run lets worker#1" in text
    assert f"(the passing schedule: {closest.schedule_id})" in text
    assert text.count("what changed:") == 1  # not repeated for the same execution
    data = result.to_dict()["findings"][0]["closest_passing"]
    assert data["agree_steps"] == 1 and data["schedule_id"] == closest.schedule_id
    assert data["passing"]["thread"] == "worker#1" and data["failing"]["thread"] == "worker#2"


def test_findings_without_a_passing_neighbour_say_nothing() -> None:
    # A spin loop has no step to change (and a step-limit trace is not searched); a
    # scenario that fails in every schedule has no passing run at all.
    spin = results()["spinner"]
    assert spin.closest_passing == (None,)
    assert "what changed" not in spin.report()

    def always_fails() -> interleave.Scenario:
        box = interleave.Shared("box", 0)

        def one() -> None:
            box.set(1)

        def two() -> None:
            box.set(2)

        return interleave.Scenario(threads=[one, two], check=lambda: box.get() == 3)

    result = interleave.explore(always_fails)
    assert [f.kind for f in result.findings] == ["invariant", "data-race"]
    assert result.closest_passing == (None, None)
    assert result.to_dict()["findings"][0]["closest_passing"] is None


def test_no_search_after_a_timeout_or_without_minimising() -> None:
    result = interleave.explore(lost_update, timeout=1e-9)
    assert result.stopped_because == "timeout"
    assert result.closest_passing == ()
    raw = interleave.explore(lost_update, minimise=False)
    assert raw.findings and raw.closest_passing == ()
    assert "what changed" not in raw.report()


def test_the_search_is_counted_in_the_minimise_phase() -> None:
    with_search = results()["lost_update"].statistics
    without = interleave.explore(lost_update, minimise=False).statistics
    assert with_search.executions == sum(with_search.phase_executions.values())
    assert with_search.phase_executions["explore"] == without.phase_executions["explore"]
    assert with_search.phase_executions["minimise"] > 0
