"""A case's calibration studies run as tasks of their own (issue 16, a report under 15 s):
the case task leaves a placeholder, the studies' tasks run apart, and the join gives the
section, the files and the notes the case gives when it builds the section itself."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from joblib import parallel_config

import evalmodel as em
from evalmodel.report import runner, sec_calibration
from evalmodel.report.calibration_tasks import (
    CALIBRATION_PARTS,
    Pending,
    calibration_task,
    defer,
    deferring,
    primary_design,
    study_key,
)
from evalmodel.report.case import write_case
from evalmodel.report.runner import (
    CaseFailedError,
    _cases_done,
    _join,
    _run_case,
    _schedule,
    _studies_apart,
    _too_few,
    run_report,
)
from evalmodel.report.section import Section

CASE = "lindangen"
UNITS = 6


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def built(districts: em.Panel, tmp_path_factory: pytest.TempPathFactory
          ) -> tuple[Path, Path, tuple, tuple, list]:
    """The district case built in one piece and split: the case task with its placeholder
    (its files before the join listed), then the two parts of its studies."""
    whole, split = (tmp_path_factory.mktemp(n) for n in ("whole", "split"))
    one = _run_case(CASE, districts, None, whole, None, UNITS, split=False)
    part = _run_case(CASE, districts, None, split, None, UNITS, split=True)
    before = sorted(_files(split))
    studies = [calibration_task(CASE, districts, p, UNITS) for p in CALIBRATION_PARTS]
    return whole, split, one, part, [before, studies]


def test_joined_case_equals_the_case_built_in_one_piece(built: tuple) -> None:
    whole, split, one, part, (before, studies) = built
    name, output, pending, _ = part
    assert pending is not None and pending.key.startswith("calibration_")
    # the studies were left out of the case task: a placeholder, and no calibration files
    (placeholder,) = [w for w in output.sections if w.section.key == pending.key]
    assert placeholder.section.tables == () and placeholder.tables == ()
    assert not [f for f in before if "/calibration_" in f]
    results = [("case", name, part), *((p, name, s) for p, s in
                                       zip(CALIBRATION_PARTS, studies, strict=True))]
    joined = _join(results, split, None)[name]
    assert not isinstance(joined, str)
    reference = one[1]
    assert one[2] is None  # built in one piece: nothing pending
    # every file (tables and figures) byte for byte, the sections in the same order with
    # equal tables, and the same notes in the same order
    assert _files(whole) == _files(split)
    assert [w.section.key for w in joined.sections] == [w.section.key
                                                        for w in reference.sections]
    for a, b in zip(joined.sections, reference.sections, strict=True):
        assert (a.section.title, a.section.notes) == (b.section.title, b.section.notes)
        assert [(n, p) for n, _, p in a.tables] == [(n, p) for n, _, p in b.tables]
        for (_, x, _), (_, y, _) in zip(a.tables, b.tables, strict=True):
            _same(x, y)
    assert joined.notes == reference.notes
    table = dict(next(w for w in joined.sections
                      if w.section.key == pending.key).section.tables)["calibration"]
    assert set(table["n_placebo"]) == {UNITS} and len(table) == 7


def _same(a: object, b: object) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)  # type: ignore[arg-type]
    else:
        assert str(a) == str(b)


def test_failed_studies_fail_the_case_and_remove_its_files(tmp_path: Path) -> None:
    case = em.cases.get(CASE)
    sections = [Section(key="calibration_y", title="placeholder"),
                Section(key="data", title="data", tables=(("t", pd.DataFrame({"a": [1]})),))]
    output = write_case(case, sections, tmp_path)
    assert (tmp_path / CASE).is_dir()
    pending = Pending("calibration_y", "y", 2011, {}, "digest", 1, 0.95, 0)
    results = [("case", CASE, (CASE, output, pending, [])),
               ("synthetic DiD", CASE, ("digest", [])),
               ("other methods", CASE, "ValueError: boom")]
    assert _join(results, tmp_path, None) == {CASE: "ValueError: boom"}
    assert not (tmp_path / CASE).exists()


def test_join_puts_the_section_and_its_warnings_in_their_places(tmp_path: Path) -> None:
    """The section replaces its placeholder (not the other sections) and its studies'
    warnings go where the case met the section, before the case's later warnings."""
    case = em.cases.get(CASE)
    sections = [Section(key="verdict", title="v"),
                Section(key="calibration_y", title="placeholder"),
                Section(key="data", title="data", tables=(("t", pd.DataFrame({"a": [1]})),))]
    output = write_case(case, sections, tmp_path)
    pending = Pending("calibration_y", "y", 2011, {}, "digest", 1, 0.95, 1)
    # two methods' studies that failed (a note each), the second's part handed in first
    results = [("case", CASE, (CASE, output, pending, ["W: a", "W: b", "W: a"])),
               ("synthetic DiD", CASE, ("digest", [(1, ("sdid", "sdid: no study"),
                                                    ["W: d", "W: b"])])),
               ("other methods", CASE, ("digest", [(0, ("2x2", "2x2: no study"),
                                                    ["W: c"])]))]
    joined = _join(results, tmp_path, None)[CASE]
    assert not isinstance(joined, str)
    assert joined.notes == ("W: a", "W: c", "W: d", "W: b")  # in the methods' order
    assert [w.section.title for w in joined.sections] == [
        "v", "Size and power on these data: y", "data"]
    (section,) = [w.section for w in joined.sections if w.section.key == "calibration_y"]
    assert section.notes[-2:] == ("2x2: no study", "sdid: no study")


