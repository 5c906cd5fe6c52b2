"""What a report worker imports on its first case, and what each import costs (CPU).

`evalmodel run` forks its workers from a process that has imported the command and the
package (the "head"); each worker then imports, on its first case, what the head had not. Both
workers pay that in parallel, so each such import costs its full CPU time in wall time, and an
import that no task needs (or that a cheap change avoids) shortens the run one for one. Moving
an import from the workers into the head is wall-neutral (the head runs alone).

Each line is the median CPU of a fresh process (3 runs) importing one thing after the head;
the libraries the report needs come first, then those it no longer loads (for reference).
Run: `python benchmarks/bench_imports.py`. Not part of `make bench`.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

#: The head of `evalmodel run`: what the main process has imported when it forks.
HEAD = ("import evalmodel.cli, evalmodel.report.runner, evalmodel as em; "
        "from evalmodel.core.parallel import forked_workers, lean_collector; "
        "from tqdm import tqdm")

#: (label, code run after the head and its prerequisites, code timed).
STEPS: tuple[tuple[str, str, str], ...] = (
    ("matplotlib.pyplot (figures)", "", "import matplotlib.pyplot"),
    ("seaborn, after pyplot (figures)", "import matplotlib.pyplot", "import seaborn"),
    ("numba (the compiled kernels)", "", "import numba"),
    ("numba's first cached-kernel load: CPUContext.refresh, which imports every registry "
     "(numba.np.random.generator_methods among them)",
     "import numba; from numba.core.registry import cpu_target",
     "cpu_target.target_context.refresh()"),
    ("statsmodels.regression (not loaded by the report since core.ols)", "",
     "import statsmodels.regression.linear_model"),
    ("requests (not loaded by the head since the clients import it)", "", "import requests"),
)

#: Compiling the sources of the evalmodel modules the head imports: paid by every run where
#: Python writes no bytecode cache (``PYTHONDONTWRITEBYTECODE``, as on the project's machine).
COMPILE = ("import sys\nfiles = [m.__file__ for n, m in list(sys.modules.items()) if "
           "n.startswith('evalmodel') and getattr(m, '__file__', '')]\nsources = [open(f).read() "
           "for f in files]")


def _cpu(setup: str, timed: str) -> float:
    code = (f"{HEAD}\n{setup}\nimport time\nt = time.process_time()\n{timed}\n"
            "print(time.process_time() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.split()[-1])


def main() -> None:
    head = statistics.median(
        float(subprocess.run([sys.executable, "-c", "import time; t = time.process_time(); "
                              f"{HEAD}; print(time.process_time() - t)"],
                             capture_output=True, text=True, check=True).stdout)
        for _ in range(3))
    print(f"{1000 * head:7.0f} ms  the head (imports of the main process)")
    for label, setup, timed in STEPS:
        ms = 1000 * statistics.median(_cpu(setup, timed) for _ in range(3))
        print(f"{ms:7.0f} ms  {label}")
    ms = 1000 * statistics.median(
        _cpu(COMPILE, "[compile(s, f, 'exec') for s, f in zip(sources, files)]")
        for _ in range(3))
    cached = "off" if sys.flags.dont_write_bytecode else "on"
    print(f"{ms:7.0f} ms  compiling the head's evalmodel sources (in the head above when no "
          f".pyc exists; bytecode writing here: {cached})")


if __name__ == "__main__":
    main()
