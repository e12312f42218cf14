"""k-space magnetism: Bloch spinors f(k), spin axes z_k and spin-dependent Wannier functions.

The data flow down the sub-packages, each importing only those before it (calculation separate from I/O):

- ground: :mod:`~nhm.kspace.spin` (Pauli matrices, SU(2) ↔ SO(3), the frame of the BCS lifts) and
  :mod:`~nhm.kspace.mesh` (the Γ-centred mesh, stars, time reversal, shells b); :mod:`~nhm.kspace.resources`
  estimates a run's memory from them;
- :mod:`~nhm.kspace.constraints` — what symmetry demands: the WFs' site representation, the band's characters λ,
  the constraint spaces of F(k), the isometries at R2 points;
- :mod:`~nhm.kspace.sources` — where the band's states come from: a model band, a tight-binding band, GPAW's
  plane waves, bands of μ branches, a material's candidate;
- :mod:`~nhm.kspace.construction` — the symmetric, time-reversal-adapted, optimally smooth F(k);
- :mod:`~nhm.kspace.analysis` — checks, forced jumps, the Fermi surface, Wannier functions, the run, figures.

Conventions are those of science.md §1, §4 (verified, with corrections, in :mod:`nhm.kspace.constraints`).
"""

from nhm._callable import make_callable as _make_callable  # noqa: E402

_make_callable(__name__, "nhm.api:kspace")  # nhm.kspace(...) runs nhm.api.kspace; the package stays the package
del _make_callable
