"""The main job: every case's analysis on one data set, written as one report.

With workers (``n_jobs`` other than 1), each case is a task, in one joblib call, costliest
first (:data:`TASK_COST`). When the cases are too few to share the workers evenly (fewer than
two a worker, :func:`_too_few`), the placebo studies of each case's calibration section are
tasks of their own too (two a case: :mod:`evalmodel.report.calibration_tasks`), and the main
process joins each case's section to its case, so that the workers finish together. With
``n_jobs=1`` each case builds its calibration section itself, one case after the other: the
same report, byte for byte.
"""

from __future__ import annotations

import importlib.util
import json
import platform
import shutil
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from threadpoolctl import threadpool_limits

from evalmodel import cases as registry
from evalmodel._version import __version__
from evalmodel.core.jit import numba_threads
from evalmodel.core.parallel import check_n_jobs, run_tasks
from evalmodel.errors import EvalModelError
from evalmodel.panel import Panel
from evalmodel.report.calibration_tasks import (
    CALIBRATION_PARTS,
    Pending,
    StudiesPart,
    calibration_task,
    deferring,
    is_standard_script,
    join_calibration,
)
from evalmodel.report.case import CaseOutput, write_case
from evalmodel.report.case_warnings import note_lines, recording
from evalmodel.report.html import write_html
from evalmodel.report.sec_calibration import (
    CALIBRATION_UNITS,
    calibration_units,
    check_calibration_units,
)
from evalmodel.report.section import Section
from evalmodel.report.standard import standard_sections

__all__ = ["TASK_COST", "CaseFailedError", "command_line", "find_analyses", "load_script",
           "run_report"]

#: CPU seconds of the report's tasks on the simulated world, by (task, level): a case's
#: sections without its calibration studies, and the two parts of those studies with the
#: default 30 placebo units (``benchmarks/bench_report.py``, one process, BLAS on one thread;
#: the studies scale with the units). Used only to hand the costliest tasks out first.
TASK_COST: dict[tuple[str, str], float] = {
    ("case", "municipality"): 4.4, ("case", "district"): 1.2,
    ("synthetic DiD", "municipality"): 2.8, ("other methods", "municipality"): 1.1,
    ("synthetic DiD", "district"): 0.1, ("other methods", "district"): 0.55,
}


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
        Called once per case. With ``n_jobs=1``, as each case finishes, with its name. With
        workers, whose tasks (cases and their calibration studies) finish in any order and
        unnamed, with ``""``: the k-th call once k / (number of cases) of the tasks have
        finished, the last when every task has.
    n_jobs : int
        Workers (1, the default: the cases one after the other in this process; -1: every
        core), on joblib's current backend (``evalmodel.core.parallel``); each case is a
        task, and so are the calibration studies of a case of the standard analysis when
        there are fewer such cases than two a worker. Every number of
        the report is the same whatever it is: each case's draws are seeded by the report's
        settings, not by the worker.
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
    split = {name for name in runnable
             if _studies_apart(name, panels[registry.get(name).level], analyses, n_jobs,
                               calibration_units)}
    if not _too_few(len(split), n_jobs):
        split = set()
    tasks = [(kind, name, panels[registry.get(name).level], analyses, out, stamp,
              calibration_units, name in split)
             for kind, name in _schedule(runnable, split, calibration_units)]
    told = [0]

    def finished(n: int) -> None:  # n tasks finished (in workers: which ones is unknown)
        if progress is None:
            return
        if n_jobs == 1:  # one task per case, in order
            progress(tasks[n - 1][1])
            return
        while told[0] < _cases_done(len(runnable), len(tasks), n):
            told[0] += 1
            progress("")

    done = _join(run_tasks(_run_task, tasks, n_jobs=n_jobs, done=finished), out, stamp)
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


CaseRun = tuple[str, CaseOutput | str, Pending | None, list[str]]


def _cases_done(n_cases: int, n_tasks: int, n: int) -> int:
    """How many of ``n_cases`` calls the progress callback has had once ``n`` of
    ``n_tasks`` tasks have finished: the same share, rounded down (all once all have)."""
    return n * n_cases // n_tasks


def _run_task(kind: str, name: str, panel: Panel, analyses: Path | None, out: Path,
              stamp: str | None, n_calibration: int, split: bool
              ) -> tuple[str, str, CaseRun | StudiesPart]:
    """One task of the report: case ``name`` (``kind="case"``), or a part of its calibration
    studies (``kind`` one of :data:`~evalmodel.report.calibration_tasks.CALIBRATION_PARTS`),
    tagged with both."""
    if kind == "case":
        return kind, name, _run_case(name, panel, analyses, out, stamp, n_calibration, split)
    with threadpool_limits(limits=1), numba_threads(1):  # as in the case task
        return kind, name, calibration_task(name, panel, kind, n_calibration)


