"""A case's calibration studies as worker tasks of their own, joined to the case afterwards.

``evalmodel run`` spreads its work over processes. With one task per case, a worker cannot
share the work of a case: one case on two workers leaves one idle, and few cases of unequal
cost end unevenly. The calibration section is
each case's largest separable piece: its placebo studies (:func:`~evalmodel.report.
sec_calibration.run_studies`) read only the case's primary outcome, its design (pool, adoption,
periods, the panel's values), the report's seed and level and the number of placebo units,
never the case's other estimates; the estimates enter only the rows read from the studies
(power at each method's estimate, the direction of the detectable effect). So the runner
can give each case's studies to tasks of their own (:func:`calibration_task`: the synthetic
DiD, the costliest method, in one, the other methods in another) in the same joblib call as
the case tasks, costliest first, and join them in the main process
(:func:`join_calibration`).

Design chosen: the case task builds every section but the calibration studies. Where
:func:`~evalmodel.report.standard.standard_sections` would build the section, it asks
:func:`defer` instead, which, inside :func:`deferring` (set by the runner's case task), leaves
an empty section of the same key in its place and records a :class:`Pending` request: the
outcome, the adoption year, the methods' estimates, a digest of what the studies read
(:func:`study_key`) and where in the case's warnings the studies' warnings belong. The main
process then builds the section from the studies' tasks and the request (the rows, the notes,
three small table files: about 0.05 s of CPU for the five cases of the simulated world), puts
it in the placeholder's place and writes it. The alternatives weighed: letting whichever task
finishes second join the case needs a rendezvous between workers that joblib's backends (a
Dask cluster among them) do not offer; one task per method would add five more tasks a case
(each re-plans the case's outcomes, about 0.02 s) for studies that take about a second
together; one task per case would leave studies of about 4 s at the end of the queue.

What it buys, and when the runner uses it: a case's work no longer has to end in one worker,
so one or two cases run on two workers at once (``evalmodel run --cases trelleborg``: about
12.1 to 8.3 s wall). It costs 0.2 to 0.5 s of CPU a case (each task re-plans the case and
rebuilds the design's panel, which the case task had built), so the runner splits only when
the cases are fewer than two a worker; with more, whole cases handed out costliest first
already end close together (the simulated report's five cases on two workers: within 0.3 s,
where the split made ``evalmodel run`` about 0.3 s slower).

The join is exact: a request is deferred only when its digest equals the digest of the
studies the runner scheduled for that case (computed in the case task from the registry's
design of the case, as the study task computes it), so a study script that calls
``standard_sections`` on another design or outcome builds its section in place, as before.
The section, its table files and the case's notes are the same bytes as when the case builds
the section itself (the runner's one-process run, ``n_jobs=1``, and a study script run alone).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from evalmodel import cases as registry
from evalmodel.cases import Design
from evalmodel.panel import Panel
from evalmodel.report.case_warnings import note_lines, recording
from evalmodel.report.plan import plan_outcomes
from evalmodel.report.sec_calibration import (
    Study,
    method_names,
    run_studies,
    section_from_studies,
)
from evalmodel.report.section import Section
from evalmodel.report.settings import CONF_LEVEL, SEED

__all__ = ["CALIBRATION_PARTS", "Pending", "calibration_task", "defer", "deferring",
           "join_calibration", "primary_design", "study_key"]

#: The parts of a case's calibration studies, each a task: the synthetic DiD (its studies
#: cost more than the six other methods' together) and the other methods.
CALIBRATION_PARTS: tuple[str, ...] = ("synthetic DiD", "other methods")


def _part_methods(design: Design, part: str) -> list[tuple[int, str]]:
    """The methods of ``part`` with their places in the section."""
    return [(i, m) for i, m in enumerate(method_names(design))
            if (m == "synthetic DiD") == (part == "synthetic DiD")]


def study_key(design: Design, outcome: str, *, n_units: int, seed: int = SEED,
              conf_level: float = CONF_LEVEL) -> str:
    """A digest of everything a case's calibration studies read: the outcome, the design's
    units, adoption and periods, the panel's roles and values, the seed, the level and the
    number of placebo units. Equal digests mean equal studies."""
    panel = design.panel
    h = hashlib.sha256()
    parts: list[Any] = [outcome, design.treated, design.comparison, design.adoption,
                        design.pre_periods, design.post_periods, n_units, seed, conf_level,
                        panel.unit, panel.time, panel.cohort, panel.weight, panel.group,
                        tuple(panel.data.columns)]
    h.update(repr(parts).encode())
    h.update(pd.util.hash_pandas_object(panel.data, index=False).to_numpy().tobytes())
    return h.hexdigest()


def primary_design(design: Design) -> tuple[Design, str] | None:
    """The design and outcome of the calibration section of ``design``'s case as
    :func:`~evalmodel.report.standard.standard_sections` chooses them (the first testable
    primary outcome, restricted to its window), or ``None`` when none is testable."""
    plans = plan_outcomes(design, list(design.case.outcomes))
    primary = next((p for p in plans if p.design is not None), None)
    if primary is None or primary.design is None:
        return None
    return primary.design, str(primary.kpi)


def _registry_primary(name: str, panel: Panel) -> tuple[Design, str] | None:
    """:func:`primary_design` of the registry's design of case ``name`` on ``panel``, its
    warnings (already those of the case task) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return primary_design(registry.get(name).design(panel))


