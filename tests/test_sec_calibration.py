"""The report's size-and-power section (issue 13, part 2): each method's calibration on the
case's own data, read from placebo studies."""

from __future__ import annotations

import numpy as np
import pytest

import evalmodel as em
from evalmodel.cases import Design
from evalmodel.report.sec_calibration import build_calibration_section, calibration_rows

Y = "N31807"
SEED = 7


@pytest.fixture(scope="module")
def design() -> Design:
    return em.cases.get("trelleborg").design(em.datasets.simulated())


def test_rows_are_the_placebo_studies(design: Design) -> None:
    methods = {"2x2": em.calibrate.did2x2(pre=design.pre_periods[-3:],
                                          post=design.post_periods[:4]),
               "Callaway-Sant'Anna, simple ATT": em.calibrate.att_gt("simple")}
    table, notes = calibration_rows(design, Y, {"2x2": -1.2}, seed=SEED, n_units=12,
                                    methods=methods, n_jobs=1)
    assert notes == []
    assert table["method"].tolist() == list(methods)
    for row, (name, adapter) in zip(table.itertuples(), methods.items(), strict=True):
        s = em.placebo_study(design.panel, Y, adapter, pool=design.comparison,
                             adoption=design.adoption, n_units=12, seed=SEED)
        assert row.size == s.size and row.coverage == s.coverage and row.n_placebo == 12, name
        assert row.detectable_effect == s.detectable_effect(0.8, direction=-1)
        if name == "2x2":
            assert row.power_at_estimate == s.power_at(-1.2)
        else:
            assert np.isnan(row.power_at_estimate)  # no estimate given for it


def test_section_flags_a_miscalibrated_method(design: Design,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A method that always rejects is flagged as far from its nominal size."""

    def always(panel: em.Panel, outcome: str, treated: str, adoption: int
               ) -> tuple[float, float, float, float]:
        return 1.0, 0.5, 1.5, 0.0

    from evalmodel.report import sec_calibration as sc

    monkeypatch.setattr(sc, "_methods", lambda d: {"always rejects": always})
    sec = build_calibration_section(design, Y, {"always rejects": 1.0}, seed=SEED, n_units=10)
    table = dict(sec.tables)["calibration"]
    assert table.loc[0, "size"] == 1.0 and table.loc[0, "power_at_estimate"] == 1.0
    assert any("always rejects: size 1.00" in n for n in sec.notes)
    assert sec.key == f"calibration_{Y}"
