"""A catalogue of malformed FILES and reader inputs (issue 15).

Each case is an id, an input written to ``tmp_path``, the reader it goes through
(:func:`~evalmodel.data.files.read_export`, :func:`~evalmodel.data.read.read_panel`,
:func:`~evalmodel.data.files.read_cache`, :func:`~evalmodel.data.files.read_district_panel`),
the exact :class:`~evalmodel.errors.EvalModelError` subclass it must raise (or the
:class:`~evalmodel.errors.EvalModelWarning` subclass it must warn with, for inputs accepted
with a warning) and a pinned ``match=`` pattern naming the file, the column, the cell or the
argument. The command (``evalmodel run --data BAD`` and ``evalmodel data ...``) has its own
table: exit status and the message on stderr.

Decisions, per class of input:

* **Refused** (a named error, nothing read): empty, blank or header-only files; files that are
  not text tables (binary data; a workbook, Parquet or zip under a ``.csv`` name; a text file
  under an ``.xlsx`` name); unknown extensions; no header row with a unit and a year column;
  a year that is not an integer (text, fractions, dates, empty); a unit cell without a code
  (empty, or a name only); a value that is neither a number nor a missing marker; an unknown
  gender code (it would otherwise be left out unseen); repeated column names (never renamed
  to ``X.1``); two header rows that do not give each column one year and one variable; rows
  written with another separator than the header; rows with more fields than the header;
  ``sep=``, ``variable=`` or ``sheet=`` where they cannot apply (they would be ignored);
  repeated (unit, year, variable) rows; cache folders that are missing, empty, a file, or whose
  entries do not match their manifest.
* **Accepted with a named warning and a count in notes**: ids outside the municipalities
  (set aside, :class:`~evalmodel.errors.UnitsSetAsideWarning`), missing markers such as
  ``..`` (kept as NaN, :class:`~evalmodel.errors.MissingValueWarning`), absent years (kept,
  :class:`~evalmodel.errors.GapWarning`), a known series break inside the years
  (:class:`~evalmodel.errors.SeriesBreakWarning`).
* **Accepted, recorded in ``source``/``notes`` (not malformed)**: cp1252, UTF-16 and BOM
  encodings, semicolon and tab separators, decimal commas, title lines above the header,
  footnotes below it, merged two-row headers (see ``tests/data/test_file_inputs.py``).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from evalmodel.cli import main as cli_main
from evalmodel.data.cache import Cache, CacheCorruptError
from evalmodel.data.files import read_cache, read_district_panel, read_export
from evalmodel.data.read import read_panel
from evalmodel.errors import (
    DataSourceError,
    EvalModelError,
    EvalModelWarning,
    GapWarning,
    MissingValueWarning,
    SeriesBreakWarning,
    UnitsSetAsideWarning,
)

Writer = Callable[[Path], Path]
LONG = "kpi,municipality_id,year,gender,value\n"


def text(name: str, content: str, encoding: str = "utf-8") -> Writer:
    """Write ``content`` to ``name`` in the case's folder."""

    def write(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(content.encode(encoding))
        return path

    return write


def raw(name: str, data: bytes) -> Writer:
    def write(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(data)
        return path

    return write


def sheet(name: str, rows: list[list[Any]]) -> Writer:
    """An Excel workbook with one sheet of ``rows`` (no header of pandas' own)."""

    def write(tmp: Path) -> Path:
        path = tmp / name
        pd.DataFrame(rows).to_excel(path, index=False, header=False)
        return path

    return write


def folder(name: str) -> Writer:
    def write(tmp: Path) -> Path:
        path = tmp / name
        path.mkdir()
        return path

    return write


def absent(name: str) -> Writer:
    return lambda tmp: tmp / name


def cache(spoil: Callable[[Path], None] | None = None, columns: bool = True) -> Writer:
    """A cache folder with one Kolada entry (N31807), spoiled by ``spoil(folder)``."""

    def write(tmp: Path) -> Path:
        root = tmp / "cache"
        df = pd.DataFrame(
            {"unit": ["1287"], "period": [2012], "variable": ["N31807"], "value": [4.0],
             "gender": ["T"], "status": [""]}
        )
        Cache(root).write_table(
            "kolada/values/N31807", df if columns else df.drop(columns="gender"), source="kolada"
        )
        if spoil is not None:
            spoil(root / "kolada" / "values")
        return root

    return write


def _table(values: Path) -> Path:
    return next(values.glob("N31807-*.parquet"))


def _rewrite_table(values: Path) -> None:
    _table(values).write_bytes(b"PAR1 not parquet PAR1")


def _rewrite_with_checksum(values: Path) -> None:
    import hashlib

    table = _table(values)
    table.write_bytes(b"PAR1 not parquet PAR1")
    manifest = values / "N31807.json"
    m = json.loads(manifest.read_text())
    m["sha256"] = hashlib.sha256(table.read_bytes()).hexdigest()
    manifest.write_text(json.dumps(m))


def _only_parquet(values: Path) -> None:
    (values / "N31807.json").unlink()


def _bad_manifest(values: Path) -> None:
    (values / "N31807.json").write_text("{not json")


def _no_table(values: Path) -> None:
    _table(values).unlink()


@dataclass(frozen=True)
class Case:
    """One malformed input: what is written, how it is read, and what must come of it."""

    id: str
    write: Writer
    expect: type[EvalModelError] | type[EvalModelWarning]
    match: str
    read: Callable[[Path], Any] = read_export


def panel(**kw: Any) -> Callable[[Path], Any]:
    return lambda p: read_panel(p, **kw)


def export(**kw: Any) -> Callable[[Path], Any]:
    return lambda p: read_export(p, **kw)


E = DataSourceError
HEAD = "Kommun;År;Värde\n"
CASES = [
    # -- not a table at all ------------------------------------------------------------------
    Case("empty-file", text("x.csv", ""), E, r"x\.csv is empty \(0 bytes\); save the table"),
    Case("blank-lines-only", text("x.csv", "\n \n\t\n"), E, r"x\.csv is empty \(5 bytes\)"),
    Case("header-only", text("x.csv", HEAD), E,
         r"x\.csv has a header row \(line 1: \['Kommun', 'År', 'Värde'\]\) but no data rows"),
    Case("header-and-footnote-only", text("x.csv", HEAD + "Källa: SCB\n"), E,
         r"no data rows below it \(1 footnote lines below the table skipped\)"),
    Case("binary-garbage", raw("x.csv", bytes(range(256)) * 20), E,
         r"x\.csv is not readable as text: tried the encodings charset-normalizer's detection, "
         r"not utf-8 or cp1252: the file holds NUL bytes"),
    Case("xlsx-named-csv", raw("x.csv", b"PK\x03\x04" + bytes(64)), E,
         r"x\.csv is not a text table but a zip archive \(an Excel \.xlsx workbook\?\)"),
    Case("parquet-named-csv", raw("x.csv", b"PAR1" + bytes(64)), E,
         r"x\.csv is not a text table but a Parquet file"),
    Case("json-extension", text("x.json", HEAD + "1287;2012;4\n"), E,
         r"x\.json has the unknown extension '\.json'; pass a \.csv"),
    Case("no-extension", text("data", HEAD + "1287;2012;4\n"), E,
         r"data has the unknown extension ''"),
    Case("corrupt-xlsx", raw("x.xlsx", b"PK\x03\x04 torn"), E,
         r"x\.xlsx is not a readable Excel workbook \(BadZipFile: .*\); open it in Excel"),
    Case("text-named-xlsx", text("x.xlsx", HEAD + "1287;2012;4\n"), E,
         r"x\.xlsx is not a readable Excel workbook .*it looks like a text file: give it the "
         r"\.csv extension"),
    Case("missing-path", absent("nope.csv"), E, r"file \S*nope\.csv does not exist"),
    # -- Excel sheets ------------------------------------------------------------------------
    Case("xlsx-empty-sheet", sheet("x.xlsx", []), E, r"sheet 0 of \S+x\.xlsx is empty"),
    Case("xlsx-header-only", sheet("x.xlsx", [["Kommun", "År", "Värde"]]), E,
         r"x\.xlsx has a header row \(row 1: .*\) but no data rows"),
    Case("xlsx-unknown-sheet", sheet("x.xlsx", [["Kommun", "År", "Värde"], ["1287", 2012, 4]]),
         E, r"sheet='Data' is not in \S+x\.xlsx .*; pass sheet= the name", export(sheet="Data")),
    Case("xlsx-repeated-column",
         sheet("x.xlsx", [["Kommun", "År", "N31807", "N31807"], ["1287", 2012, 1, 2]]), E,
         r"repeated column names \['N31807'\]: 'N31807' in columns 3 \(C\) and 4 \(D\)"),
    Case("xlsx-with-sep", sheet("x.xlsx", [["Kommun", "År", "Värde"], ["1287", 2012, 4]]), E,
         r"sep=';' applies to text files; \S+ is an Excel file: leave sep out", export(sep=";")),
    # -- header ------------------------------------------------------------------------------
    Case("no-year-column", text("x.csv", "Kommun;Värde\n1287;4\n"), E,
         r"no header row with a unit column .* and a year column .* of \S+x\.csv \(read as "
         r"utf-8; separators tried: semicolon"),
    Case("no-unit-column", text("x.csv", "År;Värde\n2012;4\n"), E,
         r"no header row with a unit column \(e\.g\. 'Kommun-ID'"),
    Case("pipe-separator", text("x.csv", "Kommun|År|Värde\n1287|2012|4\n"), E,
         r"separators tried: semicolon ';', tab '\\t', comma ','; if the file uses another "
         r"separator, pass it, e\.g\. sep='\|'"),
    Case("wrong-sep-given", text("x.csv", HEAD + "1287;2012;4\n"), E,
         r"separator comma ',' as sep= asks; leave sep out", export(sep=",")),
    Case("sep-not-a-character", text("x.csv", HEAD + "1287;2012;4\n"), E,
         r"sep=';;' is not a field separator; pass one character", export(sep=";;")),
    Case("repeated-column", text("x.csv", "Kommun-ID;År;Värde;Värde\n1287;2012;1;2\n"), E,
         r"repeated column names \['Värde'\]: 'Värde' in columns 3 \(C\) and 4 \(D\); each "
         r"column needs its own name"),
    Case("pandas-renamed-column", text("x.csv", "kommun,year,N31807,N31807.1\n1287,2012,1,2\n"),
         E, r"repeated column names \['N31807\.1'\]: 'N31807\.1' in columns 3 \(C\) and 4 \(D\)"),
    Case("merged-header-repeated-pair",
         text("x.csv", "Kommun;Antal;;;\n;2019;2020;2019;2020\n1287;10;11;4,1;4,3\n"), E,
         r"two header rows \(lines 1 and 2\) of \S+ give \['Antal 2019', 'Antal 2020'\] to more "
         r"than one column; make lines 1 and 2"),
    Case("merged-header-partial-titles",
         text("x.csv", "Kommun;;;Andel;\n;2018;2019;2019;2020\n1287;1;2;4,1;4,3\n"), E,
         r"two header rows \(lines 1 and 2\) .* but not over \['2018', '2019'\]"),
    Case("merged-header-beside-variable-column",
         text("x.csv", "Kommun;Mått;Antal;\n;;2019;2020\n1287;x;10;11\n"), E,
         r"name variables \['Antal'\] beside the column 'Mått'"),
    # -- rows --------------------------------------------------------------------------------
    Case("mixed-separators", text("x.csv", HEAD + "1287;2012;4,5\n0580,2012,3\n"), E,
         r"mixes separators: its header is split by semicolons \(';'\) but 1 rows by commas"),
    Case("more-fields-than-header", text("x.csv", "Kommun,År,Värde\n1287,2012,4,5\n"), E,
         r"x\.csv is not a readable table \(read as utf-8, separator comma ','\): .*Expected 3 "
         r"fields in line 2, saw 4; .*quotes around numbers with a decimal comma"),
    Case("year-with-text", text("x.csv", HEAD + "1287;2012a;4\n"), E,
         r"year '2012a' in column 'År' of \S+ is not an integer year \(1 cells\)"),
    Case("year-with-fraction", text("x.csv", HEAD + "1287;2012.5;4\n"), E,
         r"year '2012\.5' in column 'År'"),
    Case("year-as-date", text("x.csv", HEAD + "1287;2012-01-01;4\n"), E,
         r"year '2012-01-01' in column 'År'"),
    Case("year-empty", text("x.csv", HEAD + "1287;;4\n1287;2013;4\n"), E,
         r"year '' in column 'År' of \S+ is not an integer year \(1 cells\)"),
    Case("unit-empty", text("x.csv", HEAD + ";2012;4\n1287;2012;3\n"), E,
         r"unit cell '' in column 'Kommun' of \S+ has no municipality code \(1 cells without a "
         r"code, 1 of them empty\)"),
    Case("unit-name-only", text("x.csv", HEAD + "Trelleborg;2012;4\n"), E,
         r"unit cell 'Trelleborg' in column 'Kommun' .* must start with the code"),
    Case("value-text", text("x.csv", HEAD + "1287;2012;n/a\n1287;2013;saknas\n"), E,
         r"value 'n/a' in \S+ is not a number \(2 cells\); numbers may use a decimal comma"),
    Case("wide-text-column", text("x.csv", "Kommun;År;N31807;Not\n1287;2012;4;hej\n"), E,
         r"value 'hej' in column 'Not' of \S+ is not a number"),
    Case("unknown-gender-code",
         text("x.csv", "Kommun;År;Kön;Värde\n1287;2012;X;4\n1287;2012;T;4\n"), E,
         r"gender \['X'\] in column 'Kön' of \S+ is not a gender code \(1 cells\); the codes "
         r"are T/K/M"),
    Case("variable-column-without-values", text("x.csv", "Kommun;KPI;År\n1287;N31807;2012\n"),
         E, r"has a variable column \('KPI'\) but no value column"),
    Case("no-variables", text("x.csv", "Kommun;År;Kommunnamn\n1287;2012;Trelleborg\n"), E,
         r"has no value column .* no variable columns besides the unit and the year"),
    Case("variable-given-with-kpi-column",
         text("x.csv", "Kommun;KPI;År;Värde\n1287;N31807;2012;4\n"), E,
         r"variable='N31814' names the variable of a file without one, but \S+ has the "
         r"variable column 'KPI'; leave variable= out", export(variable="N31814")),
    Case("variable-given-with-variable-columns", text("x.csv", "Kommun;År;N31807\n1287;2012;4\n"),
         E, r"variable='N31814' .* has one column per variable \(\['N31807'\]\)",
         export(variable="N31814")),
    # -- cache folders -----------------------------------------------------------------------
    Case("folder-without-entries", folder("empty"), E,
         r"the folder \S+empty holds no Kolada cache entries \(kolada/values/<KPI>\.json\)"),
    Case("cache-with-variable", cache(), E,
         r"is a cache folder, whose entries are named by KPI; variable='v', sheet=None and "
         r"sep=None apply to files only", export(variable="v")),
    Case("cache-parquet-without-manifest", cache(_only_parquet), E,
         r"holds no Kolada cache entries", read_cache),
    Case("cache-path-is-a-file", text("cache.json", "{}"), E,
         r"read_cache: \S+cache\.json is a file, not a folder", read_cache),
    Case("cache-path-missing", absent("cache"), E, r"read_cache: \S+cache does not exist",
         read_cache),
    Case("cache-table-changed", cache(_rewrite_table), CacheCorruptError,
         r"N31807-\w+\.parquet is corrupt: sha256 \w+\.\.\. does not match the manifest's",
         read_cache),
    Case("cache-table-not-parquet", cache(_rewrite_with_checksum), CacheCorruptError,
         r"matches its checksum but is not a readable Parquet table", read_cache),
    Case("cache-manifest-not-json", cache(_bad_manifest), CacheCorruptError,
         r"manifest \S+N31807\.json is unreadable", read_cache),
    Case("cache-table-missing", cache(_no_table), CacheCorruptError,
         r"table file \S+ of 'kolada/values/N31807' is missing", read_cache),
    Case("cache-entry-lacks-columns", cache(columns=False), E,
         r"cache entries \['kolada/values/N31807'\] in \S+ lack the columns", read_cache),
    # -- read_panel's rules ------------------------------------------------------------------
    Case("repeated-unit-year-kpi",
         text("x.csv", LONG + "N31807,1287,2012,T,4\nN31807,1287,2012,T,5\n"), E,
         r"read_panel: x\.csv has 2 rows repeating a \(unit, year, variable\) of gender T "
         r"\(e\.g\. \['1287', 2012, 'N31807'\]\)", panel()),
    Case("gender-argument-unknown", text("x.csv", LONG + "N31807,1287,2012,T,4\n"), E,
         r"read_panel: gender='F' is not one of \['T', 'K', 'M'\]", panel(gender="F")),
    Case("gender-absent-from-file", text("x.csv", LONG + "N31807,1287,2012,T,4\n"), E,
         r"has no values of gender 'K' \(women\); the genders in it are \['T'\]",
         panel(gender="K")),
    Case("scope-unknown", text("x.csv", LONG + "N31807,1287,2012,T,4\n"), E,
         r"read_panel: scope='kommuner' is not one of \['municipalities', 'all'\]",
         panel(scope="kommuner")),
    Case("only-regions", text("x.csv", LONG + "N31807,0000,2012,T,4\n"), E,
         r"holds no municipalities once Kolada's country, regions and groups are set aside",
         lambda p: _quiet(lambda: read_panel(p))),
    Case("include-unknown", text("x.csv", LONG + "N31807,1287,2012,T,4\n"), E,
         r"include=\['9999'\] are not Kolada municipality ids nor ids in the data",
         panel(include=["9999"])),
    # -- accepted with a named warning -------------------------------------------------------
    Case("country-rows-set-aside",
         text("x.csv", LONG + "N31807,0000,2012,T,4\nN31807,1287,2012,T,4\n"),
         UnitsSetAsideWarning, r"1 ids outside the municipalities set aside \(1 rows\)",
         panel()),
    Case("missing-marker",
         text("x.csv", "Kommun;År;Värde\n1287;2012;..\n1287;2013;4\n"), MissingValueWarning,
         r"column 'x': 1 missing values kept as NaN", panel()),
    Case("absent-year",
         text("x.csv", LONG + "N31807,1287,2012,T,3\nN31807,1287,2013,T,4\nN31807,0580,2012,T,4\n"),
         GapWarning, r"unbalanced panel: 1 \(unit, period\) cells are absent", panel()),
    Case("series-break-inside",
         text("x.csv", LONG + "N31814,1287,2016,T,30\nN31814,1287,2017,T,31\n"),
         SeriesBreakWarning,
         r"x\.csv: series break in N31814: .* a change between 2016 and 2017 may be an artefact",
         panel()),
    # -- district panels ---------------------------------------------------------------------
    Case("district-lacks-year", text("d.csv", "district,households\nA,3\n"), E,
         r"read_district_panel: \S+ lacks the column\(s\) \['year'\]", read_district_panel),
    Case("district-repeated-column",
         text("d.csv", "district;year;n;n\nA;2010;1;2\nA;2011;1;2\n"), E,
         r"read_district_panel: \S+ has repeated column names \['n'\]: 'n' in columns 3 \(C\) "
         r"and 4 \(D\)", read_district_panel),
    Case("district-path-is-a-folder", folder("districts"), E,
         r"read_district_panel: \S+districts is a folder", read_district_panel),
    Case("district-more-fields-than-header",
         text("d.csv", "district,year,n\nA,2010,1,5\nA,2011,2\n"), E,
         r"read_district_panel: \S+ is not a readable table \(read as utf-8, separator ','\): "
         r"line 2 has 4 fields but the header 3 \(1 such lines\)",
         read_district_panel),
    Case("district-binary", raw("d.csv", b"PK\x03\x04" + bytes(64)), E,
         r"read_district_panel: \S+ is not a text table but a zip archive", read_district_panel),
]


def _quiet(call: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalModelWarning)
        return call()


def test_catalogue_is_large_and_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) >= 30 and len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_file(case: Case, tmp_path: Path) -> None:
    path = case.write(tmp_path)
    if issubclass(case.expect, EvalModelWarning):
        with pytest.warns(case.expect, match=case.match) as record:
            result = case.read(path)
        assert all(isinstance(w.message, EvalModelWarning) for w in record)
        hit = next(str(w.message) for w in record if isinstance(w.message, case.expect))
        assert any(n in hit for n in result.notes), "the warning's fact is in the notes"
        return
    with pytest.raises(EvalModelError, match=case.match) as info:
        case.read(path)
    assert type(info.value) is case.expect


# -- the command -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Command:
    """``evalmodel ...`` on a malformed input: exit status and the message on stderr."""

    id: str
    argv: Callable[[Path], list[str]]
    status: int
    match: str


def _run(data: Writer) -> Callable[[Path], list[str]]:
    return lambda tmp: ["run", "--data", str(data(tmp)), "--out", str(tmp / "out"), "--quiet"]


COMMANDS = [
    Command("run-data-missing", _run(absent("nope.csv")), 2,
            r"evalmodel: error: --data: no file or folder '\S+nope\.csv'"),
    Command("run-data-empty", _run(text("x.csv", "")), 2,
            r"evalmodel: error: read_export: \S+x\.csv is empty \(0 bytes\)"),
    Command("run-data-cp1252-repeated-column",
            _run(text("x.csv", "Kommun;År;Värde;Värde\n1287;2012;1;2\n", "cp1252")), 2,
            r"repeated column names \['Värde'\]: 'Värde' in columns 3 \(C\) and 4 \(D\)"),
    Command("run-data-folder-without-entries", _run(folder("empty")), 2,
            r"holds no Kolada cache entries"),
    Command("run-data-json", _run(text("x.json", "{}")), 2, r"unknown extension '\.json'"),
    Command("run-data-workbook-as-csv", _run(raw("x.csv", b"PK\x03\x04" + bytes(64))), 2,
            r"is not a text table but a zip archive"),
    Command("run-data-merged-header-refused",
            _run(text("x.csv", "Kommun;Antal;;;\n;2019;2020;2019;2020\n1287;1;1;1;1\n")), 2,
            r"two header rows \(lines 1 and 2\)"),
    Command("data-list-cache-dir-is-a-file",
            lambda tmp: ["data", "list", "--cache-dir", str(text("c.json", "{}")(tmp))], 1,
            r"--cache-dir '\S+c\.json' is a file, not a folder"),
    Command("data-fetch-offline-empty-cache",
            lambda tmp: ["data", "fetch", "--offline", "--cache-dir", str(tmp), "--kpis",
                         "N31807", "--years", "2012", "--no-progress"], 1,
            r"kolada \(offline\): the cache at \S+ lacks 2 entries: .*kolada/values/N31807 "
            r"\(missing\)"),
    Command("data-fetch-bad-kpi-id",
            lambda tmp: ["data", "fetch", "--offline", "--kpis", "N 31807"], 2,
            r"--kpis 'N 31807' is not a Kolada KPI id; write a capital letter and five digits"),
    Command("data-fetch-bad-years",
            lambda tmp: ["data", "fetch", "--offline", "--years", "20x0"], 2,
            r"--years '20x0' is not a year range"),
]


@pytest.mark.parametrize("cmd", COMMANDS, ids=[c.id for c in COMMANDS])
def test_malformed_command_input(
    cmd: Command, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = cmd.argv(tmp_path)
    try:
        status = cli_main(argv)
    except SystemExit as exc:  # argparse's usage errors: status 2, message on stderr
        status = int(exc.code or 0)
    err = capsys.readouterr().err
    assert status == cmd.status
    assert "Traceback" not in err
    assert re.search(cmd.match, err), err
