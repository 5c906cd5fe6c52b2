"""Where the time of `evalmodel run` goes: CPU seconds per case and per report section.

Issue 16 asks for the simulated-world report in under 15 s on 2 cores. The cases run in
parallel (one per worker), so the wall time is about half the CPU time of all cases plus the
start-up of the processes; this file prints that CPU time split by case, by section builder
(calibration, synthetic control, ...) and by the writing of tables and figures, each case built
in this process as a report worker builds it (BLAS on one thread).

Run: `python benchmarks/bench_report.py [CASE ...]` (default every case). Not part of
`make bench`: one pass takes as long as `evalmodel run --jobs 1`.
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from threadpoolctl import threadpool_limits

import evalmodel as em
from evalmodel.report import standard
from evalmodel.report.case import write_case

#: The builders of ``evalmodel.report.standard`` timed one by one (the rest is "other").
TIMED = ("build_calibration_section", "build_synth_section", "build_adoption_section",
         "build_staggered_section", "build_inference_section", "build_did_section",
         "build_triangulation", "build_data_section", "displacement_findings", "build_verdict")


def _timer(fn: Callable[..., Any], name: str, spent: dict[str, float]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.process_time() - t0

    return wrapper


def case_times(name: str, panel: em.Panel, out: Path) -> dict[str, float]:
    """CPU seconds of one case: each timed builder, the other work of its sections, and the
    writing of its files."""
    spent: dict[str, float] = {}
    originals = {n: getattr(standard, n) for n in TIMED if hasattr(standard, n)}
    builders = standard.SECTION_BUILDERS
    try:
        for n, fn in originals.items():
            setattr(standard, n, _timer(fn, n, spent))
        standard.SECTION_BUILDERS = tuple(_timer(b, b.__name__, spent) for b in builders)
        case = em.cases.get(name)
        with threadpool_limits(limits=1), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.process_time()
            sections = standard.standard_sections(case.design(panel))
            t1 = time.process_time()
            write_case(case, sections, out)
            t2 = time.process_time()
    finally:
        for n, fn in originals.items():
            setattr(standard, n, fn)
        standard.SECTION_BUILDERS = builders
    spent["other section work"] = (t1 - t0) - sum(spent.values())
    spent["writing tables and figures"] = t2 - t1
    return spent


def main(names: list[str] | None = None) -> None:
    """Print the CPU seconds of each case's sections and writing, and the totals."""
    panels = {"municipality": em.datasets.simulated(),
              "district": em.datasets.simulated_districts()}
    totals: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names or em.cases.names():
            times = case_times(name, panels[em.cases.get(name).level], Path(tmp))
            print(f"{name}: {sum(times.values()):.2f} s CPU")
            for part, s in sorted(times.items(), key=lambda kv: -kv[1]):
                print(f"    {part:<30} {s:7.2f}")
                totals[part] = totals.get(part, 0.0) + s
    print(f"these cases: {sum(totals.values()):.2f} s CPU (on 2 workers the wall time is about "
          "half of it, plus process start-up)")
    for part, s in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"    {part:<30} {s:7.2f}")


if __name__ == "__main__":
    main(sys.argv[1:] or None)
