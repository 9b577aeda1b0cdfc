"""``DurationCalculator`` and ``DurationFormatter``: durations as text, with caches.

``DurationCalculator.parse_duration_text("1 day 2 hours 30 minutes")`` returns the duration in
hours. A day counts ``hours_per_day`` hours (24 by default; a team may switch to working days of
8 with :meth:`DurationCalculator.set_hours_per_day`, which clears the cache).
``DurationFormatter.format_duration(26.5)`` returns ``"1 day 2 hours 30 minutes"``. Both keep a
cache in an :class:`interleave.Cache` (a plain dict-like object outside an exploration).

The planted bugs of ``variant="buggy"``:

``DurationCalculator.parse_duration_text`` (cache invalidation)
    On a miss it reads ``hours_per_day``, computes, and stores the result. When
    ``set_hours_per_day`` changes the setting and clears the cache in between, the result
    computed with the *old* setting is stored after the clear and served from then on: a
    stale cache entry. Fixed: the miss path and the invalidation hold one lock.
``DurationFormatter.format_duration`` (cache access)
    ``if hours in cache: return cache.get(hours)``: the bounded cache may be emptied (it clears
    itself when full, to make room) between the check and the get, and the call returns None.
    Fixed: one ``get`` and a miss when it finds nothing.

Example::

    calc = DurationCalculator(variant="fixed")
    assert calc.parse_duration_text("1 day 2 hours 30 minutes").total_duration_hours == 26.5
    assert DurationFormatter(variant="fixed").format_duration(26.5) == "1 day 2 hours 30 minutes"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import interleave

from .variant import FIXED, resolve

__all__ = ["DurationCalculator", "DurationFormatter", "DurationResult", "parse_hours"]

#: Hours per unit; a day's hours come from the calculator's setting.
_UNIT_HOURS: Final = {
    "second": 1 / 3600,
    "minute": 1 / 60,
    "hour": 1.0,
    "week": 7.0,  # days; times hours_per_day
    "month": 30.0,  # days
    "year": 365.0,  # days
}
_DAY_UNITS: Final = frozenset({"week", "month", "year"})
_TERM: Final = re.compile(r"(\d+(?:\.\d+)?)\s*(second|minute|hour|day|week|month|year)s?\b")


@dataclass(frozen=True, slots=True)
class DurationResult:
    """A parsed duration.

    Attributes:
        text: the text that was parsed.
        total_duration_hours: the duration in hours.
        hours_per_day: the length of a day it was computed with.
    """

    text: str
    total_duration_hours: float
    hours_per_day: float


def parse_hours(text: str, hours_per_day: float = 24.0) -> float:
    """The hours in ``text`` such as ``"1 day 2 hours 30 minutes"`` (no cache, no state).

    Raises:
        ValueError: no duration in the text.

    Example::

        assert parse_hours("2 days", hours_per_day=8) == 16
    """
    terms = _TERM.findall(text.lower())
    if not terms:
        raise ValueError(
            f"no duration in {text!r}; write e.g. '1 day 2 hours 30 minutes' "
            "(units: seconds, minutes, hours, days, weeks, months, years)"
        )
    total = 0.0
    for amount, unit in terms:
        if unit == "day":
            total += float(amount) * hours_per_day
        elif unit in _DAY_UNITS:
            total += float(amount) * _UNIT_HOURS[unit] * hours_per_day
        else:
            total += float(amount) * _UNIT_HOURS[unit]
    return round(total, 6)


class DurationCalculator:
    """Parses duration texts into hours, with a cache.

    Args:
        hours_per_day: how many hours a day counts (24, or 8 for working days).
        variant: ``"buggy"`` or ``"fixed"`` (default: ``$TASKBOARD_VARIANT``, else buggy).

    Example::

        calc = DurationCalculator(variant="fixed")
        assert calc.parse_duration_text("3 hours").total_duration_hours == 3
        calc.set_hours_per_day(8)          # clears the cache
        assert calc.parse_duration_text("1 day").total_duration_hours == 8
    """

    def __init__(self, *, hours_per_day: float = 24.0, variant: str | None = None) -> None:
        self.variant = resolve(variant)
        self._hours_per_day = interleave.Shared("hours_per_day", hours_per_day)
        self._cache: interleave.Cache[str, DurationResult] = interleave.Cache("durations")
        self._lock = interleave.Lock(name="durations")

    def __repr__(self) -> str:
        return f"<DurationCalculator variant={self.variant!r}>"

    @property
    def hours_per_day(self) -> float:
        """The current length of a day, in hours."""
        return self._hours_per_day.get()

    def parse_duration_text(self, text: str) -> DurationResult:
        """The duration in ``text``, from the cache when it holds it."""
        if self.variant == FIXED:
            # Miss, compute and store under the lock that set_hours_per_day() holds while
            # it changes the setting and clears: no result of an old setting survives.
            with self._lock:
                return self._lookup(text)
        return self._lookup(text)

    def _lookup(self, text: str) -> DurationResult:
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        hours_per_day = self._hours_per_day.get()
        result = DurationResult(text, parse_hours(text, hours_per_day), hours_per_day)
        self._cache.set(text, result)
        return result

    def set_hours_per_day(self, hours: float) -> None:
        """Change the length of a day; cached results are dropped."""
        if self.variant == FIXED:
            with self._lock:
                self._hours_per_day.set(hours)
                self._cache.clear()
            return
        self._hours_per_day.set(hours)
        self._cache.clear()

    def clear_cache(self) -> None:
        """Drop every cached result."""
        if self.variant == FIXED:
            with self._lock:
                self._cache.clear()
            return
        self._cache.clear()


class DurationFormatter:
    """Formats hours as text (``26.5`` -> ``"1 day 2 hours 30 minutes"``), with a bounded cache.

    Args:
        max_entries: the cache holds at most this many texts; when it is full it is cleared
            to make room.
        variant: ``"buggy"`` or ``"fixed"`` (default: ``$TASKBOARD_VARIANT``, else buggy).

    Example::

        fmt = DurationFormatter(variant="fixed")
        assert fmt.format_duration(0.75) == "45 minutes"
    """

    def __init__(self, *, max_entries: int = 128, variant: str | None = None) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries={max_entries!r} must be at least 1")
        self.variant = resolve(variant)
        self.max_entries = max_entries
        # A memo of a pure function: two threads that race on an entry store the same text,
        # so the race is harmless (racy=True: not a data-race finding).
        self._cache: interleave.Cache[float, str] = interleave.Cache("formatted", racy=True)

    def __repr__(self) -> str:
        return f"<DurationFormatter variant={self.variant!r}>"

    def format_duration(self, hours: float) -> str | None:
        """``hours`` as text such as ``"2 hours 15 minutes"`` (the buggy variant may return
        None: see the module docs)."""
        if self.variant == FIXED:
            text = self._cache.get(hours)
            if text is None:
                text = _format(hours)
                self._store(hours, text)
            return text
        # The bug: check, then get; the entry may be gone in between.
        if hours in self._cache:
            return self._cache.get(hours)
        text = _format(hours)
        self._store(hours, text)
        return text

    def _store(self, hours: float, text: str) -> None:
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache.set(hours, text)

    def clear_cache(self) -> None:
        """Drop every cached text."""
        self._cache.clear()


def _format(hours: float) -> str:
    minutes = round(hours * 60)
    days, minutes = divmod(minutes, 24 * 60)
    whole_hours, minutes = divmod(minutes, 60)
    parts = []
    for amount, unit in ((days, "day"), (whole_hours, "hour"), (minutes, "minute")):
        if amount:
            parts.append(f"{amount} {unit}{'' if amount == 1 else 's'}")
    return " ".join(parts) or "0 minutes"
