"""What a field says, and how a run is made and shown.

- :mod:`~nhm.kspace.analysis.checks` — spin axes and frames, the checks a field must pass, the forced jumps of F;
- :mod:`~nhm.kspace.analysis.fermi` — the Fermi surface as points, and k-space magnetism on it;
- :mod:`~nhm.kspace.analysis.wannier` — g(R), centres, spreads and decay; a tight-binding band's WFs in real space;
- :mod:`~nhm.kspace.analysis.run` — one k-space-magnetism run and its JSON (``run_kspace``, ``run_orbit_kspace``);
- :mod:`~nhm.kspace.analysis.figures` — seed Fig. 1 (a) and (b) (matplotlib);
- :mod:`~nhm.kspace.analysis.viewer` — the field on the Fermi surface as a self-contained interactive page (plotly).
"""
