"""The command ``estimate``: how many executions exploring a TARGET would run, and how long."""

from __future__ import annotations

import argparse
from typing import Any

from .._engine._settings import ExploreSettings
from .._estimating import DEFAULT_TIME_BUDGET, estimate
from ..errors import InvalidArgument
from ._console import EXIT_OK, emit, emit_json, help_text
from ._options import add_format_option, add_settings_flags, option_error, settings_from
from ._targets import TARGET_HELP, load_target

__all__ = ["add_estimate"]

#: The options that shape the search tree or its executions (``--seed`` is the probes' own).
_OPTIONS = tuple(
    name
    for name in ("strategy", "preemption_bound", *ExploreSettings.REPLAY_OPTIONS)
    if name in ExploreSettings.option_names()
)


def add_estimate(sub: Any) -> None:
    parser = sub.add_parser(
        "estimate",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="estimate how many executions exploring a scenario takes, and how long",
        description=help_text(
            "Estimate how many executions 'interleave explore' would run to exhaust a "
            "scenario (dpor: one per Mazurkiewicz trace; dfs: every interleaving), from "
            "random probes of the search tree (Knuth's estimator over the strategy's own "
            "branches), with its standard error and a 95% interval, and how long the whole "
            "exploration would take at the probes' rate."
        ),
        epilog=(
            "examples:\n"
            "  interleave estimate examples/bank_transfer.py:unlocked\n"
            "  interleave estimate races.py:cache_fill --strategy dfs --time-budget 5\n"
            "  interleave estimate races.py:cache_fill --probes 2000 --seed 3\n"
            "  interleave estimate races.py:cache_fill --format json\n\n"
            "exit status: 0 the estimate was printed, 2 usage error"
        ),
    )
    parser.add_argument("target", metavar="TARGET", help=TARGET_HELP)
    parser.add_argument(
        "--probes",
        type=int,
        metavar="N",
        help="run N probes (with --time-budget too: at most N); default: as many as the "
        "time budget allows",
    )
    parser.add_argument(
        "--time-budget",
        type=float,
        metavar="SECONDS",
        help=f"probe for this long (default: {DEFAULT_TIME_BUDGET:g}, or no limit with --probes)",
    )
    parser.add_argument(
        "--seed",
        dest="probe_seed",
        type=int,
        default=0,
        metavar="N",
        help="the seed of the probes' random choices (default: 0)",
    )
    add_format_option(parser, ("text", "json"))
    add_settings_flags(parser, _OPTIONS)
    parser.set_defaults(run=run_estimate)


def run_estimate(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    factory = load_target(args.target)
    budget = args.time_budget
    if budget is None and args.probes is None:
        budget = DEFAULT_TIME_BUDGET
    try:
        result = estimate(
            factory, probes=args.probes, seed=args.probe_seed, time_budget=budget, settings=settings
        )
    except InvalidArgument as exc:
        message = str(exc)
        for name in ("probes", "time_budget"):
            if message.startswith(f"{name}="):
                message = f"--{name.replace('_', '-')}: {message}"
        raise option_error(InvalidArgument(message)) from None
    if args.format == "json":
        emit_json({"target": args.target, **result.to_dict()})
    else:
        emit(f"{args.target}: {result}")
    return EXIT_OK
