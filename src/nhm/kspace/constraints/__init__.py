"""Symmetry constraints: what the band's symmetry and the WFs' site representation demand of the Bloch spinors.

- :mod:`~nhm.kspace.constraints.site` — the site representation ρ = s ⊗ D½ of the spin-dependent WFs (one atom,
  or induced on an orbit of μ atoms);
- :mod:`~nhm.kspace.constraints.characters` — the band's characters λ_h(k) on the little co-groups (eqs. 1, 2);
- :mod:`~nhm.kspace.constraints.spaces` — the real constraint spaces V_k of F(k) (eq. 3) and the k-independent F0;
- :mod:`~nhm.kspace.constraints.levels` — a degenerate spatial level: D(a) on the little co-group, U, their checks;
- :mod:`~nhm.kspace.constraints.r2` — the 2d×2 isometry A of the Bloch spinors where the band lies in such a level.

Nothing here knows where the states come from: the sources (:mod:`nhm.kspace.sources`) supply the characters
and the levels.
"""
