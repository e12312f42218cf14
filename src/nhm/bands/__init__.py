"""Band structures and the symmetry of bands (levels and irreps at the points of symmetry)."""
