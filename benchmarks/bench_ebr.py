"""Benchmark: all 920 EBR sets (230 groups x {spinless, spinful} x {with, without TR}) from scratch.

Run on one core:  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_ebr.py
Nothing is cached on disk; the in-process caches start empty (fresh interpreter). Prints the wall clock
and the CPU time of this process (on a machine shared with other work the wall clock also counts the
time spent waiting for a core; the CPU time is what one core spends).
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main() -> None:
    t0 = time.perf_counter()
    from nhm.bandrep.ebr import elementary_band_representations

    t_import = time.perf_counter() - t0
    c1 = time.process_time()
    t1 = time.perf_counter()
    n_sets = n_ebrs = n_composite = 0
    for n in range(1, 231):
        for double in (False, True):
            for tr in (False, True):
                s = elementary_band_representations(n, double=double, time_reversal=tr)
                n_sets += 1
                n_ebrs += len(s.band_representations)
                n_composite += len(s.composite)
    t_all = time.perf_counter() - t1
    c_all = time.process_time() - c1
    print(f"EBR sets computed: {n_sets}  (EBRs: {n_ebrs}, composite BRs from maximal positions: {n_composite})")
    print(
        f"import: {t_import:.2f} s   all 920 sets: {t_all:.2f} s wall, {c_all:.2f} s CPU   "
        f"per set: {1000 * t_all / n_sets:.1f} ms wall"
    )


if __name__ == "__main__":
    main()
