"""The classic synthetic control studies reproduced: the Basque Country and West Germany.

Published synthetic units (facts taken from the papers):

- Abadie and Gardeazabal (2003, *American Economic Review* 93(1), Table 3): the synthetic
  Basque Country is Cataluna 0.8508 and Madrid 0.1492; the predictors are the paper's (schooling
  shares and investment over 1964-1969, GDP per capita over 1960-1969, sector shares in the odd
  years 1961-1969, population density in 1969) and V is chosen on GDP per capita over 1960-1969.
- Abadie, Diamond and Hainmueller (2015, *American Journal of Political Science* 59(2),
  Table 2): the synthetic West Germany is Austria 0.42, USA 0.22, Japan 0.16, Switzerland 0.11
  and the Netherlands 0.09, every other country 0. V is cross-validated: chosen with the
  predictors of the training period 1971-1980 on the GDP fit over the validation period
  1981-1990, then applied to the predictors of 1981-1990. Their code measures the predictors and
  the validation fit through 1990 (reunification took effect in October 1990), so here 1990 is
  the last pre-period (``start=1991``). Missing predictor cells (West Germany's industry share in
  1990) are left out of the means, as R ``Synth`` does (``predictor_na="skip"``).

Each study is also run through pysyncon 1.7 (its ``Synth`` with the same predictors) in the same
test. Basque Country: pysyncon's better start ends with all weight on Cataluna; our fit-period
loss and pre-period RMSPE must be lower and our weights nearer the published ones. West
Germany: our validation loss (the objective of the V search) must be no worse than pysyncon's,
and at pysyncon's own V our exact inner solution must fit 1960-1989 no worse than its SLSQP
one; both weight vectors are within 0.02 of the published. The validation fit does not identify
V (V's 0.05 apart reach the same loss to 1e-8), so among the V's within ``TIE_RTOL`` of the best
validation loss ``synth`` keeps the one whose weights fit the whole pre-period best; its
1960-1989 RMSPE must be no worse than pysyncon's (this run: 124.6 ours, 127.5 pysyncon's; 128.4
for our V without the tie-break).

The tests read the data from ``$EVALMODEL_REFERENCE_DATA`` (``.ci/run`` sets it) and are
skipped without it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pysyncon import Dataprep, Synth

import evalmodel as em
from evalmodel.core.synth_solver import TIE_RTOL
from evalmodel.errors import ConvexHullWarning, EstimationError, MissingValueWarning
from evalmodel.estimators.synth import synth

pytestmark = pytest.mark.reference

BASQUE = "Basque Country (Pais Vasco)"
#: Abadie and Gardeazabal (2003), the synthetic Basque Country.
BASQUE_PUBLISHED = {"Cataluna": 0.8508, "Madrid (Comunidad De)": 0.1492}
#: Abadie, Diamond and Hainmueller (2015), Table 2.
GERMANY_PUBLISHED = {"Austria": 0.42, "USA": 0.22, "Japan": 0.16, "Switzerland": 0.11,
                     "Netherlands": 0.09}
#: The acceptance tolerance of issue 14 for each unit weight.
TOL = 0.02

SCHOOL = ["school.illit", "school.prim", "school.med", "school.high", "school.post.high",
          "invest"]
SECTORS = ["sec.agriculture", "sec.energy", "sec.industry", "sec.construction",
           "sec.services.venta", "sec.services.nonventa"]
ODD = list(range(1961, 1970, 2))
BASQUE_PREDICTORS = [
    *[(v, list(range(1964, 1970)), "mean") for v in SCHOOL],
    ("gdpcap", list(range(1960, 1970)), "mean"),
    *[(v, ODD, "mean") for v in SECTORS],
    ("popdens", [1969], "mean"),
]
R70, R80 = list(range(1971, 1981)), list(range(1981, 1991))
GERMANY_TRAIN = [("gdp", R70, "mean"), ("trade", R70, "mean"), ("infrate", R70, "mean"),
                 ("industry", R70, "mean"), ("schooling", [1970, 1975], "mean"),
                 ("invest70", [1980], "mean")]
GERMANY_MAIN = [("gdp", R80, "mean"), ("trade", R80, "mean"), ("infrate", R80, "mean"),
                ("industry", R80, "mean"), ("schooling", [1980, 1985], "mean"),
                ("invest80", [1980], "mean")]


def _published(weights: pd.Series, published: dict[str, float]) -> pd.Series:
    """Published weights on the donors of ``weights`` (0 where the paper lists none)."""
    return pd.Series(published, dtype=float).reindex(weights.index, fill_value=0.0)


def _panel(frame: pd.DataFrame, unit: str) -> em.Panel:
    values = [c for c in frame.columns if c not in (unit, "year")]
    # the reference files hold predictors measured in some years only (NaN elsewhere)
    with pytest.warns(MissingValueWarning, match="missing values kept as NaN"):
        return em.Panel(frame, unit=unit, time="year", outcomes=values)


@pytest.fixture(scope="module")
def basque(reference_data: Path) -> pd.DataFrame:
    df = pd.read_csv(reference_data / "basque.csv")
    # Spain as a whole is not a donor of its own region
    return df[df["regionname"] != "Spain (Espana)"].astype({"year": int})


@pytest.fixture(scope="module")
def germany(reference_data: Path) -> pd.DataFrame:
    return pd.read_csv(reference_data / "germany.csv")


def _basque_peer(df: pd.DataFrame) -> tuple[pd.Series, float]:
    """pysyncon's synthetic Basque Country: the better of its two starts (weights, loss)."""
    donors = sorted(set(df["regionname"]) - {BASQUE})
    dp = Dataprep(foo=df, predictors=SCHOOL, predictors_op="mean",
                  time_predictors_prior=range(1964, 1970),
                  special_predictors=[p for p in BASQUE_PREDICTORS if p[0] not in SCHOOL],
                  dependent="gdpcap", unit_variable="regionname", time_variable="year",
                  treatment_identifier=BASQUE, controls_identifier=donors,
                  time_optimize_ssr=range(1960, 1970))
    best: tuple[pd.Series, float] | None = None
    for start in ("equal", "ols"):
        peer = Synth()
        peer.fit(dataprep=dp, optim_initial=start)
        if best is None or peer.loss_V < best[1]:
            best = (pd.Series(peer.W, index=peer.W_names), float(peer.loss_V))
    assert best is not None
    return best


