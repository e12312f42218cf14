"""Band representations: induction from Wyckoff positions, elementary band representations,
decomposition of symmetry vectors, symmetry indicators."""
