"""Write evalmodel/_data/municipalities.csv: Kolada's municipality ids, names and types.

Usage (from the repository root)::

    python data/make_municipalities.py                      # Kolada's API (online)
    python data/make_municipalities.py --base-url URL       # a mirror of the API
    python data/make_municipalities.py PATH                 # a local copy of Kolada's list
    python data/make_municipalities.py PATH --as-of 2026-04-01

The source is Kolada's ``municipality`` endpoint, read through :class:`evalmodel.data.KoladaClient`,
or a local CSV copy of it with the columns ``id, title, type`` (``name`` is accepted for
``title``). The output has the columns ``id, name, type`` (``K`` municipality, ``L`` region or
the country), sorted by id, below ``#`` lines naming the source, its sha256 and the date of the
list (``as of``: the fetch time, or for a local copy the file's modification time unless
``--as-of`` is given). :mod:`evalmodel.names` reads that date to decide whether a list in the
cache is fresher. Codes and names are public facts.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "evalmodel" / "_data" / "municipalities.csv"


def from_file(path: Path) -> tuple[pd.DataFrame, str, datetime]:
    """Kolada's list from a local CSV: the table, a source line and the file's date."""
    data = path.read_bytes()
    df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df = df.rename(columns={"title": "name"})
    digest = hashlib.sha256(data).hexdigest()
    source = f"local copy of Kolada's municipality list, {path.name} (sha256 {digest})"
    when = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    return df, source + "; as of = the file's modification time", when


def from_kolada(base_url: str | None) -> tuple[pd.DataFrame, str, datetime]:
    """Kolada's list from its API: the table, a source line and the fetch time."""
    sys.path.insert(0, str(ROOT))
    from evalmodel.data.kolada import KoladaClient

    client = KoladaClient(base_url)
    df = client.municipalities().rename(columns={"title": "name"})
    return df, f"Kolada API {client.endpoints.municipality()}", datetime.now(UTC)


def check(df: pd.DataFrame) -> pd.DataFrame:
    """The columns id, name, type, sorted by id; raise on anything odd."""
    lacking = {"id", "name", "type"} - set(df.columns)
    if lacking:
        raise SystemExit(f"make_municipalities: the list lacks the columns {sorted(lacking)}")
    df = df[["id", "name", "type"]].astype(str).apply(lambda c: c.str.strip())
    bad = df[~df["id"].str.fullmatch(r"\d{4}") | ~df["type"].isin(["K", "L"])]
    if len(bad) or df["id"].duplicated().any():
        raise SystemExit(f"make_municipalities: bad or repeated rows, e.g. {bad.head(3).values}")
    n_k = int((df["type"] == "K").sum())
    if n_k != 290:
        print(f"make_municipalities: note: {n_k} municipalities of type K (290 expected)")
    return df.sort_values("id", kind="mergesort").reset_index(drop=True)


def write(df: pd.DataFrame, source: str, as_of: datetime, out: Path) -> None:
    """Write the table below its ``#`` provenance lines."""
    head = [
        "# Kolada's municipality list: id, name (Kolada's title), type (K municipality, "
        "L region or the country)",
        f"# source: {source}",
        f"# as of: {as_of.isoformat(timespec='seconds')}",
        f"# written by data/make_municipalities.py on {datetime.now(UTC).date().isoformat()}; "
        "do not edit by hand",
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    body = df.to_csv(index=False, lineterminator="\n")
    out.write_text("\n".join(head) + "\n" + body, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Entry point: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=None,
                        help="local CSV copy of Kolada's list (default: fetch from Kolada)")
    parser.add_argument("--base-url", default=None, help="Kolada API root (default: public v3)")
    parser.add_argument("--as-of", default=None,
                        help="date of the list (ISO, e.g. 2026-04-01; default: fetch time or "
                             "the file's modification time)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output (default {OUT})")
    args = parser.parse_args(argv)
    if args.source is not None:
        df, source, when = from_file(args.source)
    else:
        df, source, when = from_kolada(args.base_url)
    if args.as_of:
        source = source.replace("; as of = the file's modification time", "")
        when = datetime.fromisoformat(args.as_of)
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    df = check(df)
    write(df, source, when, args.out)
    print(f"{args.out}: {len(df)} ids ({int((df['type'] == 'K').sum())} municipalities)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