def _run_case(name: str, panel: Panel, analyses: Path | None, out: Path, stamp: str | None,
              n_calibration: int = CALIBRATION_UNITS, split: bool = False) -> CaseRun:
    """Build and write one case: its output (figures written and dropped, so that what returns
    from a worker is small), or the error that stopped it as ``"Type: message"``. The
    calibration section's units are set here, in the process that builds the sections, so that
    any joblib backend sees them. With ``split``, the calibration section is left to its
    studies' tasks: the output has an empty placeholder of it, and the request and the case's
    warnings (its notes once the section's are put in) come back beside it."""
    import matplotlib

    case = registry.get(name)
    # BLAS and numba's parallel loops on one thread: the case's many small fits gain nothing
    # from more (the workers already fill the cores), and the numbers (e.g. the smoothness
    # bounds' optimisation) then do not depend on the worker's threads
    # a case holds its figures open until they are written, by design: matplotlib's warning
    # about more than 20 open figures would only be noise in the case's notes
    with (recording() as caught, threadpool_limits(limits=1),
          numba_threads(1), calibration_units(n_calibration),
          matplotlib.rc_context({"figure.max_open_warning": 0}),
          _deferring(name, panel, n_calibration, caught, split) as pending):
        try:
            sections = _case_sections(name, panel, analyses)
        except Exception as exc:  # recorded, reported and turned into a failed run above
            return name, f"{type(exc).__name__}: {exc}", None, []
    said = note_lines(caught)
    written = write_case(case, sections, out, stamp=stamp, notes=list(dict.fromkeys(said)))
    return name, replace(written, sections=tuple(
        replace(ws, section=replace(ws.section, figures=())) for ws in written.sections)), (
        pending[0] if pending else None), said


def _deferring(name: str, panel: Panel, n_calibration: int,
               caught: list[warnings.WarningMessage], split: bool
               ) -> AbstractContextManager[list[Pending]]:
    """:func:`~evalmodel.report.calibration_tasks.deferring` with ``split``, else nothing."""
    if split:
        return deferring(name, panel, n_calibration, caught)
    return nullcontext([])


def _join(results: Sequence[tuple[str, str, CaseRun | StudiesPart]], out: Path,
          stamp: str | None) -> dict[str, CaseOutput | str]:
    """Each case's output (or error) from the tasks' results: a case whose calibration
    section was left to its studies' tasks gets it built from them, written, put in its
    placeholder's place and its studies' warnings in its notes where they belong. A case
    whose studies failed is reported with their error, its files removed (as a case that
    fails building the section writes none)."""
    runs = {name: cast(CaseRun, r) for kind, name, r in results if kind == "case"}
    parts: dict[str, dict[str, StudiesPart]] = {}
    for kind, name, r in results:
        if kind != "case":
            parts.setdefault(name, {})[kind] = cast(StudiesPart, r)
    done: dict[str, CaseOutput | str] = {}
    for name, (_, output, pending, said) in runs.items():
        if isinstance(output, str) or pending is None:
            done[name] = output
            continue
        joined = join_calibration(pending, [parts[name][p] for p in CALIBRATION_PARTS])
        if isinstance(joined, str):
            shutil.rmtree(out / output.case.name, ignore_errors=True)
            done[name] = joined
            continue
        section, more = joined
        (ws,) = write_case(output.case, [section], out, stamp=stamp).sections
        done[name] = replace(
            output,
            sections=tuple(ws if w.section.key == pending.key and not w.section.tables else w
                           for w in output.sections),
            notes=tuple(dict.fromkeys([*said[:pending.at], *more, *said[pending.at:]])))
    return done


def _studies_apart(name: str, panel: Panel, analyses: Path | None, n_jobs: int,
                   n_calibration: int) -> bool:
    """Whether case ``name``'s calibration studies run as tasks of their own: with workers, a
    calibration section, an annual panel (the monthly page has none) and the standard
    analysis (no study script, or one that names ``standard_sections``). Where a guess is
    wrong, the case builds the section itself (and the studies' tasks are wasted): the
    report is the same."""
    if n_jobs == 1 or n_calibration == 0 or panel.frequency == "month":
        return False
    script = analyses / f"{name}.py" if analyses else None
    return (script is None or not script.is_file()
            or is_standard_script(script.read_text(encoding="utf-8")))


def _too_few(n_cases: int, n_jobs: int) -> bool:
    """Whether ``n_cases`` cases are too few to share the workers of ``n_jobs`` evenly as
    whole tasks: fewer than two a worker. Then their calibration studies run apart; with
    more, whole cases handed out costliest first already end within about a second of each
    other (the simulated report's five cases on two workers: 0.3 s), and the split would
    cost more than it saves (0.2 to 0.5 s of CPU a case: the studies' tasks rebuild the
    design the case task had built)."""
    if n_jobs == 1:
        return False
    from joblib import effective_n_jobs

    return n_cases < 2 * effective_n_jobs(n_jobs)


def _schedule(names: Sequence[str], split: set[str], n_calibration: int
              ) -> list[tuple[str, str]]:
    """The report's tasks, ``(kind, case)``, costliest first (:data:`TASK_COST`; ties in the
    order of ``names``): each case, and the two parts of the calibration studies of the
    cases in ``split``, so that a short task fills the end of a worker's queue."""
    scale = n_calibration / CALIBRATION_UNITS

    def level(name: str) -> str:
        return registry.get(name).level if registry.get(name).level in {
            "municipality", "district"} else "municipality"

    def cost(kind: str, name: str) -> float:
        if kind != "case":
            return TASK_COST[kind, level(name)] * scale
        studies = 0.0 if name in split else sum(TASK_COST[p, level(name)]
                                                for p in CALIBRATION_PARTS) * scale
        return TASK_COST["case", level(name)] + studies

    tasks = [("case", n) for n in names] + [(p, n) for n in names if n in split
                                            for p in CALIBRATION_PARTS]
    return sorted(tasks, key=lambda t: -cost(*t))


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

