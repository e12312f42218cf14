"""The symmetry basis: the maximal k-vectors of a space group with their irreps (co-reps), side by side.

A symmetry vector counts the irreps (co-reps with time reversal) of a set of bands at every maximal
k-vector, in BCS labels and BCS's order of the k-vectors. :class:`SymmetryBasis` lays the little groups
of one setting (space group, single- or double-valued, with or without time reversal) next to each
other: the columns of a representation's characters at all maximal k at once (``operations``,
``kvectors``), and one block-diagonal ``projector`` that turns those characters into the symmetry
vector. Inducing a site representation and decomposing it is then one product per Wyckoff position
(:meth:`nhm.bandrep.induce.Induction.symmetry_characters`), not one per k-vector.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np

from nhm.errors import GroupTheoryError, InputError
from nhm.groups.irreps import LittleGroup, little_group
from nhm.groups.spacegroup import SpaceGroup, as_space_group

__all__ = ["SymmetryBasis", "symmetry_basis"]


@dataclass(frozen=True, eq=False)
class SymmetryBasis:
    """The (co-)irreps at the maximal k-vectors of one setting of a space group (see the module docstring)."""

    group: SpaceGroup
    double: bool
    time_reversal: bool
    kpoints: tuple[str, ...]  # BCS names, in BCS's order
    little_groups: tuple[LittleGroup, ...]
    labels: tuple[tuple[str, str], ...]  # (k name, irrep label): the components of a symmetry vector
    columns: tuple[slice, ...]  # per k-vector: its columns of the characters
    components: tuple[slice, ...]  # per k-vector: its components of the symmetry vector
    operations: np.ndarray  # (L,) the coset representative of each column (little co-groups, concatenated)
    kvectors: np.ndarray  # (L, 3) the k-vector of each column (conventional reciprocal basis, floats)
    projector: np.ndarray  # (L, n) block-diagonal: characters @ projector = multiplicities

    def multiplicities(self, characters: np.ndarray) -> np.ndarray:
        """Symmetry vectors (integers, one row per representation) of representations with these characters
        on all columns; GroupTheoryError if some k-vector's multiplicities are not non-negative integers."""
        m = np.asarray(characters) @ self.projector
        mi = np.rint(m.real)
        bad = (np.abs(m - mi) > 1e-6) | (mi < 0)
        if bad.any():
            for lg, part in zip(self.little_groups, self.components):
                if bad[..., part].any():
                    raise GroupTheoryError(
                        f"characters at {lg.name or lg.k} do not decompose into irreps: {np.round(m[..., part], 4)}"
                    )
        return mi.astype(int)

    def vector(self, multiplicities: dict[str, dict[str, int]]) -> np.ndarray:
        """The symmetry vector of ``{k name: {label: multiplicity}}`` (InputError for a label not in the basis)."""
        index = self._index
        v = np.zeros(len(self.labels), dtype=int)
        for k, labels in multiplicities.items():
            for label, m in labels.items():
                if (k, label) not in index:
                    raise InputError(f"{label!r} at {k!r} is not in the symmetry basis of this group")
                v[index[(k, label)]] += m
        return v

    @cached_property
    def _index(self) -> dict[tuple[str, str], int]:
        return {kl: i for i, kl in enumerate(self.labels)}

    def as_dict(self, vector: np.ndarray) -> dict[str, dict[str, int]]:
        """``{k name: {label: multiplicity}}`` of one symmetry vector: every k-vector, the labels that occur."""
        out: dict[str, dict[str, int]] = {k: {} for k in self.kpoints}
        for j in np.nonzero(vector)[0]:
            k, label = self.labels[j]
            out[k][label] = int(vector[j])
        return out


def symmetry_basis(group: SpaceGroup | int, double: bool, time_reversal: bool) -> SymmetryBasis:
    """The symmetry basis of ``group`` (a :class:`SpaceGroup` or its number) in one setting, cached."""
    return _basis(as_space_group(group), double, time_reversal)


@cache
def _basis(g: SpaceGroup, double: bool, time_reversal: bool) -> SymmetryBasis:
    kpoints = g.kpoint_names(double, time_reversal)
    lgs = tuple(little_group(g, k, double=double) for k in kpoints)
    labels, columns, components, blocks = [], [], [], []
    col = comp = 0
    for k, lg in zip(kpoints, lgs):
        reps = lg.coreps if time_reversal else lg.irreps
        labels.extend((k, r.label) for r in reps)
        columns.append(slice(col, col + lg.order))
        components.append(slice(comp, comp + len(reps)))
        blocks.append(lg.projector(time_reversal))
        col, comp = col + lg.order, comp + len(reps)
    projector = np.zeros((col, comp), dtype=complex)
    for c, p, block in zip(columns, components, blocks):
        projector[c, p] = block
    operations = np.array([i for lg in lgs for i in lg.indices], dtype=int)
    kvectors = np.repeat(np.array([[float(x) for x in lg.k] for lg in lgs]).reshape(-1, 3), [lg.order for lg in lgs], axis=0)
    return SymmetryBasis(
        g, double, time_reversal, kpoints, lgs, tuple(labels), tuple(columns), tuple(components),
        operations, kvectors, projector,
    )
