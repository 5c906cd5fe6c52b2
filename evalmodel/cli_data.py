"""``evalmodel data``: fetch Kolada into the cache, and list what is cached.

The main CLI mounts these commands with :func:`add_data_commands`::

    evalmodel data fetch [--source kolada|scb] [--kpis N31807 ...] [--years 1998-2025]
                         [--base-url URL] [--cache-dir DIR] [--offline] [--refresh]
                         [--no-progress]
    evalmodel data list  [--cache-dir DIR]

Each sub-command's parser sets ``func`` (a function of the parsed arguments returning the
exit status) with :meth:`argparse.ArgumentParser.set_defaults`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from evalmodel.errors import EvalModelError

__all__ = ["add_data_commands", "cmd_fetch", "cmd_list", "kpi_id", "main", "parse_years"]

_KPI = re.compile(r"^[A-Z]\d{5}$")


def kpi_id(text: str) -> str:
    """Check one ``--kpis`` value: a Kolada KPI id, a capital letter and five digits.

    Examples
    --------
    >>> kpi_id("N31807")
    'N31807'
    """
    if not _KPI.match(text):
        raise argparse.ArgumentTypeError(
            f"--kpis {text!r} is not a Kolada KPI id; write a capital letter and five digits, "
            "e.g. N31807 (ids are separated by spaces)"
        )
    return text


def parse_years(text: str) -> list[int]:
    """Parse ``"1998-2025"``, ``"2010,2012,2014"`` or ``"2013"`` into a list of years."""
    out: list[int] = []
    try:
        for part in str(text).split(","):
            part = part.strip()
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if hi < lo:
                    raise ValueError
                out.extend(range(lo, hi + 1))
            elif part:
                out.append(int(part))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--years {text!r} is not a year range; write e.g. 1998-2025 or 2010,2012"
        ) from None
    if not out:
        raise argparse.ArgumentTypeError("--years is empty; write e.g. 1998-2025")
    return sorted(set(out))


def add_data_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``data`` command (with ``fetch`` and ``list``) to a sub-parser collection.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``parser.add_subparsers()`` returned in the main CLI.

    Returns
    -------
    argparse.ArgumentParser
        The ``data`` parser.
    """
    from evalmodel.data.kolada_panel import CASE_KPIS

    data = subparsers.add_parser(
        "data",
        help="fetch official data into the local cache, or list the cache",
        description="Fetch Kolada series into the verifiable local cache, or list it.",
    )
    sub = data.add_subparsers(dest="data_command", metavar="{fetch,list}")
    sub.required = True
    fetch = sub.add_parser("fetch", help="fetch Kolada KPIs for every municipality into the cache")
    fetch.add_argument(
        "--source",
        choices=("kolada", "scb"),
        default="kolada",
        help="kolada (annual KPIs, the default) or scb (SCB's monthly ekonomiskt bistånd "
        "series by municipality, table TAB1386; --kpis and --years do not apply)",
    )
    fetch.add_argument(
        "--kpis",
        nargs="+",
        type=kpi_id,
        default=list(CASE_KPIS),
        metavar="KPI",
        help="Kolada KPI ids (default: the case KPIs)",
    )
    fetch.add_argument(
        "--years",
        type=parse_years,
        default=list(range(1998, 2025)),
        help="years, e.g. 1998-2025 or 2010,2012 (default 1998-2024)",
    )
    fetch.add_argument(
        "--base-url", default=None, help="Kolada API root (default https://api.kolada.se/v3)"
    )
    fetch.add_argument(
        "--cache-dir",
        default=None,
        help="cache folder (default $EVALMODEL_CACHE_DIR or the platform's)",
    )
    fetch.add_argument(
        "--offline",
        action="store_true",
        help="do not fetch; check that the cache holds everything asked for",
    )
    fetch.add_argument("--refresh", action="store_true", help="refetch even what is cached")
    fetch.add_argument("--no-progress", action="store_true", help="no progress bar")
    fetch.set_defaults(func=cmd_fetch)
    lst = sub.add_parser("list", help="list the cached tables with their checksums")
    lst.add_argument("--cache-dir", default=None, help="cache folder")
    lst.add_argument("--json", action="store_true", help="print JSON instead of a table")
    lst.set_defaults(func=cmd_list)
    return data


