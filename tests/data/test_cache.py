"""The checksummed Parquet cache: location, manifests, atomic writes, corruption."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evalmodel.data.cache import (
    ENV_VAR,
    Cache,
    CacheCorruptError,
    CacheMissError,
    default_cache_dir,
    sha256_file,
)
from evalmodel.errors import DataSourceError


def frame(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": [f"{i:04d}" for i in range(n)],
            "period": list(range(2000, 2000 + n)),
            "value": [float(i) / 3 for i in range(n)],
        }
    )


def stray_files(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.name.endswith(".tmp") or ".staged" in p.name)


def test_cache_dir_option_env_and_platform_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from platformdirs import user_cache_dir

    monkeypatch.delenv(ENV_VAR, raising=False)
    assert default_cache_dir() == Path(user_cache_dir("evalmodel", appauthor=False))
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    assert Cache().root == tmp_path / "env"
    assert Cache(tmp_path / "opt").root == tmp_path / "opt"


def test_roundtrip_and_manifest(tmp_path: Path) -> None:
    c = Cache(tmp_path)
    urls = [{"url": "http://127.0.0.1/x", "status": 200, "sha256": "ab" * 32}]
    m = c.write_table(
        "kolada/values/N1", frame(), source="kolada", urls=urls, extra={"years": [2000, 2001, 2002]}
    )
    pd.testing.assert_frame_equal(c.read_table("kolada/values/N1"), frame())
    on_disk = json.loads((tmp_path / "kolada/values/N1.json").read_text())
    assert on_disk["sha256"] == sha256_file(tmp_path / "kolada/values" / m.file)
    assert m.file == f"N1-{m.sha256[:16]}.parquet"
    assert on_disk["urls"] == urls and on_disk["rows"] == 3 and on_disk["source"] == "kolada"
    assert on_disk["package_version"] and on_disk["fetched_at"].endswith("+00:00")
    assert c.status("kolada/values/N1") == "ok" and c.status("kolada/values/N2") == "missing"
    entries = c.entries()
    assert entries[["name", "rows", "status"]].values.tolist() == [["kolada/values/N1", 3, "ok"]]


def test_overwrite_replaces_the_table_file(tmp_path: Path) -> None:
    c = Cache(tmp_path)
    first = c.write_table("t", frame(2), source="x")
    second = c.write_table("t", frame(4), source="x")
    assert not (tmp_path / first.file).exists() and (tmp_path / second.file).exists()
    assert len(c.read_table("t")) == 4


def test_write_killed_midway_leaves_the_old_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = Cache(tmp_path)
    c.write_table("t", frame(2), source="x")

    def half_then_die(self: pd.DataFrame, path: Path, **kw: object) -> None:
        Path(path).write_bytes(b"PAR1 half a file")
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half_then_die)
    with pytest.raises(KeyboardInterrupt):
        c.write_table("t", frame(5), source="x")
    monkeypatch.undo()
    assert c.status("t") == "ok" and len(c.read_table("t")) == 2
    assert stray_files(tmp_path) == []


def test_kill_between_table_and_manifest_is_consistent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import evalmodel.data.cache as cache_mod

    c = Cache(tmp_path)
    c.write_table("t", frame(2), source="x")
    real = cache_mod._atomic_write

    def die_on_manifest(path: Path, write: object) -> None:
        if path.suffix == ".json":
            raise KeyboardInterrupt("killed")
        real(path, write)  # type: ignore[arg-type]

    monkeypatch.setattr(cache_mod, "_atomic_write", die_on_manifest)
    with pytest.raises(KeyboardInterrupt):
        c.write_table("t", frame(5), source="x")
    monkeypatch.undo()
    # the old manifest still points at the old, intact table
    assert c.status("t") == "ok" and len(c.read_table("t")) == 2
    removed = c.clean()
    assert len(removed) == 1 and removed[0].suffix == ".parquet"
    assert c.status("t") == "ok"


def test_corrupted_file_is_detected(tmp_path: Path) -> None:
    c = Cache(tmp_path)
    m = c.write_table("kolada/values/N1", frame(), source="x")
    path = tmp_path / "kolada/values" / m.file
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert c.status("kolada/values/N1") == "corrupt"
    with pytest.raises(
        CacheCorruptError,
        match=r"N1-[0-9a-f]{16}\.parquet is corrupt: sha256 "
        r"[0-9a-f]{16}\.\.\. does not match the manifest's",
    ):
        c.read_table("kolada/values/N1")
    path.unlink()
    with pytest.raises(CacheCorruptError, match="is missing; refetch it"):
        c.read_table("kolada/values/N1")


def test_unreadable_manifest_and_missing_entry(tmp_path: Path) -> None:
    c = Cache(tmp_path)
    (tmp_path / "bad.json").write_text("{not json")
    assert c.status("bad") == "corrupt"
    with pytest.raises(CacheCorruptError, match=r"manifest .*bad\.json is unreadable"):
        c.read_table("bad")
    with pytest.raises(CacheMissError, match=r"'nothing' is not in the cache"):
        c.read_table("nothing")
    assert c.entries()["status"].tolist() == ["corrupt"]


@pytest.mark.parametrize("name", ["../x", "/abs", "a b", ""])
def test_bad_entry_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(DataSourceError, match=r"entry name .* is not valid"):
        Cache(tmp_path).manifest_path(name)


def test_remove(tmp_path: Path) -> None:
    c = Cache(tmp_path)
    m = c.write_table("t", frame(), source="x")
    c.remove("t")
    assert c.status("t") == "missing" and not (tmp_path / m.file).exists()
    assert Cache(tmp_path / "none").names() == [] and Cache(tmp_path / "none").clean() == []
