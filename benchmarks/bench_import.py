"""What ``import nhm`` adds to the interpreter's start (issue 24: under 0.1 s; measured, not asserted).

Median wall time of ``python -c "import nhm"`` against ``python -c "pass"`` (the floor), and of the first use of
the API (``nhm.analyze``: imports :mod:`nhm.api` and :mod:`nhm.results`, still no numpy) and of a callable
sub-package (``nhm.kspace``: imports the package, not the k-space code). Run with the interpreter to measure::

    PYTHONPATH=src python benchmarks/bench_import.py --runs 21
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

CASES = {
    "python -c pass (the floor)": "pass",
    "import nhm": "import nhm",
    "import nhm; nhm.analyze": "import nhm; nhm.analyze",
    "import nhm; nhm.kspace": "import nhm; nhm.kspace",
}


def median_seconds(code: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    median_seconds("import nhm", 2)  # warm the file cache
    floor = None
    for label, code in CASES.items():
        t = median_seconds(code, args.runs)
        floor = t if floor is None else floor
        print(f"{label:32s} {t * 1000:7.1f} ms   (+{(t - floor) * 1000:6.1f} ms over the floor)")
    code = "import sys, nhm; print(len([m for m in sys.modules if m.startswith('nhm')]), 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    print(f"after 'import nhm': {out[0]} nhm module(s) loaded, numpy loaded: {out[1]}")


if __name__ == "__main__":
    main()
