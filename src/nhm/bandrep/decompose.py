"""Symmetry vectors: decomposition into band representations and symmetry indicators.

A symmetry vector counts the irreps (co-reps with time reversal) of a set of bands at every maximal
k-vector, in BCS labels (its components: :class:`nhm.bandrep.basis.SymmetryBasis`). ``decompose`` writes it as a non-negative integer combination of elementary
band representations (scipy's MILP, fewest EBRs first); the symmetry-indicator group is the torsion
of Z^n / span(EBRs), read off the Smith normal form of the EBR matrix, and the indicator of a vector
is its image in that group (u b mod d_i, with u A v = diag(d)).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from nhm.bandrep.basis import symmetry_basis
from nhm.bandrep.ebr import EbrSet, elementary_band_representations
from nhm.bandrep.induce import BandRepresentation
from nhm.bandrep.smith import smith_normal_form
from nhm.errors import InputError
from nhm.groups.spacegroup import SpaceGroup, as_space_group


def ebr_matrix(group: SpaceGroup | int, double: bool, time_reversal: bool) -> np.ndarray:
    """Integer matrix whose columns are the EBRs' symmetry vectors."""
    return _ebr_matrix(as_space_group(group), double, time_reversal)


@cache
def _ebr_matrix(g: SpaceGroup, double: bool, time_reversal: bool) -> np.ndarray:
    ebrs = elementary_band_representations(g, double=double, time_reversal=time_reversal)
    basis = symmetry_basis(g, double, time_reversal)
    return np.array([basis.vector(br.multiplicities) for br in ebrs.band_representations], dtype=int).T


@dataclass(frozen=True)
class Decomposition:
    coefficients: tuple[tuple[BandRepresentation, int], ...]  # (EBR, how many times)

    def text(self) -> str:
        return " ⊕ ".join(
            f"{n}×" * (n > 1) + f"{br.site_irrep}@{br.wyckoff}" for br, n in self.coefficients
        )


def decompose(
    multiplicities: dict[str, dict[str, int]], group: SpaceGroup | int, *, double: bool = False, time_reversal: bool = False
) -> Decomposition | None:
    """A non-negative integer combination of EBRs equal to the symmetry vector (fewest EBRs), or None."""
    g = as_space_group(group)
    ebrs: EbrSet = elementary_band_representations(g, double=double, time_reversal=time_reversal)
    b = symmetry_basis(g, double, time_reversal).vector(multiplicities)
    a = _ebr_matrix(g, double, time_reversal)
    n = a.shape[1]
    res = milp(
        np.ones(n),
        constraints=[LinearConstraint(a, b, b)],
        integrality=np.ones(n),
        bounds=Bounds(0, np.inf),
    )
    if res.status != 0:
        return None
    x = np.rint(res.x).astype(int)
    return Decomposition(tuple((ebrs.band_representations[i], int(x[i])) for i in np.nonzero(x)[0]))


@cache
def _smith(g: SpaceGroup, double: bool, time_reversal: bool):
    return smith_normal_form(_ebr_matrix(g, double, time_reversal))


def indicator_group(group: SpaceGroup | int, *, double: bool = False, time_reversal: bool = True) -> tuple[int, ...]:
    """Orders of the cyclic factors of the symmetry-indicator group (empty: trivial)."""
    _, d, _ = _smith(as_space_group(group), double, time_reversal)
    return tuple(int(d[i, i]) for i in range(min(d.shape)) if int(d[i, i]) > 1)


def symmetry_indicators(
    multiplicities: dict[str, dict[str, int]], group: SpaceGroup | int, *, double: bool = False, time_reversal: bool = True
) -> tuple[int, ...]:
    """The vector's indicator values (one per cyclic factor of :func:`indicator_group`).

    Raises InputError if the vector is not in the rational span of the EBRs (it violates the
    compatibility relations: not a set of bands separated by gaps).
    """
    g = as_space_group(group)
    u, d, _ = _smith(g, double, time_reversal)
    b = symmetry_basis(g, double, time_reversal).vector(multiplicities).astype(object)
    y = u.dot(b)
    rank = sum(1 for i in range(min(d.shape)) if d[i, i] != 0)
    if any(y[i] != 0 for i in range(rank, len(y))):
        raise InputError("the symmetry vector is not in the span of the EBRs (compatibility relations violated)")
    return tuple(int(y[i] % d[i, i]) for i in range(rank) if int(d[i, i]) > 1)
