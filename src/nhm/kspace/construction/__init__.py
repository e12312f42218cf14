"""Construction and optimisation of the Bloch-spinor field F(k) from a band's constraints.

- :mod:`~nhm.kspace.construction.field` — the field (:class:`~nhm.kspace.construction.field.SpinorField`), its
  propagation from the primary representatives, spreads and residuals;
- :mod:`~nhm.kspace.construction.starts` — where the optimisation starts, and fields given by a function;
- :mod:`~nhm.kspace.construction.optimise` — relaxation, coarse-to-fine and phase synchronisation (``build_field``);
- :mod:`~nhm.kspace.construction.orbit` — F(k) ∈ U(2μ) for bands of μ > 1 branches (``build_orbit_field``).
"""
