"""Benchmark: k-space magnetism of a metal from its own DFT Bloch states (the path of `nhm kspace Nb`).

    .venv/bin/python benchmarks/bench_kspace_dft.py [MATERIAL] [--meshes 16,24]
    .venv/bin/python benchmarks/bench_kspace_dft.py Zr --meshes 12,18     # a band of μ = 2 branches (hcp)

For each mesh n³, in one process after `nhm analyze MATERIAL` (run first if not cached): the Bloch states
at the primary star representatives (GPAW, or the cache on a second run) and their unfolding to the whole
mesh; the band on the mesh and the F(k) optimisation (coarse to fine) with the WFs and checks; the peak
resident memory of the process so far. Run it twice to see the warm figures (the states are cached under
the hash of structure, parameters, GPAW version, bands and points). Target: 16³ warm in under a minute.
"""

from __future__ import annotations

import resource
import sys
import time


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    material = args[0] if args else "Nb"
    meshes = (16, 24)
    if "--meshes" in sys.argv:
        meshes = tuple(int(x) for x in sys.argv[sys.argv.index("--meshes") + 1].split(","))
        material = next((a for a in args if a != sys.argv[sys.argv.index("--meshes") + 1]), "Nb")
    from nhm.bands.symmetry import parse_band
    from nhm.kspace.analysis.run import run_kspace
    from nhm.kspace.sources.material import material_band
    from nhm.report.analyze import analyze

    t0 = time.perf_counter()
    an = analyze(material)
    cand = an.verdict.superconducting[0].candidate
    print(f"{material}: analyze {time.perf_counter() - t0:.1f} s; candidate {cand.band_text()} ({cand.reading})")
    band = parse_band(cand.band_text(), an.crystal.space_group)
    print(f"{'mesh':>5} {'points':>7} {'wedge':>6} {'states s':>9} {'F(k) s':>7} {'total s':>8} {'peak RSS MiB':>13} {'R2 pts':>7} {'axis var.':>9}")
    from nhm.kspace.sources.material import branch_count

    if branch_count(cand) > 1:  # μ > 1 branches (hcp): F(k) ∈ U(2μ), nhm.kspace.construction.orbit
        _orbit(an, cand, band, meshes)
        return
    for n in meshes:
        t1 = time.perf_counter()
        mb = material_band(an.crystal, an.parameters, an.zone, cand, n)
        t2 = time.perf_counter()
        res = run_kspace(band, an.centres[0], None, n, characters=mb.characters, overlaps=mb.overlaps, reading=cand.reading,
                         energies=lambda mm: mb.source.energies(), fermi_level=an.fermi_level)
        t3 = time.perf_counter()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        r2 = 0 if res.field.r2 is None else len(res.field.r2.points)
        print(f"{n:>4}³ {n**3:>7} {len(mb.source.states.points):>6} {t2 - t1:>9.1f} {t3 - t2:>7.1f} {t3 - t1:>8.1f} {rss:>13.0f} "
              f"{r2:>7} {res.fermi_surface.get('axis_variation') or float('nan'):>9.3f}")


def _orbit(an, cand, band, meshes) -> None:
    from nhm.kspace.analysis.run import run_orbit_kspace
    from nhm.kspace.mesh import make_mesh
    from nhm.kspace.sources.material import orbit_material_band

    print(f"{'mesh':>5} {'points':>7} {'wedge':>6} {'states s':>9} {'F(k) s':>7} {'total s':>8} {'peak RSS MiB':>13} {'spread':>8} {'zone var.':>9}")
    for n in meshes:
        t1 = time.perf_counter()
        src = orbit_material_band(an.crystal, an.parameters, an.zone, cand, n)
        t2 = time.perf_counter()
        res = run_orbit_kspace(band, an.centres[0], None, make_mesh(band.space_group, n), src, require_superconducting=False,
                               energies=src.energies(), fermi_level=an.fermi_level)
        t3 = time.perf_counter()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{n:>4}³ {n**3:>7} {len(src.states.points):>6} {t2 - t1:>9.1f} {t3 - t2:>7.1f} {t3 - t1:>8.1f} {rss:>13.0f} "
              f"{res.field.spread:>8.3f} {res.fermi_surface['whole_zone']['axis_variation']:>9.3f}")


if __name__ == "__main__":
    main()