def test_defer_only_inside_a_case_task_and_for_the_studies_run_apart(
        districts: em.Panel) -> None:
    design, outcome = primary_design(em.cases.get(CASE).design(districts))
    assert defer(design, outcome, {}, n_units=UNITS) is None  # outside: built in place
    with deferring(CASE, districts, UNITS, []) as pending:
        assert defer(design, outcome, {}, n_units=UNITS + 1) is None  # other studies
        held = defer(design, outcome, {"2x2": 1.0}, n_units=UNITS)
        assert held is not None and held.key == f"calibration_{outcome}" and not held.tables
        assert defer(design, outcome, {}, n_units=UNITS) is None  # one a case
    assert [p.estimates for p in pending] == [{"2x2": 1.0}]
    # the digest reads the panel's values: one changed cell changes it
    unit, period = design.comparison[0], design.pre_periods[0]
    other = design.panel.with_values(outcome, {(unit, period): 1e6})
    moved = em.cases.get(CASE).design(other)
    assert study_key(design, outcome, n_units=UNITS) != study_key(
        primary_design(moved)[0], outcome, n_units=UNITS)


def test_tasks_are_scheduled_costliest_first() -> None:
    tasks = _schedule(["boras", CASE, "trelleborg"], {"boras", CASE}, 30)
    assert tasks == [("case", "trelleborg"),  # its studies not apart: the costliest
                     ("case", "boras"), ("synthetic DiD", "boras"), ("case", CASE),
                     ("other methods", "boras"), ("other methods", CASE),
                     ("synthetic DiD", CASE)]
    # with few placebo units the studies come after the cases
    assert _schedule(["boras", CASE], {"boras", CASE}, 3)[:2] == [("case", "boras"),
                                                                 ("case", CASE)]


def test_studies_apart_only_for_the_standard_analysis_with_workers(
        districts: em.Panel, tmp_path: Path) -> None:
    assert _studies_apart(CASE, districts, None, 2, 30)
    assert not _studies_apart(CASE, districts, None, 1, 30)  # one process: in place
    assert not _studies_apart(CASE, districts, None, 2, 0)  # no section
    monthly = em.datasets.simulated_monthly()
    assert not _studies_apart("linkoping", monthly, None, 2, 30)  # the monthly page
    (tmp_path / f"{CASE}.py").write_text("def sections(panel):\n    return []\n")
    assert not _studies_apart(CASE, districts, tmp_path, 2, 30)
    (tmp_path / f"{CASE}.py").write_text(
        "import evalmodel as em\ndef sections(panel):\n"
        "    return em.report.standard_sections(em.cases.get('lindangen').design(panel))\n")
    assert _studies_apart(CASE, districts, tmp_path, 2, 30)


def test_studies_apart_only_when_the_cases_are_too_few_for_the_workers() -> None:
    # fewer cases than two a worker: a worker would wait; two or more a worker: whole cases
    assert _too_few(1, 2) and _too_few(3, 2)
    assert not _too_few(4, 2) and not _too_few(5, 2)
    assert not _too_few(1, 1)  # one process: nothing to share


def test_progress_counts_cases_as_the_tasks_finish() -> None:
    due = [_cases_done(5, 15, n) for n in range(16)]
    assert due[0] == 0 and due[-1] == 5 and due == sorted(due)
    assert due[3] == 1 and due[14] == 4  # a case's share of the tasks each
    assert [_cases_done(3, 3, n) for n in range(4)] == [0, 1, 2, 3]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failing_study_fails_its_case_as_in_one_process(
        districts: em.Panel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        jobs: int) -> None:
    """A placebo study that raises fails its case with the same message whether the case
    builds its section (one process) or the studies run as tasks (two threads here, so that
    the patch reaches them): the other cases are written, the failed one is not."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no studies today")

    parts: list[str] = []

    def counted(name: str, panel: em.Panel, part: str, n_units: int) -> object:
        parts.append(part)
        return calibration_task(name, panel, part, n_units)

    monkeypatch.setattr(sec_calibration, "placebo_study", broken)
    monkeypatch.setattr(runner, "calibration_task", counted)
    out = tmp_path / "out"
    with parallel_config(backend="threading"), pytest.raises(
            CaseFailedError, match=r"1 case\(s\) failed: lindangen: RuntimeError: no studies"):
        run_report({"district": districts}, out, case_names=[CASE], calibration_units=UNITS,
                   n_jobs=jobs)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["cases_failed"] == {CASE: "RuntimeError: no studies today"}
    assert not (out / CASE).exists() and (out / "index.html").is_file()
    assert sorted(parts) == ([] if jobs == 1 else sorted(CALIBRATION_PARTS))
