"""The 230 space groups in the BCS setting, as coset representatives with SU(2) lifts.

The coset representatives (one per rotation, modulo the centred lattice) and their lifts are BCS's own,
read from irreptables; the tests check that they are exactly spglib's operations for
``bcs_hall_number(n)`` (same rotation, translation equal modulo the lattice). Using BCS's translations
and lifts means our characters and BCS's refer to the very same group elements.

A :class:`SpaceGroup` is resolved once from its number (:func:`space_group`, cached: one object per
group) and then passed down: it carries its tables (BCS character tables, Wyckoff positions, the
primitive cell), so that the functions below it need not look the number up again. Entry points that
other layers call with a number accept either (:func:`as_space_group`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cache, cached_property
from math import lcm

import numpy as np

from nhm.crystal.setting import centering_vectors, check_space_group_number, primitive_transform
from nhm.errors import GroupTheoryError
from nhm.groups.bcs import BcsEbrData, BcsTable, bcs_ebrs, bcs_table
from nhm.groups.seitz import SeitzOp, Vec3, dot, is_integer_vector, vec_sub
from nhm.groups.wyckoff import WyckoffPosition, wyckoff_position, wyckoff_positions


DENOMINATOR = 24  # every BCS translation is a multiple of 1/24 (checked)
_BASE3 = 3 ** np.arange(9)  # a rotation's entries + 1 as the digits of its code


@dataclass(frozen=True, eq=False)
class SpaceGroup:
    number: int
    symbol: str
    operations: tuple[SeitzOp, ...]  # coset representatives of G/T, BCS translations and lifts
    centering: tuple[Vec3, ...]  # (0,0,0) first

    @cached_property
    def rotations(self) -> np.ndarray:
        """(n, 3, 3) integer rotations of the coset representatives (conventional basis)."""
        return np.array([op.rotation for op in self.operations], dtype=int)

    @cached_property
    def translations(self) -> np.ndarray:
        return np.array([[float(x) for x in op.translation] for op in self.operations])

    @cached_property
    def lifts(self) -> np.ndarray:
        return np.array([op.su2 for op in self.operations])

    @cached_property
    def _rotation_index(self) -> dict[tuple, int]:
        return {op.rotation: i for i, op in enumerate(self.operations)}

    @property
    def order(self) -> int:
        """Order of the point group |G/T|."""
        return len(self.operations)

    # --- the group's tables (each read once and cached by the module that reads it) ---

    def bcs_table(self, spinor: bool, time_reversal: bool) -> BcsTable:
        """BCS's character tables at the maximal k-vectors (of the grey group if ``time_reversal``)."""
        return bcs_table(self.number, spinor, time_reversal)

    def bcs_ebrs(self, spinor: bool, time_reversal: bool) -> BcsEbrData:
        """BCS's elementary band representations (of the grey group if ``time_reversal``)."""
        return bcs_ebrs(self.number, spinor, time_reversal)

    def kpoint_names(self, double: bool, time_reversal: bool) -> tuple[str, ...]:
        """BCS names of the maximal k-vectors, in the order of BCS's table (the grey group's if ``time_reversal``)."""
        return tuple(kp.name for kp in bcs_table(self.number, double, time_reversal).kpoints)

    @cached_property
    def wyckoff_positions(self) -> tuple[WyckoffPosition, ...]:
        """All Wyckoff positions, in letter order (the general position last)."""
        return wyckoff_positions(self.number)

    @cached_property
    def maximal_positions(self) -> tuple[WyckoffPosition, ...]:
        """The Wyckoff positions whose site-symmetry group is maximal (EBRs are induced from these)."""
        return tuple(w for w in self.wyckoff_positions if w.maximal)

    def wyckoff_position(self, letter: str) -> WyckoffPosition:
        """The position with this letter; ``"a"`` and ``"2a"`` are both accepted."""
        return wyckoff_position(self.number, letter)

    @property
    def primitive_transform(self) -> tuple[tuple[Fraction, ...], ...]:
        """P (exact) with ``a_p = a_c P`` for the BCS primitive cell."""
        return primitive_transform(self.number)

    def index_of_rotation(self, rotation) -> int:
        key = tuple(tuple(int(x) for x in row) for row in rotation)
        return self._rotation_index[key]

    def rotation_indices(self, rotations: np.ndarray) -> np.ndarray:
        """Indices of the coset representatives with these rotations (integer array ``(..., 3, 3)``), at once.

        A rotation is told by its entries (-1, 0 or 1 in the conventional basis) read as base-3 digits;
        GroupTheoryError if one is not a rotation of the group.
        """
        r = np.asarray(rotations).reshape(-1, 9)
        if r.size and (r.min() < -1 or r.max() > 1):
            raise GroupTheoryError(f"a rotation with entries outside -1, 0, 1 is not in space group {self.number}")
        index = self._rotation_lookup[(r + 1) @ _BASE3]
        if (index < 0).any():
            raise GroupTheoryError(f"a rotation is not in space group {self.number}")
        return index.reshape(np.shape(rotations)[:-2])

    @cached_property
    def _rotation_lookup(self) -> np.ndarray:
        lookup = np.full(3**9, -1, dtype=int)
        lookup[(self.rotations.reshape(-1, 9) + 1) @ _BASE3] = np.arange(self.order)
        return lookup

    def is_lattice_vector(self, v: Vec3) -> bool:
        return any(is_integer_vector(vec_sub(v, c)) for c in self.centering)

    def is_reciprocal_lattice_vector(self, g: Vec3) -> bool:
        return is_integer_vector(g) and all(dot(g, c).denominator == 1 for c in self.centering)

    def reduce(self, op: SeitzOp) -> tuple[int, Vec3, int]:
        """Write ``op`` as ``{E|delta} * sign * operations[i]``; returns ``(i, delta, sign)``.

        ``delta`` is a lattice vector (centring included) and ``sign`` is +1 or -1 according to
        whether the lift of ``op`` equals or is minus the canonical lift of ``operations[i]``.
        """
        i = self.index_of_rotation(op.rotation)
        ref = self.operations[i]
        delta = vec_sub(op.translation, ref.translation)
        if not self.is_lattice_vector(delta):
            raise GroupTheoryError(f"{op} is not an element of space group {self.number}")
        s = np.real(np.trace(op.su2 @ ref.su2.conj().T)) / 2
        if abs(abs(s) - 1) > 1e-6:
            raise GroupTheoryError(f"lift of {op} is not ±(canonical lift)")
        return i, delta, 1 if s > 0 else -1

    @cached_property
    def translations_int(self) -> np.ndarray:
        """Translations times DENOMINATOR, as exact integers (BCS translations are multiples of 1/24)."""
        t = np.array([[x * DENOMINATOR for x in op.translation] for op in self.operations])
        if any(x.denominator != 1 for x in t.ravel()):
            raise GroupTheoryError(f"translation of space group {self.number} not a multiple of 1/24")
        return t.astype(int)

    @cached_property
    def centering_int(self) -> np.ndarray:
        return np.array([[int(x * DENOMINATOR) for x in c] for c in self.centering], dtype=int)

    @cached_property
    def multiplication(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(table, delta, sign)``: ops[i] @ ops[j] = {E|delta[i,j]} * sign[i,j] * ops[table[i,j]].

        ``delta`` is returned as float (exact multiples of 1/24) lattice vectors; computed with
        integer arithmetic over the common denominator 24.
        """
        rots, tr = self.rotations, self.translations_int
        n = self.order
        table = self.rotation_indices(np.einsum("iab,jbc->ijac", rots, rots))
        delta = np.einsum("iab,jb->ija", rots, tr) + tr[:, None, :] - tr[table]
        # every delta must be a lattice vector: integer after removing some centring vector
        ok = np.zeros((n, n), dtype=bool)
        for c in self.centering_int:
            ok |= np.all((delta - c) % DENOMINATOR == 0, axis=-1)
        if not ok.all():
            raise GroupTheoryError(f"coset representatives of space group {self.number} do not close")
        lifts = self.lifts
        prod_u = np.einsum("iab,jbc->ijac", lifts, lifts)
        s = np.real(np.einsum("ijab,ijab->ij", prod_u, lifts[table].conj())) / 2
        if np.max(np.abs(np.abs(s) - 1)) > 1e-6:
            raise GroupTheoryError(f"SU(2) lifts of space group {self.number} do not close")
        return table, delta / DENOMINATOR, np.where(s > 0, 1, -1)

    @cached_property
    def inverse_index(self) -> np.ndarray:
        """(order,) index of the coset representative of each one's inverse (rotation part; mod lattice)."""
        table, _, _ = self.multiplication
        return np.argmax(table == self.index_of_rotation(((1, 0, 0), (0, 1, 0), (0, 0, 1))), axis=1)

    def conjugates(self, a: int, hs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``ops[a]^-1 ops[h] ops[a] = {E|delta} * sign * ops[index]`` for every h in ``hs`` (vectorized, exact)."""
        hs = np.asarray(hs, dtype=int)
        ra = self.rotations[a]
        ra_inv = self.rotations[self.inverse_index[a]]
        index = self.rotation_indices(np.einsum("ij,hjk,kl->hil", ra_inv, self.rotations[hs], ra))
        ta, th = self.translations_int[a], self.translations_int[hs]
        t = np.einsum("ij,hj->hi", ra_inv, np.einsum("hij,j->hi", self.rotations[hs], ta) + th - ta)
        delta = t - self.translations_int[index]
        u = np.einsum("ji,hjk,kl->hil", self.lifts[a].conj(), self.lifts[hs], self.lifts[a])
        s = np.real(np.einsum("hab,hab->h", u, self.lifts[index].conj())) / 2
        return index, delta / DENOMINATOR, np.where(s > 0, 1, -1)

    def kvector_images(self, k: Vec3, target: Vec3) -> np.ndarray:
        """Boolean mask over the coset representatives: which map k to ``target`` (mod the reciprocal lattice).

        {R|t} maps the Bloch vector k to R^-T k, and ``R^-T k = target`` iff ``k = R^T target``; exact
        integer arithmetic over the common denominator of k and target.
        """
        den = lcm(*(x.denominator for x in (*k, *target)))
        kk = np.array([int(x * den) for x in k], dtype=np.int64)
        tt = np.array([int(x * den) for x in target], dtype=np.int64)
        diff = np.einsum("nji,j->ni", self.rotations, tt) - kk  # R^T target - k, times den
        ok = np.all(diff % den == 0, axis=1)
        # a reciprocal lattice vector also has integer products with the centring vectors
        for c in self.centering_int[1:]:
            ok &= (diff @ c) % (den * DENOMINATOR) == 0
        return ok

    def little_cogroup(self, k: Vec3) -> tuple[int, ...]:
        """Indices of the coset representatives whose rotation leaves k invariant (exactly)."""
        return tuple(int(i) for i in np.nonzero(self.kvector_images(k, k))[0])

    def minus_k_operations(self, k: Vec3) -> tuple[int, ...]:
        """Indices of the operations that map k to -k (these, times T, are in the magnetic little group)."""
        mk = (-k[0], -k[1], -k[2])
        return tuple(int(i) for i in np.nonzero(self.kvector_images(k, mk))[0])

    def point_images(self, q: Vec3) -> tuple[int, np.ndarray, np.ndarray]:
        """``(den, x, images)``: the point ``q = x / den`` and its images ``{R|t} q = images[h] / den`` under
        every coset representative, as exact integers over one denominator (a multiple of 24)."""
        den = lcm(DENOMINATOR, *(c.denominator for c in q))
        x = np.array([int(c * den) for c in q], dtype=np.int64)
        images = self.rotations @ x + self.translations_int * (den // DENOMINATOR)
        return den, x, images

    def lattice_mask(self, v: np.ndarray, den: int) -> np.ndarray:
        """Which of the vectors ``v / den`` (integers, last axis of length 3; ``den`` a multiple of 24)
        are lattice vectors, centring translations included."""
        ok = np.zeros(v.shape[:-1], dtype=bool)
        for c in self.centering_int * (den // DENOMINATOR):
            ok |= np.all((v - c) % den == 0, axis=-1)
        return ok

    def site_stabilizer(self, q: Vec3) -> tuple[SeitzOp, ...]:
        """The site-symmetry group of point q: the ops {R|t+n} (n in the lattice) with R q + t + n = q."""
        den, x, images = self.point_images(q)
        d = x - images  # q - {R|t} q, times den
        t = self.translations_int * (den // DENOMINATOR) + d  # the stabilizing translations t + n, times den
        out = []
        for i in np.nonzero(self.lattice_mask(d, den))[0]:
            op = self.operations[i]
            out.append(SeitzOp(op.rotation, tuple(Fraction(int(c), den) for c in t[i]), op.su2))  # type: ignore[arg-type]
        return tuple(out)


def space_group(number: int) -> SpaceGroup:
    """Space group ``number`` in the BCS setting: one object per group (cached), whatever form the number takes."""
    return _space_group(check_space_group_number(number))


@cache
def _space_group(n: int) -> SpaceGroup:
    scalar = bcs_table(n, False, False)
    spin = bcs_table(n, True, False)
    lifts = {op.rotation: op.su2 for op in spin.operations}
    ops = tuple(
        SeitzOp(op.rotation, op.translation, np.asarray(lifts[op.rotation], dtype=complex))
        for op in scalar.operations
    )
    return SpaceGroup(n, scalar.name, ops, centering_vectors(n))


def as_space_group(group: SpaceGroup | int) -> SpaceGroup:
    """``group`` itself, or the space group of that number: where a number from another layer is resolved."""
    return group if isinstance(group, SpaceGroup) else space_group(group)
