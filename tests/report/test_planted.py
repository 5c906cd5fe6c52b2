"""The planted effects the report shows (``report.sec_did.planted_rows`` and
``planted_effect``) are remembered per truth frame; each must equal the plain filter of the
whole truth and the mean of its period means, whichever was asked first, and a different
truth frame (another panel's) must get its own numbers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

import evalmodel as em
from evalmodel.report import sec_did


def _plain(truth: pd.DataFrame, case: str, outcome: str, periods: tuple[int, ...],
           units: tuple[str, ...]) -> tuple[pd.DataFrame, float]:
    sel = truth[(truth["case"] == case) & (truth["outcome"] == outcome)
                & truth["unit"].isin(units) & truth["period"].isin(periods)]
    return sel, (float(sel.groupby("period")["effect"].mean().mean()) if len(sel) else 0.0)


def test_planted_effects_equal_the_plain_filter(municipalities: em.Panel) -> None:
    design = em.cases.get("trelleborg").design(municipalities)
    truth = design.panel.truth
    assert truth is not None
    post = tuple(int(p) for p in design.post_periods)
    asks = [("N31807", post, None), ("N31807", post[:2], None), ("N31814", post, None),
            ("N31807", post, tuple(design.comparison[:3])),  # no planted rows: 0.0
            ("N31807", post, (*design.treated, *design.comparison[:2]))]
    effects = set()
    for _ in range(2):  # the second round is read from the memo
        for outcome, periods, units in asks:
            chosen = units or tuple(design.treated)
            rows, effect = _plain(truth, design.case.name, outcome, periods, chosen)
            got = sec_did.planted_rows(design, outcome, periods, units)
            assert got is not None and got.equals(rows)
            assert list(got.index) == list(rows.index)
            assert sec_did.planted_effect(design, outcome, periods, units) == effect
            effects.add(effect)
    assert 0.0 in effects and len(effects) >= 4  # the asks differ: not one number

    # another truth frame (another panel) gets its own effects, not the remembered ones
    panel = design.panel
    other = em.Panel(panel.data, unit=panel.unit, time=panel.time, cohort=panel.cohort,
                     truth=truth.assign(effect=truth["effect"] * 2))
    twin = dataclasses.replace(design, panel=other)
    first = sec_did.planted_effect(design, "N31807", post)
    second = sec_did.planted_effect(twin, "N31807", post)
    assert first is not None and second is not None
    assert np.isclose(second, 2 * first) and first != 0
