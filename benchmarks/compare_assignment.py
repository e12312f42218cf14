"""How a band is continued off the lines: the nearest-line rule against state continuity (overlaps).

For the best candidate band of each material (``nhm analyze``'s best variant), two assignments of the
band's state at every point of the zone mesh:

- *nearest line* (what nhm reports): the band's energy-ordered index at the nearest line sample, with the
  lower and the upper state where that sample lies in a larger degenerate level;
- *state continuity*: mesh points that lie on a line of symmetry keep the line's index (seeds); every other
  point takes, in order of decreasing overlap (Prim's algorithm on the mesh graph), the state with the
  largest |⟨u_k,n|u_k',m⟩| with an already assigned neighbour k′ (pseudo wave functions, normalised; the
  GPAW states of the wedge unfolded by the exact operations, as ``nhm kspace`` does).

Prints width, filling and DOS at E_F of each, the share of mesh points where they differ, the smallest
winning overlap, and the time the overlaps took (GPAW states cached after the first run).

    .venv/bin/python benchmarks/compare_assignment.py Nb Mo Rh Pb
"""

from __future__ import annotations

import argparse
import heapq
import time

import numpy as np


def continuity_assignment(an, band, n: int):
    from nhm.bands.dft_mesh import bloch_states_on_mesh
    from nhm.bands.zone import irreducible_mesh
    from nhm.kspace.mesh import make_mesh
    from nhm.kspace.sources.planewaves import PlaneWaveBlock, plane_wave_block_overlaps
    from nhm.kspace.sources.states import unfold
    from nhm.wannier.verdict import assignment_tables

    zone = an.zone
    mesh = make_mesh(an.crystal.space_group, n)
    reps = np.array([int(m) for m in mesh.representatives if mesh.primary[m]])
    t0 = time.perf_counter()
    states = bloch_states_on_mesh(an.crystal, an.parameters, n, mesh.indices[reps], nbands=zone.nbands)
    nconv = states.energies.shape[1]
    pos = {int(m): i for i, m in enumerate(reps)}

    class Source:
        space_group = an.crystal.space_group

        def rotate(self, op, k_src, k_dst, blk):
            from nhm.bands.bloch import rotate_plane_waves

            g, c = rotate_plane_waves(self.space_group, op, k_src, k_dst, blk.g, blk.c)
            return PlaneWaveBlock(g, c)

        def conjugate(self, k_src, k_dst, blk):
            from nhm.bands.bloch import conjugate_plane_waves

            g, c = conjugate_plane_waves(k_src, k_dst, blk.g, blk.c)
            return PlaneWaveBlock(g, c)

    def rep_block(m):
        i = pos[m]
        c = states.coefficients[i]
        return PlaneWaveBlock(states.g_vectors[i], c / np.linalg.norm(c, axis=1)[:, None])

    blocks = unfold(mesh, Source(), rep_block)
    energies = np.array([states.energies[pos[int(mesh.star_rep[m] if not mesh.time_reversed[m] else mesh.star_rep[mesh.minus[m]])]]
                         for m in range(mesh.size)])
    # the six nearest neighbours in the primitive grid
    steps = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])
    j = mesh.indices
    nb_j = (j[:, None, :] + steps[None]) % n
    table = (nb_j[..., 0] * n + nb_j[..., 1]) * n + nb_j[..., 2]
    shifts = (j[:, None, :] + steps[None]) // n  # k + b = k_q + shift (the neighbour wraps across the cell)
    ov = np.abs(plane_wave_block_overlaps(blocks, table, shifts, np.ones(table.shape, bool), rows=nconv))
    t_overlap = time.perf_counter() - t0

    # seeds: mesh points on the lines (distance to the nearest sample below a tenth of a mesh step)
    zm = irreducible_mesh(an.crystal.space_group, n)
    sample, dist = zone.assignment if zone.mesh.n == n else (None, None)
    if sample is None:
        from nhm.bands.zone import nearest_line_samples

        line, smp, dist = nearest_line_samples(an.crystal.space_group, zm, zone.reciprocal, [lb.kpts_conventional for lb in zone.lines])
        sample = zone.sample_offsets[line] + smp
    se = np.concatenate([lb.energies for lb in zone.lines])
    tables = assignment_tables(se, band.candidate)
    step = np.min(np.linalg.norm(zone.reciprocal, axis=1)) / n
    code = (zm.full[:, 0] * n + zm.full[:, 1]) * n + zm.full[:, 2]
    nearest = {c: tables[c][sample][:, 0] for c in ("lower", "upper")}
    near_idx = np.empty(mesh.size, dtype=int)
    near_idx[code] = nearest["lower"]
    near_up = np.empty(mesh.size, dtype=int)
    near_up[code] = nearest["upper"]
    on_line = np.zeros(mesh.size, bool)
    on_line[code] = dist < 0.1 * step
    assigned = np.full(mesh.size, -1)
    assigned[on_line] = near_idx[on_line]
    heap: list = []

    def push(p):
        for b in range(6):
            q = int(table[p, b])
            if assigned[q] < 0:
                row = ov[p, b, assigned[p]]
                m = int(np.argmax(row))
                heapq.heappush(heap, (-float(row[m]), q, m))

    for p in np.nonzero(on_line)[0]:
        push(int(p))
    weakest = 1.0
    while heap:
        w, q, m = heapq.heappop(heap)
        if assigned[q] >= 0:
            continue
        assigned[q] = m
        weakest = min(weakest, -w)
        push(q)
    return energies, assigned, near_idx, near_up, code, t_overlap, weakest, on_line.sum()


def main() -> None:
    from nhm.bands.zone import band_measures
    from nhm.report.analyze import analyze

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("materials", nargs="+")
    args = ap.parse_args()
    print(f"{'material':9} {'band':24} {'rule':24} {'width':>6} {'filling':>8} {'DOS':>7}  notes")
    for mat in args.materials:
        an = analyze(mat)
        if not an.verdict.superconducting:
            print(f"{mat:9} no candidate band")
            continue
        band = an.verdict.superconducting[0]
        n = an.zone.mesh.n
        e, cont, low, up, code, dt, weakest, seeds = continuity_assignment(an, band, n)
        ef, cell = an.fermi_level, an.zone.cell

        def measures(idx):
            mesh_e = e[np.arange(len(idx)), idx][code]  # ZoneMesh order
            return band_measures(mesh_e, n, cell, ef)

        rows = [("nearest line, lower", low), ("nearest line, upper", up), ("state continuity", cont)]
        for label, idx in rows:
            m = measures(idx)
            note = ""
            if label == "state continuity":
                note = (f"differs from nearest-line at {np.mean((cont != low) & (cont != up)):.0%} of the mesh; "
                        f"weakest link |⟨u|u′⟩| = {weakest:.2f}; {seeds} seeds on lines; overlaps {dt:.1f} s")
            print(f"{mat:9} {band.band_text()[:24]:24} {label:24} {m.width:6.2f} {m.filling:8.3f} {m.dos_at_fermi:7.3f}  {note}",
                  flush=True)
        print(f"{'':9} {'':24} {'reported (interval)':24} {band.best.width:6.2f} {band.best.filling:8.3f} {band.best.dos_at_fermi:7.3f}  "
              f"[{band.filling[0]:.3f}, {band.filling[1]:.3f}] over {len(band.variants)} variants")


if __name__ == "__main__":
    main()
