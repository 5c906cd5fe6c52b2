"""``plotting.synth._count_histogram``: the bars of ``sns.histplot(values, bins=20, ...)`` without
seaborn's data handling, pixel for pixel once the caller has labelled the axes (the synthetic
control's RMSPE-ratio histogram)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import seaborn as sns
from matplotlib.figure import Figure

from evalmodel.plotting.synth import _count_histogram


def _pixels(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="raw", dpi=110)
    plt.close(fig)
    return buf.getvalue()


_RNG = np.random.default_rng(16)
_DATA = {
    "ratios": _RNG.lognormal(0.3, 0.8, size=40),
    "many": _RNG.normal(5.0, 2.0, size=300),
    "few": np.array([0.7, 1.9, 2.2]),
    "one": np.array([1.0]),
    "constant": np.full(6, 2.5),
    "negative and ties": np.round(_RNG.normal(-3.0, 1.0, size=25), 1),
    "none": np.zeros(0),
}


@pytest.mark.parametrize("name", list(_DATA))
@pytest.mark.parametrize("labelled", [False, True])
def test_bars_are_seaborns(name: str, labelled: bool) -> None:
    values = _DATA[name]
    figs = []
    for draw in ("seaborn", "ours"):
        fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
        if labelled:
            ax.set_xlabel("ratio")
        if draw == "seaborn":
            sns.histplot(values, bins=20, color="#b3b3b3", ax=ax)
        else:
            _count_histogram(ax, values, bins=20, color="#b3b3b3")
        ax.set_ylabel("units")  # the caller's labels (seaborn's "Count" is replaced)
        ax.set_xlabel("post/pre RMSPE ratio")
        props = [(p.get_x(), p.get_width(), p.get_height(), p.get_linewidth(),
                  p.get_facecolor(), p.get_edgecolor(), tuple(p.sticky_edges.y))
                 for p in ax.patches]
        figs.append((props, ax.get_xlabel(), ax.get_ylabel(), ax.get_xlim(), ax.get_ylim(),
                     _pixels(fig)))
    (theirs, *their_rest), (ours, *our_rest) = figs
    assert len(ours) == (20 if len(values) else 0) and ours == theirs
    assert our_rest == their_rest
    # the bars differ between data sets and have counts, so the comparison can fail
    assert sum(p[2] for p in ours) == len(values)
