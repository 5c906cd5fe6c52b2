"""Loops spread through joblib give the same numbers whatever the workers (issue 16, part 4).

A placebo study (with random draws inside every task), the placebos in space of a synthetic
control and the cases of a report are run in this process, over two loky processes and on a
dask.distributed ``LocalCluster`` chosen with ``joblib.parallel_config``; the results must be
equal, not close.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import matplotlib.style
import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config
from joblib.parallel import get_active_backend

import evalmodel as em
from evalmodel.core.parallel import (
    backend_chosen,
    fork_refused,
    forked_workers,
    run_tasks,
    task_rng,
)
from evalmodel.core.synth_solver import SynthProblem
from evalmodel.errors import EstimationError, EvalModelError
from evalmodel.inference.placebo import placebo_in_space
from evalmodel.report.runner import run_report


@contextmanager
def _dask() -> Iterator[None]:
    """joblib on a two-worker dask.distributed cluster (threads in this process: starts in
    about a second, and the tasks still cross dask's scheduler and serialisation)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster), parallel_config(backend="dask"):
        yield


#: (n_jobs, backend context) of each run compared with the one-process run.
RUNS: dict[str, tuple[int, Callable[[], AbstractContextManager[None]]]] = {
    "loky, 1 worker": (1, nullcontext),
    "loky, 2 workers": (2, nullcontext),
    "dask LocalCluster, 2 workers": (2, _dask),
}


@pytest.fixture(scope="module")
def placebo_design(municipalities: em.Panel) -> em.cases.Design:
    return em.cases.get("trelleborg").design(municipalities)


def _study(design: em.cases.Design, n_jobs: int) -> em.PlaceboStudyResult:
    # the permutation adapter draws 199 assignments with its seed inside every task
    est = em.calibrate.permutation_did2x2(pre=design.pre_periods[-3:],
                                          post=design.post_periods[:3], n_draws=199, seed=5)
    return em.placebo_study(design.panel, "N31807", est, pool=design.comparison,
                            adoption=design.adoption, n_units=8, seed=11, n_jobs=n_jobs)


@pytest.mark.parametrize("run", list(RUNS))
def test_placebo_study_identical_on_every_backend(placebo_design: em.cases.Design,
                                                  run: str) -> None:
    reference = _study(placebo_design, 1)
    n_jobs, backend = RUNS[run]
    with backend():
        other = _study(placebo_design, n_jobs)
    pd.testing.assert_frame_equal(other.placebos, reference.placebos, check_exact=True)
    assert other.warnings == reference.warnings
    # the study is not degenerate: distinct estimates, and intervals that hold them
    est = reference.placebos["estimate"].to_numpy(float)
    assert np.unique(est).size == est.size
    lo, hi = (reference.placebos[c].to_numpy(float) for c in ("ci_lower", "ci_upper"))
    assert ((lo <= est) & (est <= hi)).all()


def _synth_problem() -> tuple[SynthProblem, int, np.ndarray, list[str]]:
    """Seven donors and a treated unit (the last) on a planted factor model, 12 periods, the
    last 4 treated with an effect of -2."""
    rng = np.random.default_rng(3)
    n, t = 8, 12
    loading = rng.uniform(0.5, 1.5, n)
    y = loading[:, None] * np.linspace(1, 3, t)[None, :] + rng.normal(0, 0.05, (n, t))
    y[-1, 8:] -= 2.0
    x = np.vstack([y[:, :8].mean(axis=1), y[:, 7], y[:, 3]])
    return SynthProblem(x=x, y=y, fit_cols=np.arange(8)), n - 1, np.arange(2000, 2012), [
        f"u{i}" for i in range(n)]


@pytest.mark.parametrize("run", list(RUNS))
def test_placebo_in_space_identical_on_every_backend(run: str) -> None:
    problem, n0, periods, units = _synth_problem()
    fit = problem.fit(n0, np.arange(n0))

    def placebos(n_jobs: int) -> em.PlaceboResult:
        return placebo_in_space(problem, n0, fit, periods=periods, start=2008, units=units,
                                n_jobs=n_jobs)

    reference = placebos(1)
    n_jobs, backend = RUNS[run]
    with backend():
        other = placebos(n_jobs)
    pd.testing.assert_frame_equal(other.gaps, reference.gaps, check_exact=True)
    pd.testing.assert_series_equal(other.ratio, reference.ratio, check_exact=True)
    # planted truth: the treated unit's post-period gaps near -2, the placebos' near 0
    post = reference.gaps.loc[:, 2008:]
    assert np.allclose(post.loc["u7"], -2.0, atol=0.3)
    assert (post.drop(index="u7").abs().to_numpy().mean()) < 0.3


def _draws(seed: int, index: int) -> np.ndarray:
    return task_rng(seed, index).normal(size=3)


#: Run in a fresh interpreter, as the command is: ``forked_workers`` forks (numba not loaded),
#: the workers see state set in the parent after import (a loky worker would not), and the
#: placebos in space on them are equal to the one-process run. With ``BEFORE`` set to a numba
#: parallel loop, it must keep loky instead: a fork would kill the workers and hang the loop.
FORK_SCRIPT = """
import os, sys
import numpy as np
from joblib.parallel import get_active_backend
from evalmodel.core import parallel
BEFORE
parallel.PLANTED = "set in the parent"

def view(i):
    return i, getattr(parallel, "PLANTED", "fresh"), os.getpid()

refused = parallel.fork_refused()
with parallel.forked_workers():
    print(type(get_active_backend()[0]).__name__, refused)
    got = parallel.run_tasks(view, [(i,) for i in range(4)], n_jobs=2)
print([g[1] for g in got], os.getpid() in {g[2] for g in got})

from evalmodel.core.synth_solver import SynthProblem
from evalmodel.inference.placebo import placebo_in_space
rng = np.random.default_rng(3)  # the planted problem of _synth_problem
y = rng.uniform(0.5, 1.5, 8)[:, None] * np.linspace(1, 3, 12) + rng.normal(0, 0.05, (8, 12))
y[-1, 8:] -= 2.0
problem = SynthProblem(x=np.vstack([y[:, :8].mean(axis=1), y[:, 7], y[:, 3]]), y=y,
                       fit_cols=np.arange(8))
fit = problem.fit(7, np.arange(7))
def gaps(n_jobs):
    return placebo_in_space(problem, 7, fit, periods=np.arange(2000, 2012), start=2008,
                            units=[f"u{i}" for i in range(8)], n_jobs=n_jobs).gaps
one = gaps(1)
with parallel.forked_workers():
    two = gaps(2)
    backend = type(get_active_backend()[0]).__name__
print(backend, one.equals(two), round(float(one.loc["u7", 2008:].mean()), 1))
"""

NUMBA_LOOP = """
import numba
@numba.njit(parallel=True)
def total(x):
    s = 0.0
    for i in numba.prange(x.size):
        s += x[i]
    return s
assert total(np.ones(100)) == 100.0
"""


def _fork_script(before: str) -> list[str]:
    # the synthetic control's NumPy kernels, so that fitting in this process loads no numba
    env = {**os.environ, "EVALMODEL_NUMBA": "0"}
    done = subprocess.run([sys.executable, "-c", FORK_SCRIPT.replace("BEFORE", before)],
                          capture_output=True, text=True, timeout=300, check=False, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")
def test_forked_workers_start_from_this_process() -> None:
    backend, planted, placebos = _fork_script("")
    assert backend == "MultiprocessingBackend None"
    assert planted == "['set in the parent', 'set in the parent', 'set in the parent', " \
                      "'set in the parent'] False"
    # equal to the one-process run, and the planted effect recovered
    assert placebos == "MultiprocessingBackend True -2.0"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")
def test_forked_workers_keep_loky_once_numba_ran() -> None:
    backend, planted, placebos = _fork_script(NUMBA_LOOP)
    assert backend == "LokyBackend numba is loaded (its OpenMP threads do not survive a fork)"
    assert planted == "['fresh', 'fresh', 'fresh', 'fresh'] False"
    assert placebos == "LokyBackend True -2.0"


@pytest.mark.parametrize("config, inside", [
    ({"backend": "loky"}, "LokyBackend"),
    ({"backend": "threading"}, "ThreadingBackend"),
    ({"prefer": "threads"}, "ThreadingBackend"),
    ({"require": "sharedmem"}, "ThreadingBackend"),
])
def test_forked_workers_keep_a_chosen_backend(config: dict[str, object], inside: str) -> None:
    assert backend_chosen() is False
    with parallel_config(**config):  # type: ignore[arg-type]
        assert backend_chosen() is True
        assert fork_refused() == "a joblib backend was chosen"
        with forked_workers():
            assert type(get_active_backend()[0]).__name__ == inside
    with parallel_config(n_jobs=3):  # a number of workers alone chooses no backend
        assert backend_chosen() is False


def test_task_seeds_do_not_depend_on_the_workers() -> None:
    one = run_tasks(_draws, [(7, i) for i in range(6)], n_jobs=1)
    two = run_tasks(_draws, [(7, i) for i in range(6)], n_jobs=2)
    assert all(np.array_equal(a, b) for a, b in zip(one, two, strict=True))
    assert len({tuple(a) for a in one}) == 6  # every task its own stream
    assert np.array_equal(one[0], np.random.default_rng([7, 0]).normal(size=3))


@pytest.mark.parametrize("bad", [0, 1.5, True, "2"])
def test_n_jobs_is_checked_at_the_entry_point(placebo_design: em.cases.Design,
                                              bad: object, tmp_path: Path) -> None:
    with pytest.raises(EstimationError, match=rf"placebo_study: n_jobs={bad!r} must be a "
                                              "non-zero integer"):
        _study(placebo_design, bad)  # type: ignore[arg-type]
    with pytest.raises(EvalModelError, match="run_report: n_jobs="):
        run_report({}, tmp_path, case_names=[], n_jobs=bad)  # type: ignore[arg-type]


CASE_SCRIPT = '''
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import evalmodel as em

def sections(panel):
    w = panel.wide("N31807")
    fig, ax = plt.subplots()
    ax.plot(w.columns, w.mean().to_numpy())
    table = pd.DataFrame({"unit": w.index[:3], "mean": w.mean(axis=1).to_numpy()[:3]})
    return [em.report.Section(key="s", title="{name}", tables=(("t", table),),
                              figures=(("f", fig),), notes=("{name}",))]
'''


def test_report_cases_identical_over_two_workers(tmp_path: Path,
                                                 municipalities: em.Panel) -> None:
    scripts = tmp_path / "analyses"
    scripts.mkdir()
    names = ["trelleborg", "boras", "malmo"]
    for name in names:
        (scripts / f"{name}.py").write_text(CASE_SCRIPT.replace("{name}", name))
    outs = []
    for n_jobs in (1, 2):
        out = tmp_path / f"out{n_jobs}"
        # matplotlib's defaults here, as in a fresh worker (other tests change the style)
        with matplotlib.style.context("default"):
            run_report({"municipality": municipalities}, out, case_names=names,
                       analyses=scripts, n_jobs=n_jobs)
        outs.append(out)
    def case_files(out: Path) -> list[Path]:  # the index and manifest hold the time
        return sorted(p.relative_to(out) for p in out.glob("*/*") if p.is_file())

    files = case_files(outs[0])
    assert {f"{n}/s_f.png" for n in names} <= {str(f) for f in files}
    assert files == case_files(outs[1])
    for f in files:
        assert (outs[0] / f).read_bytes() == (outs[1] / f).read_bytes(), f
    # the cases appear in the order asked for, whatever order the workers finished in
    html = (outs[1] / "index.html").read_text(encoding="utf-8")
    where = [html.find(f'<a href="#{n}">') for n in names]
    assert min(where) >= 0 and where == sorted(where)


def _wait_for(path: str, index: int) -> str:
    """Task 0 waits (up to 60 s) for ``path``, which the progress callback writes once
    another task has finished; the others return at once."""
    import time

    if index:
        return "fast"
    for _ in range(600):
        if os.path.exists(path):
            return "saw the progress"
        time.sleep(0.1)
    return "timed out"


@pytest.mark.parametrize("config", [{}, {"backend": "loky"}, "forked"])
def test_progress_is_reported_as_tasks_finish(tmp_path: Path,
                                              config: dict[str, object] | str) -> None:
    """The callback hears of the fast task while the slow one still runs (the slow task waits
    for a file the callback writes), on loky and on forked workers, and counts every task."""
    flag = str(tmp_path / "one-done")
    counts: list[int] = []

    def done(n: int) -> None:
        counts.append(n)
        Path(flag).write_text(str(n))

    ctx = forked_workers() if config == "forked" else parallel_config(**config)  # type: ignore[arg-type]
    with ctx:
        out = run_tasks(_wait_for, [(flag, 0), (flag, 1)], n_jobs=2, done=done)
    assert out == ["saw the progress", "fast"]
    assert counts == [1, 2]
    seen: list[int] = []
    assert run_tasks(_wait_for, [(flag, 1), (flag, 2)], n_jobs=1, done=seen.append) == [
        "fast", "fast"] and seen == [1, 2]


@pytest.mark.parametrize("run", ["loky, 2 workers", "dask LocalCluster, 2 workers"])
def test_report_with_calibration_tasks_identical_to_one_process(tmp_path: Path,
                                                                 districts: em.Panel,
                                                                 run: str) -> None:
    """The standard analysis of a case (its study script), whose calibration studies run as
    tasks of their own beside the case task with workers and are joined in this process,
    gives the files, the page and the notes of the one-process run, where the case builds
    its calibration section itself."""
    outs, calls = [tmp_path / "out1", tmp_path / "out2"], []
    n_jobs, backend = RUNS[run]
    # the one-process run in a fresh process, as the workers are: this one carries what
    # earlier tests left (pending garbage, filters, open figures) into the case's warnings
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pool.submit(run_report, {"district": districts}, outs[0], case_names=["lindangen"],
                    calibration_units=6, n_jobs=1).result()
    with matplotlib.style.context("default"), backend():
        run_report({"district": districts}, outs[1], case_names=["lindangen"],
                   calibration_units=6, n_jobs=n_jobs, progress=calls.append)
    assert calls == [""]  # once per case, unnamed from workers
    files = sorted(p.relative_to(outs[0]) for p in outs[0].rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(outs[1]) for p in outs[1].rglob("*") if p.is_file())
    assert {"lindangen/calibration_N31807_calibration.csv", "manifest.json"} <= {
        str(f) for f in files}
    when = re.compile(rb'(&quot;|")time(&quot;|"): (&quot;|")[-0-9T:+]*(&quot;|")')
    for f in files:  # the manifest (also shown on the page) holds the time of the run
        if f.name == "index.html" and run.startswith("dask"):
            # the page lists each case's warnings, which Python records for the whole
            # process: tasks on threads at once (this in-process cluster) lose them
            continue
        one, two = (when.sub(b"", (o / f).read_bytes()) for o in outs)
        assert one == two, f
    table = pd.read_csv(outs[1] / "lindangen" / "calibration_N31807_calibration.csv")
    assert set(table["n_placebo"]) == {6} and len(table) == 7


def test_lean_collector_freezes_and_restores() -> None:
    """Inside the block the existing objects are frozen and the thresholds are the lean ones;
    after it, both are as before (and a nested error does not leave them changed)."""
    import gc

    from evalmodel.core.parallel import GC_THRESHOLDS, lean_collector

    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), lean_collector():
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 1000  # the imported modules' objects
        raise RuntimeError
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