@dataclass
class Pending:
    """A calibration section left for the main process to build from the studies' tasks.

    Attributes
    ----------
    key : str
        The section's key (its placeholder in the case's sections has the same).
    outcome : str
    adoption : int
        The year of the fake adoptions (the section's lead names it).
    estimates : dict of str to float
        Each method's estimate (power at it, direction of the detectable effect).
    digest : str
        :func:`study_key` of the studies the section needs.
    seed, conf_level : int, float
    at : int
        How many of the case's warnings came before the section (its studies' warnings go
        there, so that the case's notes keep their order).
    """

    key: str
    outcome: str
    adoption: int
    estimates: dict[str, float]
    digest: str
    seed: int
    conf_level: float
    at: int


@dataclass
class _Deferral:
    """What a case task defers: the digest of the studies scheduled apart, and the case's
    recorded warnings (to mark where the section's belong)."""

    digest: str | None
    caught: list[warnings.WarningMessage]
    pending: list[Pending] = field(default_factory=list)


_DEFERRAL: ContextVar[_Deferral | None] = ContextVar("calibration_deferral", default=None)


@contextmanager
def deferring(name: str, panel: Panel, n_units: int,
              caught: list[warnings.WarningMessage]) -> Iterator[list[Pending]]:
    """Within the block, :func:`defer` leaves case ``name``'s calibration section on
    ``panel`` to the studies the runner runs apart (``n_units`` placebo units per method);
    the block yields the list of requests it made (at most one). ``caught`` is the case's
    list of recorded warnings."""
    try:
        primary = _registry_primary(name, panel)
    except Exception:  # the case's own run meets the same error and reports it
        primary = None
    digest = study_key(*primary, n_units=n_units) if primary is not None else None
    state = _Deferral(digest, caught)
    token = _DEFERRAL.set(state)
    try:
        yield state.pending
    finally:
        _DEFERRAL.reset(token)


def defer(design: Design, outcome: str, estimates: Mapping[str, float], *, n_units: int,
          seed: int = SEED, conf_level: float = CONF_LEVEL) -> Section | None:
    """An empty placeholder of the calibration section of ``outcome``, when a
    :func:`deferring` block has its studies run apart (same digest, and none deferred yet);
    otherwise ``None``, and the caller builds the section itself."""
    state = _DEFERRAL.get()
    if state is None or state.digest is None or state.pending:
        return None
    digest = study_key(design, outcome, n_units=n_units, seed=seed, conf_level=conf_level)
    if digest != state.digest:
        return None
    key = f"calibration_{outcome}"
    state.pending.append(Pending(key, outcome, int(design.adoption), dict(estimates), digest,
                                 seed, conf_level, len(state.caught)))
    return Section(key=key, title=f"Size and power on these data: {outcome}")


#: What a calibration task returns: the digest of its studies (``None`` when the case has no
#: testable outcome) and each study with its place in the section and the warnings it gave;
#: or the error that stopped it.
StudiesPart = tuple[str | None, list[tuple[int, Study, list[str]]]] | str


def calibration_task(name: str, panel: Panel, part: str, n_units: int) -> StudiesPart:
    """The placebo studies of ``part`` (:data:`CALIBRATION_PARTS`) of case ``name``'s
    calibration section on ``panel``, with the report's seed and level, or the error that
    stopped them as ``"Type: message"``. Run in a worker with BLAS on one thread, as the case
    task is."""
    try:
        primary = _registry_primary(name, panel)
        if primary is None:
            return None, []
        design, outcome = primary
        studies = []
        for i, method in _part_methods(design, part):
            with recording() as caught:
                (study,) = run_studies(design, outcome, n_units=n_units, only=[method])
            studies.append((i, study, note_lines(caught)))
    except Exception as exc:  # the case is reported as failed with it, as when it builds them
        return f"{type(exc).__name__}: {exc}"
    return study_key(design, outcome, n_units=n_units), studies


def join_calibration(pending: Pending, parts: Sequence[StudiesPart]
                     ) -> tuple[Section, list[str]] | str:
    """The calibration section of ``pending`` from its studies' tasks (``parts``, in any
    order) and the warnings of its studies (in the section's order of methods) and of its
    rows; or the first task's error."""
    studies: list[tuple[int, Study, list[str]]] = []
    for part in parts:
        if isinstance(part, str):
            return part
        digest, found = part
        if digest != pending.digest:  # pragma: no cover - deferred only on an equal digest
            raise RuntimeError(f"calibration studies of another design joined to "
                               f"{pending.key}")
        studies.extend(found)
    studies.sort(key=lambda s: s[0])  # the section's order, as when the case runs them
    notes = [n for _, _, said in studies for n in said]
    with recording() as caught:
        section = section_from_studies(pending.outcome, pending.adoption,
                                       [s for _, s, _ in studies], pending.estimates,
                                       seed=pending.seed, conf_level=pending.conf_level)
    notes.extend(note_lines(caught))
    return section, notes


def is_standard_script(text: str) -> bool:
    """Whether a study script's source names ``standard_sections`` (whose calibration
    section the runner can run apart); a guess that decides only where the studies run."""
    return "standard_sections" in text
