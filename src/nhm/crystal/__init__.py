"""Crystal structures: reading, space-group detection and standardization to the BCS setting.

The names are imported lazily: reading structures needs ASE's file readers (half a second to import),
which the group-theory commands that only need :mod:`nhm.crystal.setting` never use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["DEFAULT_SYMPREC", "AtomOrbit", "Crystal", "read_crystal"]

DEFAULT_SYMPREC = 1e-3  # Å: reads hand-typed coordinates (0.3333 for 1/3) as the symmetric positions they mean

if TYPE_CHECKING:
    from nhm.crystal.structure import AtomOrbit, Crystal, read_crystal


def __getattr__(name: str):
    if name in ("AtomOrbit", "Crystal", "read_crystal"):
        from nhm.crystal import structure

        return getattr(structure, name)
    raise AttributeError(f"module 'nhm.crystal' has no attribute {name!r}")
