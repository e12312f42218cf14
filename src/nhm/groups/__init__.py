"""Group theory: space groups with SU(2) lifts, little groups, irreps, co-representations, Wyckoff data."""