def cmd_fetch(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Handler of ``evalmodel data fetch``; returns the exit status (0 ok, 1 failure)."""
    from tqdm import tqdm

    from evalmodel.data.cache import Cache
    from evalmodel.data.kolada_panel import fetch_kolada

    out = out or sys.stdout
    if getattr(args, "source", "kolada") == "scb":
        return _fetch_scb(args, out)
    bar = tqdm(
        total=len(args.kpis) + 1,
        desc="kolada",
        unit="table",
        disable=True if args.no_progress else None,
        file=sys.stderr,
    )
    try:
        tidy = _fetched(fetch_kolada, args, args.kpis, args.years, progress=bar.update)
    finally:
        bar.close()
    if tidy is None:
        return 1
    cache = Cache(args.cache_dir)
    print(
        f"{len(args.kpis)} KPIs x {len(args.years)} years ({args.years[0]}-{args.years[-1]}): "
        f"{len(tidy)} values in {cache.root}",
        file=out,
    )
    return 0


def _fetched(fetch: Callable[..., Any], args: argparse.Namespace, *ids: Any, **more: Any) -> Any:
    """Run one source's fetch with the cache options of ``args``.

    Returns
    -------
    pandas.DataFrame or None
        The fetched frame; None, with the error printed to stderr, when the fetch raises an
        :class:`~evalmodel.errors.EvalModelError`.
    """
    try:
        return fetch(
            *ids,
            offline=args.offline,
            cache_dir=args.cache_dir,
            base_url=args.base_url,
            refresh=args.refresh,
            **more,
        )
    except EvalModelError as exc:
        print(f"evalmodel data fetch: {exc}", file=sys.stderr)
        return None


def _fetch_scb(args: argparse.Namespace, out: TextIO) -> int:
    """``evalmodel data fetch --source scb``: SCB's monthly benefits series into the cache."""
    from evalmodel.data.cache import Cache
    from evalmodel.data.scb import BENEFITS_TABLE, benefits_entry, scb_benefits

    tidy = _fetched(scb_benefits, args)
    if tidy is None:
        return 1
    periods = sorted(tidy["period"].unique()) if len(tidy) else ["-"]
    print(
        f"scb {BENEFITS_TABLE}: {tidy['unit'].nunique()} municipalities x {len(periods)} months "
        f"({periods[0]} to {periods[-1]}): {len(tidy)} values in "
        f"{Cache(args.cache_dir).root} ({benefits_entry()})",
        file=out,
    )
    return 0


def cmd_list(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Handler of ``evalmodel data list``; returns 0, or 1 if an entry is corrupt or the
    folder is a file."""
    from evalmodel.data.cache import Cache

    out = out or sys.stdout
    cache = Cache(args.cache_dir)
    if cache.root.exists() and not cache.root.is_dir():
        print(
            f"evalmodel data list: --cache-dir {str(cache.root)!r} is a file, not a folder; "
            "pass the cache folder (the --cache-dir of `evalmodel data fetch`).",
            file=sys.stderr,
        )
        return 1
    entries = cache.entries()
    if getattr(args, "json", False):
        print(json.dumps(entries.to_dict(orient="records"), indent=1), file=out)
    elif entries.empty:
        print(f"the cache at {cache.root} is empty; fill it with `evalmodel data fetch`", file=out)
    else:
        years = entries["extra"].map(_years_span)
        table = entries.assign(years=years, sha256=entries["sha256"].str[:12])
        cols = ["name", "rows", "years", "fetched_at", "sha256", "status"]
        print(f"cache: {cache.root}", file=out)
        print(table[cols].to_string(index=False), file=out)
    return int((entries["status"] == "corrupt").any())


def _years_span(extra: str) -> str:
    years = json.loads(extra or "{}").get("years") or []
    return f"{min(years)}-{max(years)}" if years else ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``evalmodel data ...`` on its own (``python -m evalmodel.cli_data fetch ...``)."""
    parser = argparse.ArgumentParser(prog="evalmodel")
    add_data_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["data", *(argv if argv is not None else sys.argv[1:])])
    handler = args.func
    return int(handler(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
