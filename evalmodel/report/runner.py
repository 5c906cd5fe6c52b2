"""The main job: every case's analysis on one data set, written as one report."""

from __future__ import annotations

import importlib.util
import json
import platform
import shutil
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from evalmodel import cases as registry
from evalmodel._version import __version__
from evalmodel.errors import EvalModelError
from evalmodel.panel import Panel
from evalmodel.report.case import CaseOutput, write_case
from evalmodel.report.html import write_html
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
        Called with each case name as it starts.
    """
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
    for name in names:
        if progress:
            progress(name)
        case = registry.get(name)
        panel = panels.get(case.level)
        if panel is None:
            skipped[name] = _not_run_reason(case.level)
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                sections = _case_sections(name, panel, analyses)
            except Exception as exc:  # recorded, reported and turned into a failed run below
                failed[name] = f"{type(exc).__name__}: {exc}"
                continue
        notes = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
        outputs.append(write_case(case, sections, out, stamp=stamp, notes=notes))
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

