"""Benchmark: k-space magnetism of the bcc superconducting-band type (GM1+, H1+, P1, N2+) on 2a.

    .venv/bin/python benchmarks/bench_kspace.py [--quick] [--tb]

``--tb``: the superconducting top band of the bcc s+d Slater–Koster model (nhm.bands.tightbinding.
bcc_sd_model) instead of the Voronoi model band; characters from its Bloch states, spatial overlaps in
the spread (the column Ω_M).

Prints, for meshes 8³, 16³, 24³, 32³: the time for constraints plus optimisation, the residuals, the
spreads Ω (M = 1, phase-synchronised) and Ω_P (spin frame), the jump bonds, and the WF decay fit; then
the jump surfaces of the largest mesh. Target: 32³ in under 30 s on one core.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, as the target says
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from nhm.bands.symmetry import BandSymmetry  # noqa: E402
from nhm.groups.wyckoff import wyckoff_position  # noqa: E402
from nhm.kspace.analysis.checks import check_field, jump_report  # noqa: E402
from nhm.kspace.analysis.wannier import decay_fit, wannier_functions  # noqa: E402
from nhm.kspace.constraints.site import spin_site_representation  # noqa: E402
from nhm.kspace.construction.optimise import build_field  # noqa: E402
from nhm.kspace.mesh import make_mesh  # noqa: E402
from nhm.kspace.sources.model import model_band_characters  # noqa: E402


def main() -> None:
    meshes = (8, 16) if "--quick" in sys.argv else (8, 16, 24, 32)
    site = spin_site_representation(229, wyckoff_position(229, "a"), "-E1g@2a")
    make_mesh(229, 4)  # warm the group-theory caches
    if "--tb" in sys.argv:
        from nhm.bands.tightbinding import BCC_SD_SUPERCONDUCTING_BAND as B
        from nhm.bands.tightbinding import bcc_sd_model
        from nhm.kspace.sources.tightbinding import (
            model_band_symmetry,
            tight_binding_characters,
            tight_binding_overlaps,
        )

        model = bcc_sd_model()
        band = model_band_symmetry(model, B)

        def rebuild(m):
            return tight_binding_characters(m, model, B, site)

        def overlaps(m):
            return tight_binding_overlaps(m, model, B)

        print(f"top band of the bcc s+d model: {band.text()}, spin-dependent WFs {site.label}")
    else:
        band = BandSymmetry(229, {"GM": ("GM1+",), "H": ("H1+",), "P": ("P1",), "N": ("N2+",)})

        def rebuild(m):
            return model_band_characters(m, band, site)

        overlaps = None
        print(f"band {band.text()} on 2a of Im-3m (Voronoi model band), spin-dependent WFs {site.label}")
    header = f"{'mesh':>5} {'time/s':>7} {'resid.':>8} {'TR res.':>8} {'Ω (a²)':>8} {'Ω_P (a²)':>9} {'Ω_M (a²)':>9} {'jumps':>12} {'forced':>6} {'decay':>10} {'fit':>22}"
    print(header)
    print("-" * len(header))
    last = None
    for n in meshes:
        t0 = time.perf_counter()
        field = build_field(rebuild(make_mesh(229, n)), rebuild=rebuild, overlaps=overlaps)
        elapsed = time.perf_counter() - t0
        r = field.residuals
        jr = jump_report(field)
        fit = decay_fit(wannier_functions(field))
        check = check_field(field)
        assert max(r.constraint, r.star, r.time_reversal) < 1e-10 and check.kramers < 1e-10
        if fit.better == "power law":
            desc = f"|R|^-{fit.power:.2f} (rms {fit.power_rms:.2f} vs {fit.exponential_rms:.2f})"
        elif fit.better == "exponential":
            desc = f"ξ = {fit.exponential_length:.2f} a (rms {fit.exponential_rms:.2f} vs {fit.power_rms:.2f})"
        else:
            desc = fit.better
        print(
            f"{n:>4}³ {elapsed:7.2f} {max(r.constraint, r.star):8.1e} {r.time_reversal:8.1e} {field.spread:8.3f} "
            f"{field.spread_projective:9.3f} {field.spread_with_overlaps or float('nan'):9.3f} {jr.jumps:>5}/{jr.bonds:<6} {jr.forced:>6} {fit.better:>10} {desc:>22}"
        )
        last = (n, elapsed, jr)
    assert last is not None
    n, elapsed, jr = last
    print(f"\njump bonds on the {n}³ mesh (fraction {jr.fraction:.3f}; forced = disjoint constraint sets at the ends):")
    for g in jr.groups:
        print(
            f"  {g.element:>16} |G_k|={g.cogroup_order:<2} normal/direction ({', '.join(f'{x:.3f}' for x in g.normal_or_direction)}) "
            f"cells {'–'.join(g.cells):<6} bonds {g.bonds:>5} forced {g.forced:>4}  mean d_P {g.mean_distance:.2f}"
        )
    if n == 32:
        verdict = "OK" if elapsed < 30 else "SLOW"
        print(f"\n32³ constraints + optimisation: {elapsed:.1f} s (target < 30 s): {verdict}")


if __name__ == "__main__":
    main()
