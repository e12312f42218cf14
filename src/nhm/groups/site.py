"""Site-symmetry groups, their (double-valued) irreps and co-representations, and Wyckoff orbits.

A site-symmetry group G_q = {g in G : g q = q} is finite and isomorphic to its point group; its
double-valued irreps are projective irreps of that point group with the factor system of the canonical
SU(2) lifts. With time reversal (which fixes every site), irreps pair by the Herring test with the
antiunitary elements g T, g in G_q (science.md §2.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np

from nhm.errors import GroupTheoryError
from nhm.groups.irreps import Reality
from nhm.groups.projective import projective_irreps
from nhm.groups.seitz import SeitzOp, Vec3, vec_sub
from nhm.groups.spacegroup import DENOMINATOR, SpaceGroup


@dataclass(frozen=True)
class SiteIrrep:
    """An irrep (or, with time reversal, a co-rep) of a site-symmetry group."""

    name: str
    dimension: int
    characters: np.ndarray  # on SiteGroup.operations (canonical lifts)
    kind: Reality = "alone"
    components: tuple[int, ...] = ()


@dataclass(frozen=True, eq=False)
class SiteGroup:
    space_group: SpaceGroup
    point: Vec3  # exact, conventional coordinates
    operations: tuple[SeitzOp, ...]  # each fixes ``point`` exactly
    coset_indices: tuple[int, ...]  # their indices among the space group's coset representatives

    @property
    def order(self) -> int:
        return len(self.operations)

    @cached_property
    def conjugation_table(self) -> tuple[np.ndarray, np.ndarray]:
        """``(index, sign)``: x^-1 k x = sign * operations[index[k, x]] (lift sign vs the canonical lift)."""
        rots = np.array([op.rotation for op in self.operations], dtype=int)
        lifts = np.array([op.su2 for op in self.operations])
        rinv = np.rint(np.linalg.inv(rots)).astype(int)
        conj = np.einsum("xij,kjl,xlm->kxim", rinv, rots, rots)
        keys = {tuple(r.ravel()): n for n, r in enumerate(rots)}
        index = np.array([[keys[tuple(c.ravel())] for c in row] for row in conj])
        u = np.einsum("xji,kjl,xlm->kxim", lifts.conj(), lifts, lifts)
        s = np.real(np.einsum("kxab,kxab->kx", u, lifts[index].conj())) / 2
        return index, np.where(s > 0, 1, -1)

    @cached_property
    def _multiplication(self) -> tuple[np.ndarray, np.ndarray]:
        g = self.space_group
        table, _, sign = g.multiplication
        idx = np.array(self.coset_indices)
        pos = np.full(g.order, -1)
        pos[idx] = np.arange(len(idx))
        return pos[table[idx][:, idx]], sign[idx][:, idx]

    def irreps(self, double: bool) -> tuple[SiteIrrep, ...]:
        return self._irreps[double]

    @cached_property
    def _irreps(self) -> dict[bool, tuple[SiteIrrep, ...]]:
        out = {}
        prod, sign = self._multiplication
        rots = self.space_group.rotations[list(self.coset_indices)]
        for double in (False, True):
            omega = sign.astype(complex) if double else np.ones(sign.shape, dtype=complex)
            mats = projective_irreps(rots, omega, prod)  # validated there
            chars = [np.trace(m, axis1=1, axis2=2) for m in mats]
            # deterministic order: by dimension, then by the characters themselves
            chars.sort(key=lambda c: (round(c[0].real), *np.round(-c.real, 6), *np.round(-c.imag, 6)))
            out[double] = tuple(
                SiteIrrep(f"{'-' if double else ''}rho{n + 1}", round(c[0].real), c, "alone", (n,))
                for n, c in enumerate(chars)
            )
        return out

    def coreps(self, double: bool) -> tuple[SiteIrrep, ...]:
        """Physically irreducible site representations (time reversal T, T^2 = -1 on spinors)."""
        if double not in self._coreps:
            self._coreps[double] = self._build_coreps(double)
        return self._coreps[double]

    @cached_property
    def _coreps(self) -> dict[bool, tuple[SiteIrrep, ...]]:
        return {}  # filled by coreps(), one setting at a time

    def _build_coreps(self, double: bool) -> tuple[SiteIrrep, ...]:
        irreps = self.irreps(double)
        prod, sign = self._multiplication
        sq = np.array([prod[i, i] for i in range(self.order)])
        eps = -np.diag(sign) if double else np.ones(self.order)
        out: list[SiteIrrep] = []
        used: set[int] = set()
        for n, ir in enumerate(irreps):
            if n in used:
                continue
            w = np.sum(eps * ir.characters[sq]) / self.order
            wi = round(w.real)
            if abs(w - wi) > 1e-6:
                raise GroupTheoryError(f"site Herring sum {w} is not an integer")
            if wi == 1:
                comps, kind = (n,), "alone"
            elif wi == -1:
                comps, kind = (n, n), "doubled"
            else:
                partner = [m for m, o in enumerate(irreps) if np.max(np.abs(o.characters - ir.characters.conj())) < 1e-6]
                if len(partner) != 1 or partner[0] == n:
                    raise GroupTheoryError("site irrep without time-reversal partner")
                comps, kind = (n, partner[0]), "paired"
            used.update(comps)
            chars = sum(irreps[c].characters for c in comps)
            name = "".join(irreps[c].name.lstrip("-") for c in comps)
            out.append(SiteIrrep(("-" if double else "") + name, round(chars[0].real), chars, kind, comps))  # type: ignore[arg-type]
        return tuple(out)


def site_group(g: SpaceGroup, q: Vec3) -> SiteGroup:
    ops = g.site_stabilizer(q)
    return SiteGroup(g, q, ops, tuple(g.index_of_rotation(op.rotation) for op in ops))


def reduce_mod_lattice(g: SpaceGroup, x: Vec3) -> Vec3:
    """A canonical representative of x modulo the (centred) lattice: the smallest in [0,1)^3 order."""
    cands = []
    for c in g.centering:
        y = vec_sub(x, c)
        cands.append(tuple(v - (v.numerator // v.denominator) for v in y))
    return min(cands)  # type: ignore[return-value]


def orbit(g: SpaceGroup, q: Vec3) -> tuple[tuple[Vec3, ...], tuple[SeitzOp, ...]]:
    """Orbit points q_alpha (mod the centred lattice, q_1 = q) and ops g_alpha with g_alpha q = q_alpha exactly.

    The images of q under the coset representatives, in their order, keep the first of each class mod
    the centred lattice (the class is told by :func:`reduce_mod_lattice`'s representative, in integers).
    """
    den, _, images = g.point_images(q)
    reduced = [np.mod(images - c, den) for c in g.centering_int * (den // DENOMINATOR)]
    points: list[Vec3] = []
    keys: set = set()
    ops: list[SeitzOp] = []
    for h, op in enumerate(g.operations):
        key = min(tuple(r[h].tolist()) for r in reduced)
        if key in keys:
            continue
        keys.add(key)
        points.append(tuple(Fraction(int(x), den) for x in images[h]))  # type: ignore[arg-type]
        ops.append(op)
    return tuple(points), tuple(ops)


def induced_site_characters(small: SiteGroup, big: SiteGroup, characters: np.ndarray, double: bool) -> np.ndarray:
    """Characters of Ind_H^K of a (projective) rep of H = ``small`` in K = ``big`` (H ⊂ K, same point fixed).

    Frobenius: chi(k) = (1/|H|) sum_{x in K} chi_H(x^-1 k x) [x^-1 k x in H], with the lift sign of
    x^-1 k x relative to the canonical lift of its rotation on spinors. Site-group elements are
    identified by their rotations (a site group is isomorphic to its point group).
    """
    index, sign = big.conjugation_table
    pos = {op.rotation: n for n, op in enumerate(big.operations)}
    in_small = np.full(big.order, -1)
    for n, op in enumerate(small.operations):
        in_small[pos[op.rotation]] = n
    member = in_small[index]  # (k, x): position in H of x^-1 k x, or -1
    vals = np.where(member >= 0, characters[np.maximum(member, 0)], 0)
    if double:
        vals = vals * sign
    return vals.sum(axis=1) / small.order