def test_basque_country(basque: pd.DataFrame) -> None:
    panel = _panel(basque.drop(columns="regionno"), "regionname")
    with pytest.warns(ConvexHullWarning, match=r"'sec.industry \(1961-1969\)' is outside"):
        r = synth(panel, "gdpcap", treated=BASQUE, start=1970, predictors=BASQUE_PREDICTORS,
                  fit_periods=range(1960, 1970), inference="none")
    published = _published(r.weights, BASQUE_PUBLISHED)
    assert (r.weights - published).abs().max() < TOL
    # R Synth's search: the equal start with BFGS reaches the published unit
    search = r.details["v_search"]
    assert search.loc[search["loss_v"].idxmin(), ["start", "optimizer"]].tolist() == [
        "equal", "BFGS"]
    # peer in the same run, same data and predictors
    w_peer, loss_peer = _basque_peer(basque)
    assert r.details["loss_v"] < loss_peer
    gaps_peer = panel.wide("gdpcap").loc[BASQUE] - w_peer.reindex(r.weights.index) @ (
        panel.wide("gdpcap").loc[r.weights.index])
    rmspe_peer = float(np.sqrt((gaps_peer.loc[:1969] ** 2).mean()))
    assert r.pre_rmspe <= rmspe_peer
    diff_ours = (r.weights - published).abs().max()
    diff_peer = (w_peer.reindex(r.weights.index) - published).abs().max()
    assert diff_ours < diff_peer
    # numbers of this run (issue 14's closing note): ours 0.8567/0.1433, loss 0.008889,
    # pre-RMSPE 0.0918; pysyncon's best start 'ols': Cataluna 1.0, loss 0.02491, RMSPE 0.1579
    assert r.details["loss_v"] == pytest.approx(0.008889, rel=1e-3)


def test_basque_global_search_reaches_the_published_loss(basque: pd.DataFrame) -> None:
    """The loss of the published weights on these data is 0.0088645; the global start finds
    them (and keeps R Synth's two starts, so it is never worse than ``"both"``)."""
    panel = _panel(basque.drop(columns="regionno"), "regionname")
    with pytest.warns(ConvexHullWarning):
        r = synth(panel, "gdpcap", treated=BASQUE, start=1970, predictors=BASQUE_PREDICTORS,
                  fit_periods=range(1960, 1970), v_start="global", inference="none")
    published = _published(r.weights, BASQUE_PUBLISHED)
    z = panel.wide("gdpcap").loc[:, 1960:1969]
    loss_published = float(((z.loc[BASQUE] - published @ z.loc[published.index]) ** 2).mean())
    assert loss_published == pytest.approx(0.0088645, rel=1e-4)
    assert r.details["loss_v"] == pytest.approx(loss_published, rel=1e-6)
    assert (r.weights - published).abs().max() < 1e-3
    assert list(r.details["v_search"]["start"]) == ["global"] * 2 + ["equal"] * 2 + [
        "regression"] * 2


