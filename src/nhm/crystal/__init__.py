"""Crystal structures: reading, space-group detection and standardization to the BCS setting.

The names are imported lazily: reading structures needs ASE's file readers (half a second to import),
which the group-theory commands that only need :mod:`nhm.crystal.setting` never use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["AtomOrbit", "Crystal", "read_crystal"]

if TYPE_CHECKING:
    from nhm.crystal.structure import AtomOrbit, Crystal, read_crystal


def __getattr__(name: str):
    if name in __all__:
        from nhm.crystal import structure

        return getattr(structure, name)
    raise AttributeError(f"module 'nhm.crystal' has no attribute {name!r}")
