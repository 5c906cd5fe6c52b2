"""The main job: every case's analysis on one data set, written as one report."""

from __future__ import annotations

import importlib.util
import json
import platform
import shutil
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from threadpoolctl import threadpool_limits

from evalmodel import cases as registry
from evalmodel._version import __version__
from evalmodel.core.jit import numba_threads
from evalmodel.core.parallel import check_n_jobs, run_tasks
from evalmodel.errors import EvalModelError
from evalmodel.panel import Panel
from evalmodel.report.case import CaseOutput, write_case
from evalmodel.report.html import write_html
from evalmodel.report.sec_calibration import (
    CALIBRATION_UNITS,
    calibration_units,
    check_calibration_units,
)
from evalmodel.report.section import Section
from evalmodel.report.standard import standard_sections

__all__ = ["CaseFailedError", "command_line", "find_analyses", "load_script",
           "run_report"]


class CaseFailedError(EvalModelError):
    """One or more cases of a report run raised; the others were written."""

Progress = Callable[[str], None]


def find_analyses(explicit: Path | None = None) -> Path | None:
    """The ``analyses/`` folder: ``explicit``, else ``./analyses``, else the source tree's."""
    for cand in (explicit, Path.cwd() / "analyses",
                 Path(__file__).resolve().parents[2] / "analyses"):
        if cand is not None and cand.is_dir():
            return cand
    return None


def load_script(path: Path) -> ModuleType:
    """Import a study script (``analyses/<case>.py``) without running its ``__main__`` block."""
    spec = importlib.util.spec_from_file_location(f"evalmodel_analysis_{path.stem}", path)
    if spec is None or spec.loader is None:  # pragma: no cover - importlib contract
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _case_sections(name: str, panel: Panel, analyses: Path | None) -> list[Section]:
    if panel.frequency == "month":  # the study scripts work on years
        from evalmodel.report.monthly import monthly_sections

        return monthly_sections(registry.get(name).design(panel))
    script = analyses / f"{name}.py" if analyses else None
    if script is not None and script.is_file():
        module = load_script(script)
        return list(module.sections(panel))
    return standard_sections(registry.get(name).design(panel))


def run_report(
    panels: Mapping[str, Panel],
    out: Path,
    *,
    case_names: Sequence[str] | None = None,
    analyses: Path | None = None,
    command: str = "",
    progress: Progress | None = None,
    extra_manifest: Mapping[str, Any] | None = None,
    n_jobs: int = 1,
    calibration_units: int = CALIBRATION_UNITS,
) -> Path:
    """Run each case on the panel of its level and write ``out/index.html`` and the manifest.

    Parameters
    ----------
    panels : mapping
        ``{"municipality": Panel, "district": Panel}``; a case whose level has no panel is
        listed in the report as not run, with the reason.
    out : Path
        Output folder; each case writes to ``out/<case>/``. Old contents are replaced.
    case_names : sequence of str, optional
        Cases to run (default: all registered).
    analyses : Path, optional
        Folder of the study scripts ``<case>.py`` (each defines ``sections(panel)``).
    command : str
        The command line, recorded in the manifest.
    progress : callable, optional
        Called once as each case finishes, with its name when the cases run one after the
        other (``n_jobs=1``) and with ``""`` from workers (which finish in any order).
    n_jobs : int
        Cases run at once, each in its own worker (1, the default: one after the other in
        this process; -1: every core), on joblib's current backend
        (``evalmodel.core.parallel``). Every number of the report is the same whatever it
        is: each case's draws are seeded by the report's settings, not by the worker.
    calibration_units : int
        Placebo units per method of each case's calibration section (30, the default: the
        Monte Carlo s.e. of a size at 5 % is about 4 percentage points); fewer is quicker and
        less precise, 0 leaves the section out. Recorded in the manifest.
    """
    n_jobs = check_n_jobs("run_report", n_jobs)
    calibration_units = check_calibration_units("run_report", calibration_units)
    names = list(case_names or registry.names())
    analyses = find_analyses(analyses)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    first = next(iter(panels.values()))
    simulated = all(p.source.get("kind") == "simulated" for p in panels.values())
    stamp = "simulated data" if simulated else None
    outputs: list[CaseOutput] = []
    skipped: dict[str, str] = {}
    failed: dict[str, str] = {}
    runnable = []
    for name in names:
        level = registry.get(name).level
        early = _before_months(registry.get(name), panels[level]) if level in panels else None
        if early:
            skipped[name] = early
        elif level in panels:
            runnable.append(name)
        else:
            skipped[name] = _not_run_reason(level)
    order = _costliest_first(runnable)
    tasks = [(name, panels[registry.get(name).level], analyses, out, stamp, calibration_units)
             for name in order]

    def finished(n: int) -> None:  # the n-th case finished (in workers: which one is unknown)
        if progress is not None:
            progress(order[n - 1] if n_jobs == 1 else "")

    done = dict(run_tasks(_run_case, tasks, n_jobs=n_jobs, done=finished))
    for name in runnable:  # registry order, whatever order they ran in
        result = done[name]
        if isinstance(result, str):
            failed[name] = result
        else:
            outputs.append(result)
    manifest = {
        "evalmodel_version": __version__,
        "data": dict(first.source),
        "data_by_level": {k: dict(p.source) for k, p in panels.items()},
        "data_notes": {k: p.notes for k, p in panels.items()},
        "set_aside": {k: p.source.get("set_aside", []) for k, p in panels.items()},
        "simulated": simulated,
        "seed": first.source.get("seed"),
        "command": command,
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cases": [co.case.name for co in outputs],
        "cases_not_run": skipped,
        "cases_failed": failed,
        "analyses": str(analyses.name) if analyses else None,
        "calibration_units": calibration_units,
        **dict(extra_manifest or {}),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n",
                                       encoding="utf-8")
    index = write_html(outputs, out, manifest=manifest, stamp=stamp,
                       not_run={**skipped, **{k: f"failed: {v}" for k, v in failed.items()}})
    if failed:
        raise CaseFailedError(
            f"{len(failed)} case(s) failed: "
            + "; ".join(f"{k}: {v}" for k, v in failed.items())
            + f". The report of the others is in {index}; the manifest lists the failures.")
    return index


