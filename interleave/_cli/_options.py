"""Command-line flags made from :class:`~interleave.ExploreSettings`, and settings from flags.

Every option of an exploration is a field of ``ExploreSettings``; its flag is the field's name
with dashes (``max_schedules`` is ``--max-schedules``), its help the field's ``help`` metadata
and its value parsed by the field's type: a number, a name (``--strategy`` lists its choices,
read when the parser is built), ``N|iterative``, a switch (``--trace-attributes`` /
``--no-trace-attributes``) or a repeatable list (``--project``; health checks also
comma-separated). A flag left out keeps the library's default (for ``replay``: what the ID
recorded). A new field of ``ExploreSettings`` is a new flag, with nothing to change here.

A value the settings refuse is a usage error that names the flag:
``--max-schedules: max_schedules=0 must be at least 1``.
"""

from __future__ import annotations

import argparse
import typing
from collections.abc import Sequence
from dataclasses import Field, fields
from pathlib import Path
from typing import Any

from .._engine import _settings
from .._engine._database import DirectoryDatabase, ScheduleDatabase
from .._engine._settings import ExploreSettings
from ..errors import InvalidArgument
from ._console import PROGRESS_MODES, UsageError

__all__ = [
    "add_database_options",
    "add_format_option",
    "add_progress_option",
    "add_settings_flags",
    "database_path",
    "flag",
    "keep_out_of_git",
    "open_database",
    "option_error",
    "replay_options",
    "settings_from",
]

#: Where ``explore`` and ``report`` keep failing schedules unless told otherwise (relative to
#: the working directory).
DEFAULT_DATABASE = Path(".interleave")
#: Lists given as comma-separated names too (``--suppress-health-check a,b``).
_NAME_LISTS = ("suppress_health_check", "fail_health_check")
#: What ``.gitignore`` in a database directory the command line made says.
_GITIGNORE = "# Failing schedules saved by interleave (see 'interleave explore --help').\n*\n"


def flag(name: str) -> str:
    """The flag of an option: ``max_schedules`` is ``--max-schedules``."""
    return "--" + name.replace("_", "-")


def _int_or_word(text: str) -> int | str:
    """``N|iterative``: a whole number when it is one, else the word (the settings check it)."""
    stripped = text.strip()
    try:
        return int(stripped)
    except ValueError:
        return stripped


def _default_text(default: object) -> str:
    if isinstance(default, bool):
        return "on" if default else "off"
    return "none" if default in (None, (), frozenset()) else str(default)


def add_settings_flags(
    parser: argparse.ArgumentParser, names: Sequence[str] | None = None, *, replay: bool = False
) -> None:
    """Add a flag for each option in ``names`` (default: every option of ``ExploreSettings``).

    With ``replay=True`` the help says that a flag left out takes what the ID recorded.
    """
    chosen = ExploreSettings.option_names() if names is None else tuple(names)
    # Resolved in the module that defines the settings (their __module__ is the public one).
    hints = typing.get_type_hints(ExploreSettings, globalns=vars(_settings))
    group = parser.add_argument_group("exploration options" if not replay else "replay options")
    by_name = {f.name: f for f in fields(ExploreSettings)}
    for name in chosen:
        spec = by_name[name]
        kind = hints[name]
        help_text = _help(spec, replay=replay, recorded=name in ExploreSettings.EXECUTION_OPTIONS)
        metavar = spec.metadata.get("metavar")
        if kind is bool:
            group.add_argument(
                flag(name), dest=name, action=argparse.BooleanOptionalAction, help=help_text
            )
            continue
        options: dict[str, Any] = {"dest": name, "metavar": metavar, "help": help_text}
        args = set(typing.get_args(kind)) - {type(None)}
        if typing.get_origin(kind) in (tuple, frozenset):
            options.update(action="append", type=str)
        elif kind is int or args == {int}:
            options["type"] = int
        elif kind is float or args == {float}:
            options["type"] = float
        elif args == {int, str}:
            options["type"] = _int_or_word
        group.add_argument(flag(name), **options)


