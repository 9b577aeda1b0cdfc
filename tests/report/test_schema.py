"""Every report interleave can produce as data validates against the schema shipped in the
package (``interleave/_report/schema.json``), and survives ``json.dumps``."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from gallery import replays, results

import interleave
from interleave._report import SCHEMA_VERSION, junit_properties, schema, summary_dict, to_json


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    loaded = schema()
    cls = jsonschema.validators.validator_for(loaded)
    cls.check_schema(loaded)
    return cls(loaded, format_checker=cls.FORMAT_CHECKER)


def _valid(validator: Any, data: dict[str, Any]) -> None:
    # Through JSON text and back: what a CI system reads is the text.
    loaded = json.loads(json.dumps(data))
    errors = sorted(validator.iter_errors(loaded), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_the_schema_is_versioned_like_the_data() -> None:
    loaded = schema()
    assert loaded["$defs"]["exploration"]["properties"]["schema_version"] == {
        "const": SCHEMA_VERSION
    }
    assert str(SCHEMA_VERSION) in loaded["title"]


@pytest.mark.parametrize("name", sorted(results()))
def test_every_exploration_validates(validator: Any, name: str) -> None:
    data = results()[name].to_dict()
    _valid(validator, data)
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["verdict"] in {"proved", "bounded", "sampled", "interrupted"}


def test_every_finding_kind_is_in_the_gallery(validator: Any) -> None:
    kinds = {f.kind for r in results().values() for f in r.findings}
    assert kinds == {
        "deadlock",
        "lost-update",
        "invariant",
        "exception",
        "step-limit",
        "teardown",
        "data-race",
    }
    verdicts = {str(r.verdict) for r in results().values()}
    assert verdicts == {"proved", "bounded", "sampled"}


def test_every_replay_validates(validator: Any) -> None:
    runs = replays()
    assert len(runs) >= 8
    for run in runs.values():
        _valid(validator, run.to_dict())


def test_the_summary_validates(validator: Any) -> None:
    data = summary_dict(results())
    _valid(validator, data)
    assert data["verdict"] == "sampled"  # the weakest row
    assert [row["name"] for row in data["explorations"]] == list(results())
    assert summary_dict([])["verdict"] == "proved"
    _valid(validator, summary_dict([]))


def test_an_interrupted_exploration_validates(validator: Any) -> None:
    result = results()["lost_update"]
    stopped = type(result)(
        scenario=result.scenario,
        strategy=result.strategy,
        findings=result.findings[:1],
        occurrences=result.occurrences[:1],
        schedules_run=1,
        stopped_because=interleave.ExitReason.INTERRUPTED,
    )
    data = stopped.to_dict()
    _valid(validator, data)
    assert data["verdict"] == "interrupted"


def test_a_finding_carries_its_steps_with_thread_operation_resource_and_location() -> None:
    data = results()["lost_update"].to_dict()
    first = data["findings"][0]
    assert first["kind"] == "lost-update"
    assert first["schedule_id"].startswith("2-")
    step = first["steps"][first["read_step"]]
    assert (step["thread"], step["operation"], step["resource"]) == (
        "worker#1",
        "get",
        "shared 'hits'",
    )
    assert step["location"].endswith(".py:" + step["location"].rpartition(":")[2])
    assert data["findings"][0]["thread_outcomes"] == {
        "worker#1": "finished",
        "worker#2": "finished",
    }


def test_a_deadlock_carries_its_cycle_and_who_holds_what() -> None:
    data = results()["dining_philosophers"].to_dict()
    (deadlock,) = data["findings"]
    assert len(deadlock["cycle"]) == 6
    assert {w["thread"] for w in deadlock["waits"]} == {
        "philosopher0",
        "philosopher1",
        "philosopher2",
    }
    assert all(w["holders"] for w in deadlock["waits"])


def test_to_json_is_the_dict_as_text() -> None:
    result = results()["crash"]
    assert json.loads(result.to_json()) == json.loads(json.dumps(result.to_dict()))
    assert json.loads(to_json(result)) == json.loads(result.to_json())
    run = next(iter(replays().values()))
    assert json.loads(run.to_json())["kind"] == "replay"


def test_junit_properties_carry_the_verdict_executions_and_every_schedule_id() -> None:
    result = results()["failing_teardown"]
    props = junit_properties(result)
    names = [name for name, _ in props]
    assert len(names) == len(set(names))
    values = dict(props)
    assert values["interleave_verdict"] == "proved"
    assert values["interleave_schedules_run"] == str(result.schedules_run)
    assert values["interleave_executions"] == str(result.statistics.executions)
    for number, finding in enumerate(result.findings, 1):
        assert values[f"interleave_finding_{number}"] == f"{finding.kind} {finding.schedule_id}"
    assert all(isinstance(v, str) for _, v in props)


def test_junit_properties_of_a_clean_result_and_of_a_replay() -> None:
    clean = dict(junit_properties(results()["locked_counter"]))
    assert clean["interleave_findings"] == "none"
    assert not any(name.startswith("interleave_finding_") for name in clean)
    run = next(iter(replays().values()))
    values = dict(junit_properties(run))
    assert values["interleave_replayed"] == run.schedule_id
    assert values["interleave_verdict"] == "failed"
    assert dict(junit_properties(replays()["passing"]))["interleave_verdict"] == "ok"


def test_the_schema_rejects_what_it_does_not_describe(validator: Any) -> None:
    good = results()["lost_update"].to_dict()
    assert validator.is_valid(good)
    missing = {k: v for k, v in good.items() if k != "verdict"}
    unknown = {**good, "surprise": 1}
    wrong = {**good, "verdict": "probably fine"}
    step = {**good["findings"][0]["steps"][0], "thread": 1}
    bad_step = {**good, "findings": [{**good["findings"][0], "steps": [step]}, good["findings"][1]]}
    lost = {k: v for k, v in good["findings"][0].items() if k != "read_step"}
    bad_kind = {**good, "findings": [lost, good["findings"][1]]}
    for bad in (missing, unknown, wrong, bad_step, bad_kind):
        assert not validator.is_valid(bad)
