"""Points of symmetry: Bilbao's maximal k-vectors with their BCS names.

Coordinates are exact; ``conventional`` is in the conventional reciprocal basis (as BCS lists them),
``primitive`` in the reciprocal basis of the BCS primitive cell, ``k_p = P^T k_c`` with ``a_p = a_c P``.
The list includes KA, HA, ... where Bilbao lists them (groups without the symmetry relating k and -k).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from nhm.groups.seitz import Vec3
from nhm.groups.spacegroup import SpaceGroup, as_space_group


@dataclass(frozen=True)
class PointOfSymmetry:
    name: str
    conventional: Vec3
    primitive: Vec3
    little_cogroup_order: int

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "k_conventional": [str(x) for x in self.conventional],
            "k_primitive": [str(x) for x in self.primitive],
            "little_cogroup_order": self.little_cogroup_order,
        }


def conventional_to_primitive_k(group: SpaceGroup | int, k: Vec3) -> Vec3:
    """``k_p = P^T k_c``: conventional reciprocal coordinates to those of the BCS primitive cell (exact)."""
    p = as_space_group(group).primitive_transform
    return tuple(sum((p[j][i] * k[j] for j in range(3)), Fraction(0)) for i in range(3))  # type: ignore[return-value]


def points_of_symmetry(group: SpaceGroup | int, *, time_reversal: bool = False) -> tuple[PointOfSymmetry, ...]:
    """BCS's maximal k-vectors of ``group`` (a :class:`SpaceGroup` or its number), in BCS's order."""
    g = as_space_group(group)
    return tuple(
        PointOfSymmetry(kp.name, kp.k, conventional_to_primitive_k(g, kp.k), len(g.little_cogroup(kp.k)))
        for kp in g.bcs_table(False, time_reversal).kpoints
    )
