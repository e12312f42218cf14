"""k-space magnetism: Bloch spinors f(k), spin axes z_k and spin-dependent Wannier functions.

Layers (each a module, calculation separate from I/O):

- :mod:`nhm.kspace.spin` — Pauli matrices, SU(2) ↔ SO(3), the Cartesian frame of the BCS lifts;
- :mod:`nhm.kspace.mesh` — Γ-centred mesh in the primitive reciprocal basis, stars, time reversal, shells b;
- :mod:`nhm.kspace.constraints` — the site representation ρ = s ⊗ D½, the band's characters λ_h(k) on the
  little co-groups (model band = Voronoi assembly, or Bloch states), the constraint spaces for F(k);
- :mod:`nhm.kspace.construct` — the symmetric, time-reversal-adapted, optimally smooth field F(k);
- :mod:`nhm.kspace.field` — spin axes n_m(k), spin frames, checks, forced jumps;
- :mod:`nhm.kspace.wannier` — g(R), centres, spreads, decay fit;
- :mod:`nhm.kspace.plots` — figures (matplotlib) and a self-contained interactive HTML view.

Conventions are those of science.md §1, §4 (verified, with corrections, in :mod:`nhm.kspace.constraints`).
"""
