"""Run every benchmark: evalmodel beside its peer packages on the same data, in one process.

`make bench` runs this file. Each module prints its own timings and ratios; nothing here is a
timed test (speed is measured, not asserted).
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

MODULES = ("bench_panel", "bench_twfe", "bench_staggered", "bench_synth", "bench_inference",
           "bench_data", "bench_memory")


def main() -> None:
    """Run each benchmark module's ``main()`` in turn."""
    for name in MODULES:
        print(f"\n=== {name} ===", flush=True)
        start = time.perf_counter()
        importlib.import_module(name).main()
        print(f"=== {name}: {time.perf_counter() - start:.1f} s in all", flush=True)


if __name__ == "__main__":
    main()
