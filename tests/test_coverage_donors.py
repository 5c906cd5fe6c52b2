"""The estimation window's donors and left-out units are read from the missing-cell counts in
pool order in one pass (issue 16): the same units, in the same order, with the same counts as
looking each unit up."""

from __future__ import annotations

import numpy as np

import evalmodel as em
from evalmodel.coverage import estimation_window


def test_donors_and_dropped_are_those_of_each_unit_looked_up(municipalities: em.Panel
                                                             ) -> None:
    design = em.cases.get("trelleborg").design(municipalities)
    rng = np.random.default_rng(4)
    pool = list(design.comparison)
    shuffled = [pool[i] for i in rng.permutation(len(pool))]  # not the panel's order
    holes = {(u, int(p)): float("nan")
             for u in rng.choice(pool, size=25, replace=False)
             for p in rng.choice(list(design.pre_periods)[-4:], size=int(rng.integers(1, 3)),
                                 replace=False)}
    panel = municipalities.with_values("N31814", holes)
    w = estimation_window(panel, "N31814", treated=list(design.treated), pool=shuffled,
                          adoption=design.adoption)
    wide = panel.wide("N31814")
    n_miss = wide.loc[shuffled, list(w.periods)].isna().sum(axis=1)
    want_donors = tuple(u for u in shuffled if n_miss.loc[u] == 0)
    want_dropped = tuple((u, int(n_miss.loc[u])) for u in shuffled if n_miss.loc[u])
    assert w.donors == want_donors and w.dropped == want_dropped
    assert 10 <= len(w.dropped) <= 25 and len(w.donors) == len(pool) - len(w.dropped)
    assert all(isinstance(n, int) and n > 0 for _, n in w.dropped)
