"""Benchmark: one Krüger classification, and a full superconducting-band search with 12 levels per point.

    .venv/bin/python benchmarks/bench_classify.py
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from nhm.bands.symmetry import BandSymmetry
from nhm.groups.irreps import little_group
from nhm.groups.wyckoff import wyckoff_position
from nhm.wannier.krueger import classify
from nhm.wannier.connected import LevelChoice
from nhm.wannier.points_only import points_only_search


def main() -> None:
    a = wyckoff_position(229, "a")
    band = BandSymmetry(229, {"GM": ("GM1+",), "H": ("H1+",), "N": ("N2+",), "P": ("P1",)})
    classify(band, [a])  # warm the per-group caches (irreps, induction) once
    reps = 200
    t = time.perf_counter()
    for _ in range(reps):
        classify(band, [a], reading="R1")
    one = (time.perf_counter() - t) / reps
    print(f"one classification (R1, Im-3m 2a, warm caches): {1000 * one:.2f} ms")

    rng = np.random.default_rng(0)
    levels = []
    for k in ("GM", "H", "N", "P"):
        irreps = [r.label for r in little_group(229, k).irreps]
        for label, e in zip(itertools.cycle(irreps), rng.uniform(-2, 2, 12)):
            levels.append(LevelChoice(k, float(e), label))
    t = time.perf_counter()
    res = points_only_search(levels, 229, [a], window=(-2, 2))
    full = time.perf_counter() - t
    print(
        f"full search, 12 levels per point (R1 and R2): {1000 * full:.1f} ms; "
        f"{len(res.superconducting)} superconducting candidates, {len(res.usual)} usual bands"
    )


if __name__ == "__main__":
    main()
