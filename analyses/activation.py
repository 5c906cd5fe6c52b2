"""The pooled "activation model" effect: the municipal cases with their own adoption years.

Trelleborg (1287, 2010), Borås (1490, 2012), Malmö (1280, 2015; the city-wide investment that
followed Lindängen, which is a district and not in the municipal series) and Linköping (0580,
2021) each adopted a labour-market "activation" model for social assistance. Staggered synthetic
control (:func:`evalmodel.multisynth`) estimates each municipality's effect by event time
against the never-treated municipalities (less the cases' neighbours, exposed to spill-over),
and the pooled effect of the four. Four treated units are fewer than five, so the inference is
placebo in space.

Run: ``python analyses/activation.py [PATH-TO-KOLADA-EXTRACT] [--outcome N31807]``; without a
path it uses the embedded simulated world (``em.datasets.simulated()``).
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Sequence

import pandas as pd

import evalmodel as em

#: The cases pooled, by registry name.
CASES = ("trelleborg", "boras", "malmo", "linkoping")


def activation_panel(panel: em.Panel, cases: Sequence[str] = CASES,
                     first: int | None = None) -> em.Panel:
    """``panel`` with the cases' municipalities as cohorts (their registry adoption years), the
    cases' exposed neighbours left out, from period ``first`` on."""
    cohorts: dict[str, int] = {}
    exclude: set[str] = set()
    for name in cases:
        case = em.cases.get(name)
        cohorts.update({u: case.adoption for u in case.treated})
        exclude.update(case.exclude)
    keep = [u for u in panel.units if u not in exclude - set(cohorts)]
    periods = [int(t) for t in panel.periods if first is None or t >= first]
    return panel.select(units=keep, periods=periods).with_cohorts(cohorts)


def activation_effects(panel: em.Panel, outcome: str = "N31807", *, n_draws: int = 199,
                       seed: int = 2024, first: int | None = 2000) -> em.MultisynthResult:
    """The pooled and per-municipality multisynth effects of the activation models."""
    design = activation_panel(panel, first=first)
    return em.multisynth(design, outcome, fixedeff=True, n_draws=n_draws, seed=seed)


def _show(result: em.MultisynthResult) -> str:
    t = result.table
    post = t[((t["event_time"].isna()) | (t["event_time"] >= 0)) & t["estimate"].notna()]
    lines = [str(result.summary().title), f"nu = {result.nu:.3f}; adoption: "
             + ", ".join(f"{u} {y}" for u, y in result.adoption.items()),
             f"inference: {result.inference}"]
    cols = ["unit", "event_time", "estimate", "std_error", "ci_lower", "ci_upper", "p_value"]
    with pd.option_context("display.width", 120, "display.max_rows", 200):
        lines.append(post[cols].round(3).to_string(index=False))
    lines += [f"note: {n}" for n in result.notes]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the per-unit and pooled effects."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", help="the real Kolada extract (CSV)")
    parser.add_argument("--outcome", default="N31807")
    parser.add_argument("--n-draws", type=int, default=199)
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", em.EvalModelWarning)
        panel = em.read_panel(args.path) if args.path else em.datasets.simulated()
        result = activation_effects(panel, args.outcome, n_draws=args.n_draws)
    print(_show(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
