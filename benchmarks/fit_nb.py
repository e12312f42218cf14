"""Benchmark: fit an s + p + d Slater–Koster model (bcc, two shells) to GPAW's Nb levels at GM, H, N, P.

    .venv/bin/python benchmarks/fit_nb.py [--path]

Prints the per-level table, rms and max error (eV, E − E_F, levels within ±7 eV) and the times.
``--path`` also compares the fitted bands with GPAW's along the band path (energy-sorted bands).
The DFT comes from the nhm cache ($NHM_CACHE_DIR or ~/.cache/nhm) or is computed (~20 s).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from nhm.bands.tbfit import fit_to_levels, targets_from_levels
from nhm.report.analyze import analyze

WINDOW = (-7.0, 7.0)


def main() -> None:
    with_path = "--path" in sys.argv[1:]
    t = time.perf_counter()
    an = analyze("Nb", with_zone=with_path)
    t_dft = time.perf_counter() - t
    targets = targets_from_levels(an.levels, zero=an.fermi_level, window=WINDOW)
    t = time.perf_counter()
    r = fit_to_levels(229, "a", ["s", "p", "d"], targets, window=WINDOW)
    t_fit = time.perf_counter() - t
    print(r.table())
    print(f"levels {len(r.levels)}, rms {r.rms_eV:.4f} eV, max {r.max_abs_eV:.4f} eV, success {r.success}")
    print("onsite (eV):", {k: round(v, 3) for k, v in r.onsite.items()})
    print("Slater–Koster (eV, shells 1, 2):", {k: tuple(round(x, 3) for x in v) for k, v in r.parameters.items()})
    print(f"time: DFT levels {t_dft:.1f} s ({'cached' if an.from_cache else 'computed'}), fit {t_fit:.2f} s")
    if with_path and an.zone is not None:
        _compare_lines(an, r)


def _compare_lines(an, r) -> None:
    """The fitted model against GPAW along every line of symmetry (energy-ordered bands)."""
    diffs = []
    for lb in an.zone.lines:
        tb = r.model.bands(lb.kpts_conventional)[0]
        dft = lb.energies - an.fermi_level
        first = int(np.sum(dft[0] < -20.0))  # skip the semicore 4s, 4p
        n = min(tb.shape[1], dft.shape[1] - first)
        d = tb[:, :n] - dft[:, first:first + n]
        diffs.append(d[np.abs(dft[:, first:first + n]) < WINDOW[1]])
    d = np.concatenate(diffs)
    k = sum(len(lb.s) for lb in an.zone.lines)
    print(f"along the {len(an.zone.lines)} lines of symmetry ({k} k): bands within ±7 eV rms "
          f"{np.sqrt(np.mean(d ** 2)):.3f} eV, max {np.max(np.abs(d)):.3f} eV")


if __name__ == "__main__":
    main()
