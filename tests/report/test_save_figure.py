"""The report's figure writer lays a figure out once and saves the pixels savefig would."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from evalmodel.report.tables import FIGURE_DPI, save_figure


def _figure(layout: str | None) -> plt.Figure:
    fig, axes = plt.subplots(1, 2, figsize=(7, 3), layout=layout)
    x = np.arange(2000, 2016)
    axes[0].plot(x, np.sin(x), label="a rather long legend entry")
    axes[0].legend()
    axes[1].set_yticks([0, 1, 2], ["short", "a much longer tick label", "mid"])
    axes[1].set_title("title")
    fig.suptitle("suptitle")
    return fig


def test_same_bytes_as_savefig_with_its_layout(tmp_path: Path) -> None:
    for layout in ("constrained", "compressed", "tight", None):
        plain = tmp_path / f"plain_{layout}.png"
        _figure(layout).savefig(plain, dpi=FIGURE_DPI, metadata={"Software": None})
        ours = save_figure(_figure(layout), tmp_path / f"ours_{layout}.png")
        assert ours.read_bytes() == plain.read_bytes(), layout
    # the layout ran: a constrained figure differs from the same figure without one
    assert (tmp_path / "ours_constrained.png").read_bytes() != (
        tmp_path / "ours_None.png").read_bytes()
    plt.close("all")