def _run_case(name: str, panel: Panel, analyses: Path | None, out: Path, stamp: str | None,
              n_calibration: int = CALIBRATION_UNITS) -> tuple[str, CaseOutput | str]:
    """Build and write one case: its output (figures written and dropped, so that what returns
    from a worker is small), or the error that stopped it as ``"Type: message"``. The
    calibration section's units are set here, in the process that builds the sections, so that
    any joblib backend sees them."""
    case = registry.get(name)
    # BLAS and numba's parallel loops on one thread: the case's many small fits gain nothing
    # from more (the workers already fill the cores), and the numbers (e.g. the smoothness
    # bounds' optimisation) then do not depend on the worker's threads
    with (warnings.catch_warnings(record=True) as caught, threadpool_limits(limits=1),
          numba_threads(1), calibration_units(n_calibration)):
        warnings.simplefilter("always")
        try:
            sections = _case_sections(name, panel, analyses)
        except Exception as exc:  # recorded, reported and turned into a failed run above
            return name, f"{type(exc).__name__}: {exc}"
    notes = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    written = write_case(case, sections, out, stamp=stamp, notes=notes)
    return name, replace(written, sections=tuple(
        replace(ws, section=replace(ws.section, figures=())) for ws in written.sections))


def _costliest_first(names: Sequence[str]) -> list[str]:
    """Cases ordered for the workers: municipality cases (every estimator on a large pool)
    before the others, so that a short case fills the end of a worker's queue."""
    return sorted(names, key=lambda n: registry.get(n).level != "municipality")


def _before_months(case: registry.Case, panel: Panel) -> str | None:
    """Why ``case`` cannot run on a monthly ``panel`` whose months start at or after its
    adoption month (no month before adoption); ``None`` when it can, or the panel is annual."""
    if panel.frequency != "month":
        return None
    from evalmodel.months import month_label

    first, adopted = int(panel.periods[0]), case.monthly_adoption()
    if adopted > first:
        return None
    return (f"adopted in {month_label(adopted)}, before or at the first month of the monthly "
            f"series ({month_label(first)}): no month before adoption to compare with; run it "
            "on the annual series (--data simulated, kolada or an annual file)")


def _not_run_reason(level: str) -> str:
    if level != "district":
        return f"no {level}-level panel in this data set"
    from evalmodel.data.files import DISTRICT_COLUMNS

    cols = "; ".join(f"{k}: {v}" for k, v in DISTRICT_COLUMNS.items())
    return ("needs a district file: no public district-level series on assistance exists (SCB, "
            "Delmos and Malmö stad were searched), so pass the city's own figures with "
            f"--districts PATH, a CSV with one row per district and year ({cols})")


def command_line() -> str:
    """The current command line, for the manifest."""
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])

