"""``frame_sha256``: the hash of ``to_csv(index=False, float_format="%.10g")``, whichever path
writes the text."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from evalmodel import datasets
from evalmodel.datasets import _plain_csv, frame_sha256


def _pandas_sha(df: pd.DataFrame) -> str:
    return hashlib.sha256(df.to_csv(index=False, float_format="%.10g").encode()).hexdigest()


def test_embedded_data_keep_the_digests_the_manifests_recorded() -> None:
    """The digests of the report of db603b5 (before the fast path), in its manifest.json."""
    data, _ = datasets._municipalities(datasets.DEFAULT_SEED)
    districts, _ = datasets._districts(datasets.DISTRICT_SEED)
    assert _plain_csv(data) is not None and _plain_csv(districts) is not None
    assert frame_sha256(data) == _pandas_sha(data) == (
        "cf0eb018abff5f3d08a94628b86ab1981b2aeea7c39bc7e57c0fc700625248b2")
    assert frame_sha256(districts) == _pandas_sha(districts) == (
        "c8f83f65daf9699b52e15ca98c76aab7dbe56d9dbbe3c7611dc94190364c12e4")
    assert datasets.simulated().source["sha256"] == frame_sha256(data)


def test_plain_csv_is_pandas_text_for_awkward_values() -> None:
    rng = np.random.default_rng(7)
    floats = np.concatenate([
        rng.normal(size=200) * 10.0 ** rng.integers(-320, 308, size=200),
        [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e16, 123456789012.5, 5e-324, 0.1 + 0.2],
    ])
    n = floats.size
    text = np.array(["plain", "a,b", 'say "hi"', "two\nlines", "", "  lead", "tab\there",
                     "ÅÄÖ", "x\r"], dtype=object)
    df = pd.DataFrame({
        "f": floats,
        "i": rng.integers(-(2**62), 2**62, size=n),
        "s": pd.array([None if k % 11 == 0 else text[k % text.size] for k in range(n)],
                      dtype=pd.StringDtype(na_value=np.nan)),
        "name, quoted \"x\"": floats[::-1].copy(),
    })
    assert _plain_csv(df) == df.to_csv(index=False, float_format="%.10g")
    one = df[["s"]]  # one column: an empty field is quoted by the csv writer
    assert _plain_csv(one) == one.to_csv(index=False, float_format="%.10g")
    empty = df.iloc[:0]
    assert _plain_csv(empty) == empty.to_csv(index=False, float_format="%.10g")


@pytest.mark.parametrize("df", [
    pd.DataFrame({"x": np.array([0.5, 1.25], dtype="float32")}),
    pd.DataFrame({"x": pd.array([1, None], dtype="Int64")}),
    pd.DataFrame({"x": ["a", None]}, dtype=object),
    pd.DataFrame({"x": pd.array(["a", None], dtype="string")}),
    pd.DataFrame({1.5: [1.0, 2.0]}),
    pd.DataFrame({"x": [True, False]}),
    pd.DataFrame(index=range(3)),
])
def test_other_frames_are_hashed_through_pandas(df: pd.DataFrame) -> None:
    assert _plain_csv(df) is None
    assert frame_sha256(df) == _pandas_sha(df)
