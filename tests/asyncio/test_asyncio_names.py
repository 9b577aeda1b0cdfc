"""Names a project module bound with ``from asyncio import X`` before the exploration are
scheduled too, stay swapped while the module-wide swap does, and are put back after it."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

import interleave
from interleave import Scenario, Shared
from interleave.instrument import asyncio as patch_asyncio

_MODULE = """\
from asyncio import Lock, sleep


async def withdraw(account, paid_out, lock):
    async def act():
        seen = account.get()
        if seen >= 60:
            await sleep(0)
            account.set(seen - 60)
            paid_out.append(60)

    if lock is None:
        await act()
    else:
        async with lock:
            await act()
"""


@pytest.fixture
def bank(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    (tmp_path / "async_bank.py").write_text(_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "async_bank", raising=False)
    import async_bank  # imported before any exploration: its names are the real ones

    assert async_bank.Lock is asyncio.Lock and async_bank.sleep is asyncio.sleep
    return async_bank


def _scenario(bank: object, *, locked: bool) -> object:
    def scenario() -> Scenario:
        account = Shared("balance", 100)
        paid_out: list[int] = []
        lock = bank.Lock() if locked else None  # type: ignore[attr-defined]

        async def withdraw() -> None:
            await bank.withdraw(account, paid_out, lock)  # type: ignore[attr-defined]

        return Scenario(
            threads={"alice": withdraw, "bob": withdraw},
            check=lambda: account.get() == 100 - sum(paid_out),
        )

    return scenario


def test_names_bound_from_asyncio_are_scheduled_and_put_back(bank: object) -> None:
    project = [str(Path(bank.__file__).parent)]  # type: ignore[attr-defined]
    # The unlocked withdrawals interleave; the module's own ``Lock`` orders them (swapped).
    unlocked = interleave.explore(_scenario(bank, locked=False), project=project)
    assert "invariant" in {f.kind for f in unlocked.findings}, unlocked.report()
    locked = interleave.explore(_scenario(bank, locked=True), project=project)
    assert locked.ok and locked.exhausted, locked.report()
    assert bank.Lock is asyncio.Lock  # type: ignore[attr-defined]
    assert bank.sleep is asyncio.sleep  # type: ignore[attr-defined]
    assert not patch_asyncio.is_patched()


def test_names_stay_swapped_while_the_swap_is_needed(bank: object) -> None:
    project = [str(Path(bank.__file__).parent)]  # type: ignore[attr-defined]
    # (A local: a global of this module bound to asyncio.sleep would be swapped too, since
    # the scenario's own module is project code.)
    real_sleep = asyncio.sleep
    with patch_asyncio.exploration_scope():  # (another user of the swap, as a second run is)
        assert interleave.explore(_scenario(bank, locked=True), project=project).ok
        assert asyncio.sleep is not real_sleep
        assert bank.sleep is asyncio.sleep  # type: ignore[attr-defined]  # still the stand-in
    assert bank.sleep is real_sleep  # type: ignore[attr-defined]
    assert bank.Lock is asyncio.Lock  # type: ignore[attr-defined]


def test_a_module_first_scanned_while_its_names_are_swapped_is_swapped_later_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another exploration (another OS thread) may have the module's names bound when this
    # one first looks at it: what it notes must still say "swap sleep" afterwards.
    (tmp_path / "async_sleeper.py").write_text(_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "async_sleeper", raising=False)
    import async_sleeper

    from interleave.instrument.asyncio import _patch

    project = [str(tmp_path)]
    real_lock = asyncio.Lock
    with patch_asyncio.exploration_scope():
        _patch.SWAP.bind(vars(async_sleeper), "Lock", real_lock, asyncio.Lock)
        assert interleave.explore(_scenario(async_sleeper, locked=True), project=project).ok
    assert async_sleeper.Lock is real_lock
    # Later: the module's Lock orders the withdrawals only if it is swapped.
    locked = interleave.explore(_scenario(async_sleeper, locked=True), project=project)
    assert locked.ok and locked.exhausted, locked.report()
