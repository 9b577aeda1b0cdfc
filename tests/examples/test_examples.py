"""The bundled examples: each buggy variant is found (and its IDs replay the finding), each
fixed variant is exhaustively clean, and every file runs as a script."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

import interleave

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: (file, factory) -> the finding kinds its exploration must report; () means clean.
EXPECTED: dict[tuple[str, str], tuple[str, ...]] = {
    ("bank_transfer", "unlocked"): ("lost-update", "invariant", "data-race"),
    ("bank_transfer", "locked"): (),
    ("bank_transfer", "atomic"): (),
    ("dining_philosophers", "naive"): ("deadlock",),
    ("dining_philosophers", "ordered"): (),
}

BUGGY = [pytest.param(*key, id=".".join(key)) for key, kinds in EXPECTED.items() if kinds]
FIXED = [pytest.param(*key, id=".".join(key)) for key, kinds in EXPECTED.items() if not kinds]


@pytest.fixture(scope="module")
def modules() -> Iterator[dict[str, ModuleType]]:
    loaded = {}
    for stem in sorted({stem for stem, _ in EXPECTED}):
        name = f"_interleave_example_{stem}"
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{stem}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        loaded[stem] = module
    yield loaded
    for stem in loaded:
        sys.modules.pop(f"_interleave_example_{stem}", None)


def factory(modules: dict[str, ModuleType], stem: str, name: str) -> Callable[[], object]:
    value = getattr(modules[stem], name)
    assert callable(value)
    return value  # type: ignore[no-any-return]


def test_demo_lists_are_exactly_the_documented_variants(modules: dict[str, ModuleType]) -> None:
    listed = {(stem, f.__name__) for stem, module in modules.items() for f in module.DEMO}
    assert listed == set(EXPECTED)
    for stem, name in EXPECTED:
        # Documented: in the module docstring and with a one-line docstring of its own.
        assert f"``{name}``" in (modules[stem].__doc__ or "")
        assert (factory(modules, stem, name).__doc__ or "").strip()


@pytest.mark.parametrize(("stem", "name"), BUGGY)
def test_buggy_variant_is_found_and_replays(
    modules: dict[str, ModuleType], stem: str, name: str
) -> None:
    scenario = factory(modules, stem, name)
    result = interleave.explore(scenario)
    assert sorted(set(f.kind for f in result.findings)) == sorted(EXPECTED[stem, name])
    assert result.exhausted
    for finding in result.findings:
        run = interleave.replay(scenario, finding.schedule_id)
        assert finding.kind in [f.kind for f in run.findings]


def test_the_deadlock_is_the_three_philosopher_cycle(modules: dict[str, ModuleType]) -> None:
    result = interleave.explore(factory(modules, "dining_philosophers", "naive"))
    (deadlock,) = result.findings
    assert isinstance(deadlock, interleave.Deadlock)
    assert {name for name in deadlock.cycle if name.startswith("philosopher")} == {
        "philosopher0",
        "philosopher1",
        "philosopher2",
    }


def test_the_lost_update_is_on_the_shared_account(modules: dict[str, ModuleType]) -> None:
    result = interleave.explore(factory(modules, "bank_transfer", "unlocked"))
    resources = {f.resource for f in result.findings if isinstance(f, interleave.LostUpdate)}
    assert resources == {("shared", "bob")}


@pytest.mark.parametrize(("stem", "name"), FIXED)
def test_fixed_variant_is_exhaustively_clean(
    modules: dict[str, ModuleType], stem: str, name: str
) -> None:
    result = interleave.explore(factory(modules, stem, name))
    assert result.ok, result.report()
    assert result.exhausted


@pytest.mark.parametrize(("stem", "name"), FIXED)
def test_fixed_variant_is_clean_under_plain_dfs_too(
    modules: dict[str, ModuleType], stem: str, name: str
) -> None:
    # No reduction: every interleaving runs, so this does not rely on DPOR being right.
    result = interleave.explore(factory(modules, stem, name), strategy="dfs")
    assert result.ok, result.report()
    assert result.exhausted


def test_the_replay_line_in_the_examples_readme_reproduces_the_lost_update(
    modules: dict[str, ModuleType],
) -> None:
    text = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    match = re.search(r"interleave replay examples/bank_transfer\.py:unlocked (\S+)", text)
    assert match is not None
    run = interleave.replay(factory(modules, "bank_transfer", "unlocked"), match[1])
    kinds = list(dict.fromkeys(f.kind for f in run.findings))
    assert kinds == ["lost-update", "invariant", "data-race"]


@pytest.mark.parametrize("stem", sorted({stem for stem, _ in EXPECTED}))
def test_each_example_runs_as_a_script(stem: str) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{stem}.py")],
        capture_output=True,
        text=True,
        check=False,
        cwd=EXAMPLES.parent,
    )
    assert done.returncode == 0, done.stderr
    for (file, name), kinds in EXPECTED.items():
        if file != stem:
            continue
        verdict = "distinct finding(s)" if kinds else "no findings"
        assert f"interleave: {name}: " in done.stdout
        assert verdict in done.stdout
        for kind in kinds:
            assert kind in done.stdout
