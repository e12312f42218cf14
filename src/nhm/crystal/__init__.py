"""Crystal structures: reading, space-group detection and standardization to the BCS setting."""

from nhm.crystal.structure import AtomOrbit, Crystal, read_crystal

__all__ = ["AtomOrbit", "Crystal", "read_crystal"]
