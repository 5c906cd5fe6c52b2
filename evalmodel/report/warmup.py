"""Compile the package's numba kernels into their on-disk cache before the first report.

The compiled kernels (:mod:`evalmodel.core.jit`) are cached next to their modules the first
time they run; until then every process that reaches one compiles it, which costs a fresh
installation about ten seconds of the first ``evalmodel run`` (both report workers compile the
same kernels at once). :func:`warm_kernels` runs each estimator that uses a kernel on a small
slice of the simulated world, with the argument types the report passes, so that the report
finds every kernel compiled. ``make`` calls it once after installing (``evalmodel compile``).
"""

from __future__ import annotations

import warnings

from evalmodel.core.jit import use_numba

__all__ = ["warm_kernels"]


def warm_kernels() -> list[str]:
    """Run every compiled kernel once (on a slice of the simulated world) and return the names
    of the estimators run; an empty list when numba is not in use (nothing to compile)."""
    if not use_numba():
        return []
    from evalmodel import cases, datasets
    from evalmodel.estimators.sdid import sdid
    from evalmodel.estimators.staggered import att_gt
    from evalmodel.estimators.synth import synth
    from evalmodel.inference.placebo_starts import placebo_starts

    design = cases.get("trelleborg").design(datasets.simulated())
    treated = design.treated[0]
    small = design.panel.select(units=[treated, *design.comparison[:24]])
    kpi = "N31814"
    ran = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Frank-Wolfe (fw_kernel): the weights and the placebo standard error's refits
        sdid(small, kpi, treated=treated, start=design.adoption, n_draws=4, seed=0)
        ran.append("sdid")
        # the exact simplex solver (simplex_kernel): plain synthetic control with placebos,
        # as alone and as the placebo study runs it (placebo_weights, shared starts)
        synth(small, kpi, treated=treated, start=design.adoption)
        with placebo_starts():
            synth(small, kpi, treated=treated, start=design.adoption)
        ran.append("synth")
        # the leave-one-out solves of the augmented synthetic control's placebo test
        synth(small, kpi, treated=treated, start=design.adoption, augment="ridge")
        ran.append("synth(augment='ridge')")
        # Rademacher multiplier draws (multiplier_kernel): att_gt's bootstrap, many treated
        many = design.panel.select(units=list(design.comparison[:40])).with_cohorts(
            {u: design.adoption for u in design.comparison[:8]})
        att_gt(many, kpi, inference="bootstrap", n_draws=9, seed=0).aggregate("simple")
        ran.append("att_gt(inference='bootstrap')")
    return ran