def _germany_peer(df: pd.DataFrame) -> tuple[pd.Series, np.ndarray, float, float]:
    """pysyncon's two-step (cross-validated) synthetic West Germany: weights, V, the training
    loss (validation fit 1981-1990) and the MSPE over 1960-1989."""
    donors = [c for c in df["country"].unique() if c != "West Germany"]

    def prep(spec: list[tuple[str, list[int], str]], fit: range) -> Dataprep:
        return Dataprep(foo=df, predictors=[], predictors_op="mean",
                        time_predictors_prior=spec[0][1], special_predictors=spec,
                        dependent="gdp", unit_variable="country", time_variable="year",
                        treatment_identifier="West Germany", controls_identifier=donors,
                        time_optimize_ssr=fit)

    train = Synth()
    train.fit(dataprep=prep(GERMANY_TRAIN, range(1981, 1991)))
    main = Synth()
    main.fit(dataprep=prep(GERMANY_MAIN, range(1960, 1990)), custom_V=train.V)
    assert train.V is not None and train.loss_V is not None and main.loss_V is not None
    return (pd.Series(main.W, index=donors), np.asarray(train.V), float(train.loss_V),
            float(main.loss_V))


def test_west_germany_cross_validated(germany: pd.DataFrame) -> None:
    panel = _panel(germany.drop(columns="code"), "country")
    kw = {"treated": "West Germany", "start": 1991, "inference": "none"}
    with pytest.raises(EstimationError, match=r"predictor 'industry' is missing for unit "
                                              r"'West Germany' in period 1990"):
        synth(panel, "gdp", predictors=GERMANY_MAIN, **kw)  # type: ignore[arg-type]
    with pytest.warns(MissingValueWarning, match=r"industry \(1981-1990\): 1 missing cell"):
        r = synth(panel, "gdp", predictors=GERMANY_MAIN, training_predictors=GERMANY_TRAIN,
                  fit_periods=R80, predictor_na="skip", **kw)  # type: ignore[arg-type]
    assert any("na.rm = TRUE" in n for n in r.notes)
    published = _published(r.weights, GERMANY_PUBLISHED)
    assert (r.weights - published).abs().max() < TOL
    # the same cross-validation in ADH's two steps: V from the training fit, then custom_v
    # (in the training window West Germany's inflation rate is below every donor's)
    with pytest.warns(ConvexHullWarning, match=r"'infrate \(1971-1980\)' is outside"):
        train = synth(panel, "gdp", predictors=GERMANY_TRAIN, fit_periods=R80,
                      predictor_na="skip", **kw)  # type: ignore[arg-type]
    with pytest.warns(MissingValueWarning):
        two = synth(panel, "gdp", predictors=GERMANY_MAIN, custom_v=list(train.v),
                    fit_periods=R80, predictor_na="skip", **kw)  # type: ignore[arg-type]
    # the validation fit does not identify V: among the V's within TIE_RTOL of the two steps'
    # validation loss, the built-in route keeps the one whose weights fit 1960-1990 best
    with pytest.warns(ConvexHullWarning):
        at_r = synth(panel, "gdp", predictors=GERMANY_TRAIN, custom_v=list(r.v),
                     fit_periods=R80, predictor_na="skip", **kw)  # type: ignore[arg-type]
    assert at_r.details["loss_v"] <= train.details["loss_v"] * (1 + TIE_RTOL + 1e-12)
    assert r.pre_rmspe < two.pre_rmspe
    assert not np.allclose(r.v, train.v, atol=1e-3)  # the tie-break moved V
    # peer in the same run, same data and predictors
    w_peer, v_peer, train_loss_peer, mspe_peer = _germany_peer(germany)
    assert (w_peer.reindex(r.weights.index) - published).abs().max() < TOL
    # the search's objective, the validation fit, is no worse than pysyncon's
    assert train.details["loss_v"] <= train_loss_peer * (1 + 1e-6)
    # at pysyncon's V our exact inner solution fits 1960-1989 no worse than its SLSQP one
    with pytest.warns(MissingValueWarning):
        at_peer = synth(panel, "gdp", predictors=GERMANY_MAIN, custom_v=list(v_peer),
                        fit_periods=R80, predictor_na="skip", **kw)  # type: ignore[arg-type]
    assert float((at_peer.gaps.loc[1960:1989] ** 2).mean()) <= mspe_peer
    # issue 14's acceptance: the pre-period RMSPE no worse than pysyncon's on the same
    # predictors (this run: ours 124.59 over 1960-1989 after the tie-break, 128.38 without it;
    # pysyncon's 127.54)
    rmspe_ours = float(np.sqrt((r.gaps.loc[1960:1989] ** 2).mean()))
    assert rmspe_ours <= np.sqrt(mspe_peer)


def test_predictor_na_all_missing_is_named(germany: pd.DataFrame) -> None:
    panel = _panel(germany.drop(columns="code"), "country")
    with pytest.raises(EstimationError,
                       match=r"predictor 'invest80 \(1970\)' has no value at all for unit "):
        synth(panel, "gdp", treated="West Germany", start=1991, inference="none",
              predictors=[("invest80", [1970], "mean"), ("gdp", R80, "mean")],
              predictor_na="skip")
    with pytest.raises(EstimationError, match=r"predictor_na='drop' is not one of"):
        synth(panel, "gdp", treated="West Germany", start=1991, predictors=GERMANY_MAIN,
              predictor_na="drop")  # type: ignore[arg-type]
