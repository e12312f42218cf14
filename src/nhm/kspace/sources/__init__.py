"""Sources of a band's Bloch states (or of its characters alone), from which F(k) is built.

- :mod:`~nhm.kspace.sources.model` — a model band, one irrep per point of symmetry (the Voronoi assembly: λ, no states);
- :mod:`~nhm.kspace.sources.tightbinding` — a band of a Slater–Koster model: λ and |M_kb| from its eigenvectors;
- :mod:`~nhm.kspace.sources.tightbinding_levels` — that band's degenerate levels, R2 points and their Bloch spinors;
- :mod:`~nhm.kspace.sources.states` — a band given by its states at the primary representatives, unfolded over the
  mesh (the DFT path);
- :mod:`~nhm.kspace.sources.planewaves` — GPAW's plane-wave states on that path;
- :mod:`~nhm.kspace.sources.orbit` — bands of μ > 1 branches: blocks of μ states (plane waves, tight binding);
- :mod:`~nhm.kspace.sources.material` — a material's superconducting candidate of ``nhm analyze`` on a mesh.
"""
