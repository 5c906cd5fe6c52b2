"""The report's table writer: CSV, Markdown and LaTeX, with the data stamp in the text files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evalmodel.report.tables import frame_to_latex, frame_to_markdown, write_table
from evalmodel.results import Summary


def test_stamp_opens_markdown_and_latex_not_csv(tmp_path: Path) -> None:
    df = pd.DataFrame({"method": ["2x2", "TWFE"], "estimate": [-0.1234567, np.nan]})
    plain = write_table(df, tmp_path / "plain" / "did_estimates")
    stamped = write_table(df, tmp_path / "stamped" / "did_estimates", stamp="simulated data")
    assert [p.name for p in stamped] == ["did_estimates.csv", "did_estimates.md",
                                         "did_estimates.tex"]
    csv, md, tex = (p.read_text(encoding="utf-8") for p in stamped)
    assert csv == plain[0].read_text(encoding="utf-8") == "method,estimate\n2x2,-0.1234567\nTWFE,\n"
    assert md == "> **simulated data**\n\n" + frame_to_markdown(df)
    assert md == "> **simulated data**\n\n" + plain[1].read_text(encoding="utf-8")
    assert "| 2x2 | -0.1235 |" in md
    assert tex == "% evalmodel: simulated data\n" + frame_to_latex(df, "did_estimates")


def test_summary_is_written_with_its_own_views(tmp_path: Path) -> None:
    s = Summary(title="Two-way FE", header=(("outcome", "share"),),
                table=pd.DataFrame({"term": ["treated"], "estimate": [0.5]}), notes=("a note",))
    _, md, tex = write_table(s, tmp_path / "twfe", stamp="simulated data")
    assert md.read_text(encoding="utf-8") == "> **simulated data**\n\n" + s.to_markdown()
    assert tex.read_text(encoding="utf-8") == "% evalmodel: simulated data\n" + s.to_latex()
