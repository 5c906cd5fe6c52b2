"""The ``evalmodel`` command: ``run`` (the main job), ``cases`` and ``data`` (fetch, list)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import cast, get_args

from evalmodel import cases as registry
from evalmodel import datasets
from evalmodel.cli_data import add_data_commands
from evalmodel.data.files import read_district_panel
from evalmodel.data.read import Gender, read_panel
from evalmodel.errors import DataSourceError, DesignError, EvalModelError
from evalmodel.panel import Panel
from evalmodel.vocabulary import did_you_mean

__all__ = ["SCB_OUTCOME", "build_parser", "case_script", "load_panels", "main"]


def _file_panel(path: Path, gender: str = "T") -> Panel:
    """The municipality panel of ``--data PATH``: a file or a cache folder, read by
    :func:`~evalmodel.data.read.read_panel` (the same rules as the Python API)."""
    if not path.exists():
        raise DataSourceError(
            f"--data: no file or folder {str(path)!r}; give 'simulated', 'kolada', a CSV or "
            "Excel file, or a cache folder filled by `evalmodel data fetch`."
        )
    return read_panel(path, gender=_gender(gender))


#: The name of SCB's series (people 20-64 supported by ekonomiskt bistånd, by municipality and
#: month) in the panel of ``--data scb``: its ContentsCode is found from the table's metadata.
SCB_OUTCOME = "scb_benefits_20_64"


def _scb_panel(cache_dir: str | None, gender: str) -> Panel:
    """The monthly municipality panel of ``--data scb``: SCB's series read from the cache only
    (filled by ``evalmodel data fetch --source scb``), the ``gender`` kept."""
    from evalmodel.data.scb import BENEFITS_TABLE, read_scb_benefits

    tidy = read_scb_benefits(cache_dir)
    tidy = tidy[tidy["gender"] == gender]
    if tidy.empty or tidy["variable"].nunique() != 1:
        raise DataSourceError(
            f"--data scb: the cached {BENEFITS_TABLE} series holds {tidy['variable'].nunique()} "
            f"series for gender {gender} (one expected); refill it with `evalmodel data fetch "
            "--source scb`."
        )
    long = tidy.assign(variable=SCB_OUTCOME)[["unit", "period", "variable", "value"]]
    panel = Panel(long, unit="unit", time="period", variable="variable", value="value",
                  source={"kind": "scb", "name": BENEFITS_TABLE, "gender": gender})
    if panel.frequency != "month":
        raise DataSourceError(f"--data scb: the cached {BENEFITS_TABLE} series is not monthly; "
                              "refill it with `evalmodel data fetch --source scb`.")
    return panel


def _gender(gender: str) -> Gender:
    if gender not in get_args(Gender):
        raise DataSourceError(f"--gender: {gender!r} is not one of {list(get_args(Gender))}.")
    return cast(Gender, gender)


def load_panels(
    data: str,
    districts: str | None = None,
    *,
    offline: bool = False,
    cache_dir: str | None = None,
    base_url: str | None = None,
    gender: str = "T",
) -> dict[str, Panel]:
    """The panels by level for ``--data`` (``simulated``, ``kolada``, ``scb``, a file or a cache
    folder).

    ``scb`` reads SCB's monthly series from the cache only (``evalmodel data fetch --source
    scb`` fills it), as the variable :data:`SCB_OUTCOME`.

    ``kolada`` reads the local cache, fetching what is missing first unless ``offline``. A file
    or a cache folder is read by :func:`~evalmodel.data.read.read_panel` with ``gender``
    (``T`` total, ``K`` women, ``M`` men); ``simulated`` and ``kolada`` hold totals only.
    """
    if data == "scb":
        return {"municipality": _scb_panel(cache_dir, _gender(gender))}
    if data in ("simulated", "kolada") and gender != "T":
        raise DataSourceError(
            f"--gender {gender}: --data {data} holds totals (T) only; for {gender}, pass a "
            "file with a gender column or a cache folder (`evalmodel data fetch --cache-dir "
            f"DIR`, then --data DIR --gender {gender})."
        )
    if data == "simulated":
        panels = {"municipality": datasets.simulated(),
                  "district": datasets.simulated_districts()}
    elif data == "kolada":
        from evalmodel.data.kolada_panel import kolada_panel

        panels = {"municipality": kolada_panel(offline=offline, cache_dir=cache_dir,
                                               base_url=base_url)}
    else:
        panels = {"municipality": _file_panel(Path(data), gender)}
    if districts:
        if not Path(districts).is_file():
            raise DataSourceError(
                f"--districts: no file {districts!r}; give a CSV of the district panel with "
                "columns district, year and the outcomes."
            )
        # the reader detects the encoding (UTF-8, cp1252, UTF-16) and the separator, and
        # refuses repeated columns and ragged rows with named errors
        panels["district"] = read_district_panel(districts)
    return panels


def _check_run_options(args: argparse.Namespace) -> None:
    """Refuse, before any work, options of ``run`` that cannot apply: unknown cases, the Kolada
    options without ``--data kolada``, a missing analyses folder, an output path that is a file."""
    if args.calibration_units < 0:
        raise DesignError(f"--calibration-units {args.calibration_units}: give a number of "
                          "placebo units, at least 0 (30, the default; fewer is quicker and "
                          "less precise; 0 leaves the calibration section out).")
    known = registry.names()
    unknown = [n for n in (args.cases or []) if n not in known]
    if unknown:
        raise DesignError(f"--cases: unknown {unknown}; known cases are {known}"
                          f"{did_you_mean(unknown[0], known)}.")
    if args.data != "kolada":
        given = [f for f, v in (("--offline", args.offline), ("--base-url", args.base_url))
                 if v]
        if given:
            raise DataSourceError(f"{' and '.join(given)} apply only to --data kolada (the data "
                                  f"are --data {args.data!r}); leave them out or pass --data "
                                  "kolada.")
    if args.analyses and not Path(args.analyses).is_dir():
        raise DataSourceError(f"--analyses: no folder {args.analyses!r}; give the folder of the "
                              "study scripts (analyses/ in the source tree) or leave it out.")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise DataSourceError(f"--out: {args.out!r} is a file, not a folder; give a folder for "
                              "the report (it is created if missing).")


def _run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from evalmodel.core.parallel import forked_workers, lean_collector
    from evalmodel.report.runner import command_line, run_report

    _check_run_options(args)
    names = args.cases or registry.names()
    panels = load_panels(args.data, args.districts, offline=args.offline,
                         cache_dir=args.cache_dir, base_url=args.base_url,
                         gender=args.gender)
    bar = tqdm(total=len(names), desc="cases", unit="case", disable=args.quiet or None,
               file=sys.stderr)

    def step(name: str) -> None:  # once per finished case (its name when known)
        if name:
            bar.set_postfix_str(name)
        bar.update(1)

    # the workers are forked from this process, the package already imported (on Linux,
    # unless the caller chose a joblib backend), with the collector kept off the imports; the
    # report is the same on any backend
    with forked_workers(), lean_collector():
        index = run_report(panels, Path(args.out), case_names=names,
                           analyses=Path(args.analyses) if args.analyses else None,
                           command=command_line(), progress=step, n_jobs=args.jobs,
                           calibration_units=args.calibration_units)
    bar.close()
    print(f"report: {index}")
    return 0


def _cases(args: argparse.Namespace) -> int:
    for name in registry.names():
        c = registry.get(name)
        print(f"{name:12s} {c.level:12s} treated {','.join(c.treated):10s} adoption "
              f"{c.adoption}  {c.title}")
    return 0


def _compile(args: argparse.Namespace) -> int:
    from evalmodel.report.warmup import warm_kernels

    ran = warm_kernels()
    print("compiled kernels, cached: " + ", ".join(ran) if ran else
          "numba is not in use (not installed, or EVALMODEL_NUMBA=0): nothing to compile")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``evalmodel`` command."""
    parser = argparse.ArgumentParser(prog="evalmodel", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run every case and write the report")
    run.add_argument("--data", default="simulated",
                     help="'simulated' (default), 'kolada' (the cached official series), 'scb' "
                          "(SCB's monthly series in the cache, filled by `evalmodel data fetch "
                          "--source scb`), a "
                          "CSV/Excel file (Kolada or Socialstyrelsen export, long or wide) or a "
                          "cache folder filled by `evalmodel data fetch`")
    run.add_argument("--gender", choices=list(get_args(Gender)), default="T",
                     help="with --data FILE or FOLDER: the gender kept, T total (default), "
                          "K women, M men")
    run.add_argument("--offline", action="store_true",
                     help="with --data kolada: read only the cache, fetch nothing")
    run.add_argument("--cache-dir", default=None, help="cache folder (default: the platform's "
                                                       "cache, or $EVALMODEL_CACHE_DIR)")
    run.add_argument("--base-url", default=None, help="Kolada API base URL (for mirrors/tests)")
    run.add_argument("--districts", default=None, help="CSV of a district panel (Lindängen)")
    run.add_argument("--out", default="results", help="output folder (default: results)")
    run.add_argument("--cases", nargs="+", default=None, help="cases to run (default: all)")
    run.add_argument("--analyses", default=None, help="folder of the study scripts")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--jobs", type=int, default=-1,
                     help="worker processes (default -1: every core; 1: one case after the "
                          "other in this process); each case runs in one worker, and with "
                          "fewer than two cases a worker its calibration studies run in "
                          "others beside it; the report is the same whatever it is")
    run.add_argument("--calibration-units", type=int, default=30, metavar="N",
                     help="placebo units per method of each case's 'Size and power' section "
                          "(default 30; fewer is quicker and less precise; 0 leaves the "
                          "section out)")
    run.set_defaults(func=_run)
    cases = sub.add_parser("cases", help="list the registered cases")
    cases.set_defaults(func=_cases)
    comp = sub.add_parser("compile", help="compile the numba kernels into their on-disk cache "
                                          "(make does it after installing; otherwise the "
                                          "first run pays it)")
    comp.set_defaults(func=_compile)
    add_data_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``evalmodel`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except EvalModelError as exc:
        print(f"evalmodel: error: {exc}", file=sys.stderr)
        return 2


def case_script(case: str, script: str) -> int:
    """The ``__main__`` block of a study script: run its case alone with the command's options.

    ``python analyses/<case>.py [--data ...] [--out ...]`` is ``evalmodel run --cases <case>``
    with the script's own folder as the analyses folder::

        if __name__ == "__main__":
            sys.exit(em.cli.case_script(CASE, __file__))
    """
    here = str(Path(script).resolve().parent)
    return main(["run", "--cases", case, "--analyses", here, *sys.argv[1:]])


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
