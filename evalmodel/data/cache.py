"""A verifiable local cache of fetched tables.

Each entry is a Parquet table plus a JSON manifest (URLs fetched with the sha256 of each body,
time, the table file's sha256, row count, package version). The folder is, in order of
precedence, the ``cache_dir`` option, the environment variable :data:`ENV_VAR`
(``EVALMODEL_CACHE_DIR``), or the platform's user cache folder from :mod:`platformdirs`.

Writes are atomic. The table is written to a temporary file in the same folder and moved into
place with :func:`os.replace` under a name that contains its own checksum
(``<stem>-<sha256[:16]>.parquet``); the manifest, written the same way afterwards, is the
commit point. A fetch killed at any moment therefore leaves either the old entry or the new
one, never a half file under a name the cache reads. On every read the table's sha256 is
checked against its manifest; a mismatch raises :class:`CacheCorruptError`.

Layout::

    <root>/kolada/values/N31807.json                       manifest
    <root>/kolada/values/N31807-3f2a9c0e4b1d7a55.parquet   table
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from evalmodel.errors import DataSourceError
from evalmodel.vocabulary import CacheEntryStatus

__all__ = [
    "ENV_VAR",
    "Cache",
    "CacheCorruptError",
    "CacheMissError",
    "EntryStatus",
    "Manifest",
    "default_cache_dir",
    "resolve_cache_dir",
]

#: Environment variable that overrides the default cache folder.
ENV_VAR = "EVALMODEL_CACHE_DIR"
_NAME = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")

#: The old name of :data:`~evalmodel.vocabulary.CacheEntryStatus`.
EntryStatus = CacheEntryStatus


class CacheCorruptError(DataSourceError):
    """A cached file does not match the checksum in its manifest."""


class CacheMissError(DataSourceError):
    """``offline=True`` was asked for and the cache lacks what is needed."""


def _package_version() -> str:
    try:
        return version("evalmodel")
    except PackageNotFoundError:  # pragma: no cover - source tree without metadata
        return "0.0.0"


def default_cache_dir() -> Path:
    """The cache folder used when no option is given: ``$EVALMODEL_CACHE_DIR`` or the
    platform's user cache folder for ``evalmodel``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("evalmodel", appauthor=False))


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | None) -> Path:
    """``cache_dir`` if given, else :func:`default_cache_dir`."""
    return Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """Provenance of one cache entry.

    Attributes
    ----------
    name : str
        Entry name, e.g. ``"kolada/values/N31807"``.
    file : str
        Table file name, relative to the manifest's folder.
    sha256 : str
        Checksum of the table file.
    rows : int
        Rows in the table.
    columns : list of str
        Columns of the table.
    source : str
        Where it came from (``"kolada"``, ``"scb"``, ...).
    fetched_at : str
        UTC time of the fetch, ISO 8601.
    package_version : str
        evalmodel's version that wrote it.
    urls : list of dict
        Each URL fetched with the HTTP status and the sha256 of its body.
    extra : dict
        Source-specific facts (for Kolada: the years covered).
    """

    name: str
    file: str
    sha256: str
    rows: int
    columns: list[str]
    source: str
    fetched_at: str
    package_version: str
    urls: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The manifest as a JSON-ready dict."""
        return asdict(self)


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


class Cache:
    """A folder of checksummed Parquet tables with manifests.

    Parameters
    ----------
    root : path-like, optional
        The cache folder; see :func:`resolve_cache_dir`.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> c = Cache(tempfile.mkdtemp())
    >>> m = c.write_table("demo/t", pd.DataFrame({"a": [1, 2]}), source="test")
    >>> c.read_table("demo/t")["a"].tolist(), c.status("demo/t")
    ([1, 2], 'ok')
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = resolve_cache_dir(root)

    def __repr__(self) -> str:
        return f"Cache({str(self.root)!r})"

    # -- paths ----------------------------------------------------------------------------
    def _check_name(self, name: str) -> str:
        if not isinstance(name, str) or not _NAME.match(name) or ".." in name.split("/"):
            raise DataSourceError(
                f"Cache: entry name {name!r} is not valid; use letters, digits, '_', '-', '.' "
                "and '/' between parts, e.g. 'kolada/values/N31807'."
            )
        return name

    def manifest_path(self, name: str) -> Path:
        """Path of the manifest of entry ``name``."""
        return self.root / f"{self._check_name(name)}.json"

    def table_path(self, name: str) -> Path | None:
        """Path of the table file of ``name`` per its manifest (None if no manifest)."""
        m = self.manifest(name)
        return None if m is None else self.manifest_path(name).parent / m.file

    # -- reading --------------------------------------------------------------------------
    def manifest(self, name: str) -> Manifest | None:
        """The manifest of ``name``, or None if the entry is absent."""
        path = self.manifest_path(name)
        if not path.exists():
            return None
        try:
            return Manifest(**json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as exc:
            raise CacheCorruptError(
                f"Cache: manifest {path} is unreadable ({exc}); delete it or refetch with "
                "`evalmodel data fetch`."
            ) from None

    def status(self, name: str) -> EntryStatus:
        """``"ok"``, ``"missing"`` or ``"corrupt"`` (checksum or manifest does not match)."""
        try:
            m = self.manifest(name)
        except CacheCorruptError:
            return "corrupt"
        if m is None:
            return "missing"
        path = self.manifest_path(name).parent / m.file
        if not path.exists() or sha256_file(path) != m.sha256:
            return "corrupt"
        return "ok"

    def read_table(self, name: str) -> pd.DataFrame:
        """Read entry ``name`` after checking its checksum.

        Raises
        ------
        CacheMissError
            If the entry is not cached.
        CacheCorruptError
            If the table file is missing, its sha256 differs from the manifest, or it is not
            a readable Parquet table.
        """
        m = self.manifest(name)
        if m is None:
            raise CacheMissError(
                f"Cache: {name!r} is not in the cache at {self.root}; fetch it first "
                "(`evalmodel data fetch`, or offline=False)."
            )
        path = self.manifest_path(name).parent / m.file
        if not path.exists():
            raise CacheCorruptError(
                f"Cache: table file {path} of {name!r} is missing; refetch it "
                "(`evalmodel data fetch`) or delete its manifest."
            )
        got = sha256_file(path)
        if got != m.sha256:
            raise CacheCorruptError(
                f"Cache: {path} is corrupt: sha256 {got[:16]}... does not match the manifest's "
                f"{m.sha256[:16]}...; refetch it (`evalmodel data fetch`) or delete the file."
            )
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow's ArrowInvalid, OSError: not a Parquet file
            raise CacheCorruptError(
                f"Cache: {path} of {name!r} matches its checksum but is not a readable Parquet "
                f"table ({type(exc).__name__}: {str(exc)[:160]}); refetch it (`evalmodel data "
                "fetch --refresh`) or delete the entry."
            ) from None

    def names(self, prefix: str = "") -> list[str]:
        """Names of every entry (manifest) under ``prefix``, sorted."""
        if not self.root.exists():
            return []
        out = [
            p.relative_to(self.root).with_suffix("").as_posix()
            for p in self.root.rglob("*.json")
            if not p.name.startswith(".")
        ]
        return sorted(n for n in out if n.startswith(prefix))

    def entries(self, prefix: str = "") -> pd.DataFrame:
        """One row per cached entry: name, source, rows, fetched_at, sha256, status, extra."""
        recs = []
        for n in self.names(prefix):
            st = self.status(n)
            try:
                m = self.manifest(n)
            except CacheCorruptError:
                m = None
            recs.append(
                {
                    "name": n,
                    "source": m.source if m else "",
                    "rows": m.rows if m else 0,
                    "fetched_at": m.fetched_at if m else "",
                    "sha256": m.sha256 if m else "",
                    "status": st,
                    "extra": json.dumps(m.extra, sort_keys=True) if m else "",
                }
            )
        cols = ["name", "source", "rows", "fetched_at", "sha256", "status", "extra"]
        return pd.DataFrame.from_records(recs, columns=cols)

    # -- writing --------------------------------------------------------------------------
    def write_table(
        self,
        name: str,
        df: pd.DataFrame,
        *,
        source: str,
        urls: Sequence[Mapping[str, Any]] = (),
        extra: Mapping[str, Any] | None = None,
    ) -> Manifest:
        """Write ``df`` as entry ``name`` atomically and return its manifest.

        The previous version of the entry stays readable until the new manifest is in place;
        its table file is removed afterwards.
        """
        mpath = self.manifest_path(name)
        old = self.table_path(name) if mpath.exists() and self.status(name) != "corrupt" else None
        stem = mpath.name[: -len(".json")]
        staged = mpath.parent / f".{stem}.staged.parquet"
        _atomic_write(staged, lambda tmp: df.to_parquet(tmp, index=False))
        digest = sha256_file(staged)
        table = mpath.parent / f"{stem}-{digest[:16]}.parquet"
        os.replace(staged, table)
        manifest = Manifest(
            name=name,
            file=table.name,
            sha256=digest,
            rows=len(df),
            columns=[str(c) for c in df.columns],
            source=source,
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            package_version=_package_version(),
            urls=[dict(u) for u in urls],
            extra=dict(extra or {}),
        )
        text = json.dumps(manifest.to_dict(), indent=1, sort_keys=True)

        def write_manifest(tmp: Path) -> None:
            tmp.write_text(text, encoding="utf-8")

        _atomic_write(mpath, write_manifest)
        if old is not None and old != table:
            with contextlib.suppress(OSError):
                old.unlink()
        return manifest

    def remove(self, name: str) -> None:
        """Delete entry ``name`` (manifest first, then its table)."""
        path = self.table_path(name) if self.status(name) != "missing" else None
        with contextlib.suppress(OSError):
            self.manifest_path(name).unlink()
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink()

    def clean(self) -> list[Path]:
        """Delete files that no manifest points to (left by an interrupted write)."""
        if not self.root.exists():
            return []
        referenced: set[Path] = set()
        for n in self.names():
            tp = self.table_path(n) if self.status(n) != "corrupt" else None
            if tp is not None:
                referenced.add(tp.resolve())
        removed = []
        for p in self.root.rglob("*"):
            stray = p.is_file() and (p.suffix in (".parquet", ".tmp"))
            if stray and p.resolve() not in referenced:
                p.unlink()
                removed.append(p)
        return sorted(removed)


def missing_report(items: Iterable[str]) -> str:
    """Comma-separated list, shortened after 10 items."""
    items = list(items)
    more = f" and {len(items) - 10} more" if len(items) > 10 else ""
    return ", ".join(items[:10]) + more
