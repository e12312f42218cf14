"""Periodic clusters of Bravais lattices: sites, the cluster k-mesh, neighbour shells and ε(k).

Conventions (used throughout :mod:`nhm.manybody`):

- Lengths are in units of the lattice constant a (the cubic edge for cubic and bcc lattices).
- A lattice point is R = n @ A with integer coordinates n and the rows of ``A`` the primitive vectors.
- A *cluster* is the torus Z^d / M Z^d: the rows L_i = M[i] of the integer *supercell matrix* M are the
  periodicity vectors in primitive coordinates, and N = |det M| sites remain.
- Its k-mesh holds the N wave vectors with e^{ik·L_i} = 1. A wave vector is stored exactly as an
  integer numerator κ with k = 2π (κ / D) @ B (B the reciprocal basis, b_i·a_j = δ_ij, D = |det M|),
  so e^{ik·R} = exp(2πi κ·n / D) is evaluated with integer arithmetic modulo D (no rounding).
- Site 0 is the origin and k-point 0 is Γ.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Sequence

import numpy as np

from nhm.errors import InputError

_SQ3 = float(np.sqrt(3.0))

#: primitive vectors (rows, Cartesian, units of a) of the lattices nhm knows
LATTICE_VECTORS: dict[str, tuple[tuple[float, ...], ...]] = {
    "chain": ((1.0,),),
    "square": ((1.0, 0.0), (0.0, 1.0)),
    "triangular": ((1.0, 0.0), (0.5, _SQ3 / 2)),
    "cubic": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    "bcc": ((-0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0.5, 0.5, -0.5)),
    "fcc": ((0.0, 0.5, 0.5), (0.5, 0.0, 0.5), (0.5, 0.5, 0.0)),
}


@dataclass(frozen=True)
class Lattice:
    """A Bravais lattice: its name and primitive vectors (rows of ``vectors``, units of a)."""

    name: str
    vectors: np.ndarray

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[0])

    def cartesian(self, n: np.ndarray) -> np.ndarray:
        """Cartesian positions (units of a) of integer lattice coordinates ``n`` (..., d)."""
        return np.asarray(n, dtype=float) @ self.vectors

    def shells(self, count: int = 3) -> list[np.ndarray]:
        """The first ``count`` neighbour shells: integer vectors d ≠ 0 grouped by |d| (ascending)."""
        reach = 4
        grid = np.array(list(itertools.product(range(-reach, reach + 1), repeat=self.dim)), dtype=np.int64)
        grid = grid[np.any(grid != 0, axis=1)]
        lengths = np.linalg.norm(self.cartesian(grid), axis=1)
        order = np.lexsort((*grid.T[::-1], lengths))
        grid, lengths = grid[order], lengths[order]
        shells: list[np.ndarray] = []
        start = 0
        while len(shells) < count and start < len(grid):
            stop = start + int(np.searchsorted(lengths[start:], lengths[start] + 1e-8))
            shells.append(grid[start:stop])
            start = stop
        return shells


def lattice(name: str) -> Lattice:
    """The lattice called ``name`` (chain, square, triangular, cubic, bcc, fcc)."""
    key = name.strip().lower()
    if key not in LATTICE_VECTORS:
        raise InputError(f"unknown lattice {name!r}; choose one of {', '.join(LATTICE_VECTORS)}")
    return Lattice(key, np.array(LATTICE_VECTORS[key], dtype=float))


def _adjugate(m: np.ndarray) -> np.ndarray:
    """Integer adjugate of a small integer matrix (adj M = det M · M⁻¹, exact)."""
    d = m.shape[0]
    if d == 1:
        return np.ones((1, 1), dtype=np.int64)
    adj = np.zeros_like(m)
    for i in range(d):
        for j in range(d):
            minor = np.delete(np.delete(m, i, axis=0), j, axis=1)
            adj[j, i] = (-1) ** (i + j) * round(np.linalg.det(minor))
    return adj


@dataclass(frozen=True)
class Cluster:
    """A periodic cluster: N sites of ``lattice`` on the torus defined by ``supercell``.

    ``sites`` (N, d) holds integer lattice coordinates, ``kpoints`` (N, d) the integer numerators κ of
    the allowed wave vectors (k = 2π κ/D in the reciprocal basis). Both are exact.
    """

    lattice: Lattice
    supercell: np.ndarray
    sites: np.ndarray
    kpoints: np.ndarray
    denominator: int
    _key_sign: int = field(repr=False, default=1)

    @property
    def n_sites(self) -> int:
        return int(self.sites.shape[0])

    @property
    def dim(self) -> int:
        return self.lattice.dim

    @cached_property
    def _adj(self) -> np.ndarray:
        return self._key_sign * _adjugate(self.supercell)

    def _site_key(self, n: np.ndarray) -> np.ndarray:
        # n ≡ n' on the torus  <=>  (n - n') adj(M) ≡ 0 (mod D); encode the residue as one integer
        res = np.mod(np.asarray(n, dtype=np.int64) @ self._adj, self.denominator)
        return res @ (self.denominator ** np.arange(self.dim, dtype=np.int64))

    @cached_property
    def _site_table(self) -> np.ndarray:
        table = np.full(self.denominator**self.dim, -1, dtype=np.int64)
        table[self._site_key(self.sites)] = np.arange(self.n_sites)
        return table

    def site_index(self, n: np.ndarray) -> np.ndarray:
        """Index of the cluster site equivalent to lattice coordinates ``n`` (..., d)."""
        return self._site_table[self._site_key(n)]

    def _k_key(self, kappa: np.ndarray) -> np.ndarray:
        res = np.mod(np.asarray(kappa, dtype=np.int64), self.denominator)
        return res @ (self.denominator ** np.arange(self.dim, dtype=np.int64))

    @cached_property
    def _k_table(self) -> np.ndarray:
        table = np.full(self.denominator**self.dim, -1, dtype=np.int64)
        table[self._k_key(self.kpoints)] = np.arange(self.n_sites)
        return table

    def k_index(self, kappa: np.ndarray) -> np.ndarray:
        """Index of the mesh point equal to numerators ``kappa`` modulo reciprocal vectors (−1: not on the mesh)."""
        kappa = np.asarray(kappa, dtype=np.int64)
        # κ must satisfy κ·L_i ≡ 0 (mod D) for every supercell row L_i, i.e. M κ ≡ 0 (mod D)
        on_mesh = np.all(np.mod(kappa @ self.supercell.T, self.denominator) == 0, axis=-1)
        return np.where(on_mesh, self._k_table[self._k_key(kappa)], -1)

    @cached_property
    def site_add(self) -> np.ndarray:
        """site_add[i, j]: index of R_i + R_j on the torus."""
        return self.site_index(self.sites[:, None, :] + self.sites[None, :, :])

    @cached_property
    def site_neg(self) -> np.ndarray:
        return self.site_index(-self.sites)

    @cached_property
    def k_add(self) -> np.ndarray:
        """k_add[i, j]: index of k_i + k_j modulo reciprocal lattice vectors."""
        return self.k_index(self.kpoints[:, None, :] + self.kpoints[None, :, :])

    @cached_property
    def k_neg(self) -> np.ndarray:
        """k_neg[i]: index of −k_i."""
        return self.k_index(-self.kpoints)

    @cached_property
    def phases(self) -> np.ndarray:
        """phases[k, R] = e^{ik·R} (exact integer arithmetic mod D before the exponential)."""
        num = np.mod(self.kpoints @ self.sites.T, self.denominator)
        return np.exp(2j * np.pi * num / self.denominator)

    @property
    def k_fractional(self) -> np.ndarray:
        """Wave vectors in reciprocal-lattice coordinates, reduced to [−1/2, 1/2)."""
        frac = self.kpoints / self.denominator
        return frac - np.floor(frac + 0.5)

    @property
    def k_cartesian(self) -> np.ndarray:
        """Wave vectors in Cartesian coordinates, units of 1/a (reduced as in :attr:`k_fractional`)."""
        recip = 2 * np.pi * np.linalg.inv(self.lattice.vectors).T
        return self.k_fractional @ recip

    @property
    def positions(self) -> np.ndarray:
        """Cartesian site positions (units of a)."""
        return self.lattice.cartesian(self.sites)

    def describe(self) -> str:
        rows = ";".join(",".join(str(int(x)) for x in row) for row in self.supercell)
        return f"{self.lattice.name} cluster of {self.n_sites} sites (supercell {rows})"

    def dispersion(self, hoppings: Sequence[float]) -> np.ndarray:
        """Band energies ε(k) on the mesh for hoppings t_s on shells s = 1, 2, ... (energy units of t).

        ε(k) = −Σ_s t_s Σ_{d ∈ shell s} e^{ik·d}: nearest-neighbour t, next-nearest t′, ...
        The lattice sum over all d is folded onto the torus, so tiny clusters count a neighbour that is
        reached through several periodic images once per image (the standard periodic convention).
        """
        eps = np.zeros(self.n_sites)
        for t, shell in zip(hoppings, self.lattice.shells(len(hoppings))):
            if t == 0.0:
                continue
            num = np.mod(self.kpoints @ shell.T, self.denominator)
            eps -= t * np.cos(2 * np.pi * num / self.denominator).sum(axis=1)
        return eps

    def neighbour_pairs(self, shell_index: int) -> tuple[np.ndarray, np.ndarray]:
        """(i, j) site indices for every site i and every vector d of shell ``shell_index`` (1 = nearest)."""
        shell = self.lattice.shells(shell_index)[shell_index - 1]
        i = np.repeat(np.arange(self.n_sites), len(shell))
        j = self.site_index(self.sites[:, None, :] + shell[None, :, :]).reshape(-1)
        return i, j


def _enumerate_box(dim: int, reach: int) -> np.ndarray:
    return np.array(list(itertools.product(range(-reach, reach + 1), repeat=dim)), dtype=np.int64)


def make_cluster(lat: Lattice | str, supercell: Sequence[Sequence[int]] | np.ndarray) -> Cluster:
    """The cluster of ``lat`` with periodicity vectors given by the rows of the integer ``supercell``."""
    lat = lattice(lat) if isinstance(lat, str) else lat
    m = np.asarray(supercell)
    if m.ndim != 2 or m.shape != (lat.dim, lat.dim):
        raise InputError(f"the supercell of a {lat.name} cluster must be a {lat.dim}×{lat.dim} integer matrix")
    if not np.all(np.equal(np.round(m), m)):
        raise InputError("the supercell matrix must have integer entries")
    m = np.round(m).astype(np.int64)
    det = round(float(np.linalg.det(m))) if lat.dim > 1 else int(m[0, 0])
    if det == 0:
        raise InputError("the supercell matrix is singular: it defines no finite cluster")
    n = abs(det)
    if n > 4096:
        raise InputError(f"a cluster of {n} sites is far beyond exact diagonalization")
    sign = 1 if det > 0 else -1
    cl = Cluster(lat, m, np.zeros((1, lat.dim), np.int64), np.zeros((1, lat.dim), np.int64), n, sign)
    # sites: the representative of each class nearest to the origin (then lexicographic), origin first
    reach = min(n, 12)
    box = _enumerate_box(lat.dim, reach)
    keys = cl._site_key(box)
    lengths = np.linalg.norm(lat.cartesian(box), axis=1)
    order = np.lexsort((*box.T[::-1], np.round(lengths, 9)))
    _, first = np.unique(keys[order], return_index=True)
    reps = box[order][np.sort(first)]
    if len(reps) != n:
        raise InputError(f"could not enumerate the {n} sites of supercell {m.tolist()}")
    # wave vectors: κ = sign · adj(M) m (mod D) for integer m, i.e. M κ/D integer
    mbox = np.array(list(itertools.product(range(n), repeat=lat.dim)), dtype=np.int64)
    kappa = np.mod(mbox @ (sign * _adjugate(m)).T, n)
    kappa = np.unique(kappa, axis=0)
    frac = kappa / n
    frac = frac - np.floor(frac + 0.5)
    k_len = np.linalg.norm(frac @ (2 * np.pi * np.linalg.inv(lat.vectors).T), axis=1)
    korder = np.lexsort((*kappa.T[::-1], np.round(k_len, 9)))
    kappa = kappa[korder]
    if len(kappa) != n:
        raise InputError(f"the k-mesh of supercell {m.tolist()} has {len(kappa)} points, expected {n}")
    return Cluster(lat, m, reps, kappa, n, sign)


def _hnf_matrices(dim: int, n: int) -> list[np.ndarray]:
    """All lower-triangular Hermite normal forms with determinant n (each sublattice of index n once)."""
    out: list[np.ndarray] = []
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    if dim == 1:
        return [np.array([[n]], dtype=np.int64)]
    if dim == 2:
        for a in divisors:
            c = n // a
            for b in range(a):  # entries left of the diagonal are reduced modulo that column's pivot
                out.append(np.array([[a, 0], [b, c]], dtype=np.int64))
        return out
    for a in divisors:
        for c in [d for d in divisors if (n // a) % d == 0]:
            f = n // (a * c)
            for b in range(a):
                for d_ in range(a):
                    for e in range(c):
                        out.append(np.array([[a, 0, 0], [b, c, 0], [d_, e, f]], dtype=np.int64))
    return out


def _superlattice_score(lat: Lattice, m: np.ndarray) -> tuple[float, int]:
    """(shortest periodicity vector, how many there are) of the superlattice spanned by the rows of m."""
    n = abs(round(float(np.linalg.det(m)))) if lat.dim > 1 else int(m[0, 0])
    reach = int(np.ceil(2 * n ** (1.0 / lat.dim))) + 2
    box = _enumerate_box(lat.dim, reach)
    box = box[np.any(box != 0, axis=1)]
    # n is a superlattice vector iff n M⁻¹ is integral, i.e. n adj(M) ≡ 0 (mod det M)
    member = np.all(np.mod(box @ _adjugate(m), n) == 0, axis=1)
    lengths = np.round(np.linalg.norm(lat.cartesian(box[member]), axis=1), 8)
    shortest = float(lengths.min())
    return shortest, int(np.sum(lengths == shortest))


def auto_cluster(lat: Lattice | str, n_sites: int) -> Cluster:
    """The most compact periodic cluster of ``n_sites`` sites of ``lat``.

    Among all sublattices of index N (Hermite normal forms), take the one whose shortest periodicity
    vector is longest (least self-interaction through the boundary), then the one with most such
    shortest vectors (most isotropic). E.g. 8 sites of the square lattice give the tilted cluster
    spanned by (4, 0) and (2, 2) (equivalently (2, 2), (2, −2)); a chain of N sites is the ring of N sites.
    """
    name = lat if isinstance(lat, str) else lat.name
    if isinstance(n_sites, bool) or not isinstance(n_sites, (int, np.integer)) or n_sites < 1:
        raise InputError(f"the number of sites must be a positive integer, got {n_sites!r}")
    if n_sites > 64:
        raise InputError(f"{n_sites} sites is far beyond exact diagonalization (at most 64 here, ≤ 16 in practice)")
    return _auto_cluster(lattice(name).name, int(n_sites))


@lru_cache(maxsize=64)
def _auto_cluster(name: str, n_sites: int) -> Cluster:
    lat = lattice(name)
    best: tuple[tuple[float, int], np.ndarray] | None = None
    for m in _hnf_matrices(lat.dim, n_sites):
        score = _superlattice_score(lat, m)
        if best is None or score > best[0]:
            best = (score, m)
    assert best is not None
    return make_cluster(lat, best[1])