def _help(spec: Field[Any], *, replay: bool, recorded: bool) -> str:
    text = str(spec.metadata.get("help", ""))
    choices = spec.metadata.get("choices")
    if choices is not None:
        text += f"; one of: {', '.join(choices())}"
    if spec.name in _NAME_LISTS or spec.name == "project":
        text += "; repeat the flag for several" + (
            " (or separate them with commas)" if spec.name in _NAME_LISTS else ""
        )
    if replay and recorded:
        return text + " (default: as the ID recorded)"
    shown = spec.metadata.get("default") or _default_text(spec.default)
    return f"{text} (default: {shown})"


def _given(args: argparse.Namespace, names: Sequence[str]) -> dict[str, Any]:
    """The options given on the command line (the others keep their defaults)."""
    given = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    for name in _NAME_LISTS:
        if name in given:
            given[name] = [n for item in given[name] for n in item.split(",") if n.strip()]
    return given


def settings_from(args: argparse.Namespace) -> ExploreSettings:
    """The :class:`ExploreSettings` of the flags given.

    Raises:
        UsageError: a value the settings refuse, naming its flag.
    """
    try:
        return ExploreSettings(**_given(args, ExploreSettings.option_names()))
    except InvalidArgument as exc:
        raise option_error(exc) from None


def replay_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keywords of ``interleave.replay()`` the flags give."""
    return _given(args, ExploreSettings.REPLAY_OPTIONS)


def option_error(exc: InvalidArgument) -> UsageError:
    """``exc`` as a usage error that starts with the flag of the option it names."""
    message = str(exc)
    for name in ExploreSettings.option_names():
        if message.startswith((f"{name}=", f"{name} ")):
            return UsageError(f"{flag(name)}: {message}")
    return UsageError(message)


def add_format_option(parser: argparse.ArgumentParser, formats: Sequence[str]) -> None:
    """``--format``: the first of ``formats`` is the default."""
    described = {
        "text": "text (the report, the default)",
        "markdown": "markdown (a table for pull requests and CI job summaries)",
        "json": "json (the result's to_dict(), for programs)",
    }
    parser.add_argument(
        "--format",
        choices=tuple(formats),
        default=formats[0],
        help="; ".join(described[f] for f in formats),
    )


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    """``--progress``: a bar on a terminal, lines in a log, either, or nothing."""
    parser.add_argument(
        "--progress",
        choices=PROGRESS_MODES,
        default="auto",
        help=(
            "how to show the progress of a long exploration on stderr: auto (a bar with "
            "count / estimated total, percentage, rate and time left on a terminal; a line "
            "every 5 s otherwise), bar, lines, or off (default: auto)"
        ),
    )


def add_database_options(parser: argparse.ArgumentParser) -> None:
    """``--database DIR`` and ``--no-database``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--database",
        type=Path,
        metavar="DIR",
        help=(
            "keep failing schedule IDs in DIR and replay them first next time: a failure "
            "that still shows is reported without a new search (default: "
            f"{DEFAULT_DATABASE}/ in the working directory)"
        ),
    )
    group.add_argument(
        "--no-database",
        action="store_true",
        help="neither replay nor save failing schedules: explore from scratch",
    )


def database_path(args: argparse.Namespace) -> Path | None:
    """The directory of the schedule database the flags ask for (None: ``--no-database``)."""
    if args.no_database:
        return None
    return args.database if args.database is not None else DEFAULT_DATABASE


def open_database(path: Path | None) -> ScheduleDatabase | None:
    """The directory database in ``path`` (None for None)."""
    return None if path is None else DirectoryDatabase(path)


def keep_out_of_git(path: Path) -> None:
    """Put a ``.gitignore`` that ignores everything into a database directory the command line
    has just made (as pytest does in ``.pytest_cache``): saved schedules are never committed."""
    marker = path / ".gitignore"
    if path.is_dir() and not marker.exists():
        marker.write_text(_GITIGNORE, encoding="utf-8")
