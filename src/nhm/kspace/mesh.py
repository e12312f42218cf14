"""The Γ-centred k mesh of the BCS primitive cell, its stars under the point group, and time reversal.

Mesh points are ``k_p = (j1/n1, j2/n2, j3/n3)`` in the reciprocal basis of the BCS primitive cell
(``a_p = a_c P``, ``k_p = Pᵀ k_c``), ``0 ≤ j_i < n_i``, flattened row-major. A coset representative
{R|t} maps k to R⁻ᵀk; in the primitive basis that is the integer matrix ``M = (P⁻¹ R P)⁻ᵀ``, so the
image of a mesh point is computed exactly, in integers, modulo the mesh. A mesh is accepted only if
(i) every M maps it onto itself (always true for n1 = n2 = n3; checked for unequal divisions) and
(ii) every point of symmetry of the group lies on it (bcc needs n divisible by 4 because of
P = (1/4, 1/4, 1/4)_p; hexagonal groups need 6 | n for K and A).

Lengths are in units of the lattice constant a; Cartesian k in units of 1/a **without** the 2π
(``k·r`` phases are ``2π k_cart·r``); the Cartesian frame is the frame of the BCS spin lifts
(:mod:`nhm.kspace.spin`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from math import lcm

import numpy as np

from nhm.crystal.setting import primitive_transform
from nhm.errors import InputError
from nhm.groups.exact import inverse
from nhm.groups.kpoints import points_of_symmetry
from nhm.groups.seitz import Vec3
from nhm.groups.spacegroup import SpaceGroup, space_group
from nhm.kspace.spin import lift_frame_lattice

IDENTITY = ((1, 0, 0), (0, 1, 0), (0, 0, 1))


def _frac_array(m) -> np.ndarray:
    return np.array([[Fraction(x) for x in row] for row in m], dtype=object)


def _frac_inverse(m: np.ndarray) -> np.ndarray:
    """Exact inverse of a matrix of Fractions, as an object array."""
    return np.array(inverse(m.tolist()), dtype=object)


def _as_int(m: np.ndarray, what: str) -> np.ndarray:
    if any(Fraction(x).denominator != 1 for x in m.ravel()):
        raise ValueError(f"{what} is not an integer matrix")
    return np.array([[int(x) for x in row] for row in m], dtype=np.int64)


@dataclass(frozen=True, eq=False)
class KMesh:
    """Γ-centred mesh with its symmetry tables (build with :func:`make_mesh`).

    ``image[i, m]``: index of the image of mesh point m under coset representative i;
    ``minus[m]``: index of −k_m; ``star_rep[m]``: smallest index in the star of m;
    ``star_op[m]``: the first coset representative i with ``image[i, star_rep[m]] == m`` (the identity
    for the representative itself); ``lattice``: conventional lattice vectors as columns (units of a).
    """

    space_group: int
    divisions: tuple[int, int, int]
    lattice: np.ndarray
    indices: np.ndarray  # (N, 3) integer j
    image: np.ndarray  # (order, N)
    minus: np.ndarray  # (N,)
    star_rep: np.ndarray  # (N,)
    star_op: np.ndarray  # (N,)
    k_to_cart: np.ndarray  # 3×3: k_cart = k_to_cart @ k_p
    p_to_conv: np.ndarray  # 3×3 exact (object, Fractions): k_c = p_to_conv @ k_p
    notes: tuple[str, ...] = field(default=())

    @property
    def size(self) -> int:
        return len(self.indices)

    @cached_property
    def group(self) -> SpaceGroup:
        return space_group(self.space_group)

    @cached_property
    def k_primitive(self) -> np.ndarray:
        """(N, 3) float primitive coordinates in [0, 1)."""
        return self.indices / np.array(self.divisions, dtype=float)

    @cached_property
    def k_cartesian(self) -> np.ndarray:
        """(N, 3) Cartesian k (units 1/a, no 2π) of the points as stored (primitive coordinates in [0, 1))."""
        return self.k_primitive @ self.k_to_cart.T

    @cached_property
    def k_cartesian_bz(self) -> np.ndarray:
        """(N, 3) Cartesian k folded into the first Brillouin zone (the shortest translate)."""
        shifts = np.array(np.meshgrid(*(range(-2, 2),) * 3, indexing="ij")).reshape(3, -1).T
        cand = (self.k_primitive[:, None, :] + shifts[None, :, :]) @ self.k_to_cart.T
        best = np.argmin(np.round(np.linalg.norm(cand, axis=2), 9), axis=1)
        return cand[np.arange(self.size), best]

    def nearest_index(self, k_cart: np.ndarray) -> np.ndarray:
        """Mesh indices of the mesh points nearest to Cartesian k (..., 3) (rounding in the primitive basis)."""
        kp = np.asarray(k_cart, dtype=float) @ np.linalg.inv(self.k_to_cart).T
        div = np.array(self.divisions)
        j = np.rint(kp * div).astype(int) % div
        return (j[..., 0] * div[1] + j[..., 1]) * div[2] + j[..., 2]

    def k_conventional(self, m: int) -> Vec3:
        """Exact conventional coordinates of mesh point m (from its primitive coordinates in [0, 1))."""
        kp = [Fraction(int(j), n) for j, n in zip(self.indices[m], self.divisions)]
        return tuple(sum((self.p_to_conv[i][a] * kp[a] for a in range(3)), Fraction(0)) for i in range(3))  # type: ignore[return-value]

    def index_of(self, k_primitive) -> int:
        """Mesh index of an exact (or float) primitive k that lies on the mesh (any translate)."""
        j = [Fraction(x) * n for x, n in zip(k_primitive, self.divisions)]
        if any(Fraction(x).denominator != 1 for x in j):
            raise InputError(f"k = {tuple(str(x) for x in k_primitive)} is not on the {self.label} mesh")
        j = [int(x) % n for x, n in zip(j, self.divisions)]
        n1, n2, n3 = self.divisions
        return (j[0] * n2 + j[1]) * n3 + j[2]

    @property
    def label(self) -> str:
        n1, n2, n3 = self.divisions
        return f"{n1}³" if n1 == n2 == n3 else f"{n1}×{n2}×{n3}"

    @cached_property
    def cogroup_mask(self) -> np.ndarray:
        """(order, N) bool: coset representative i leaves mesh point m invariant (mod the reciprocal lattice)."""
        return self.image == np.arange(self.size)[None, :]

    @cached_property
    def cogroup_order(self) -> np.ndarray:
        return self.cogroup_mask.sum(axis=0)

    @cached_property
    def representatives(self) -> np.ndarray:
        """Indices of the star representatives, ascending."""
        return np.nonzero(self.star_rep == np.arange(self.size))[0]

    @cached_property
    def partner_rep(self) -> np.ndarray:
        """(N,): representative of the star of −k for the star of each point."""
        return self.star_rep[self.minus[self.star_rep]]

    @cached_property
    def primary(self) -> np.ndarray:
        """(N,) bool: the point's star is the one of the pair (star, −star) with the smaller representative.

        Fields are constructed on primary stars and copied to the others by time reversal.
        """
        return self.star_rep <= self.partner_rep

    @cached_property
    def time_reversed(self) -> np.ndarray:
        """(N,) bool: F at this point is the time reverse σ_y F(−k)* σ_y of F at −k, not a star image.

        True on the partner stars, and on the half of a star that contains −k (the member with the larger
        index of each pair k, −k; time-reversal-invariant points excluded). In such a star the
        star-operation gauge alone can contradict F(−k) = σ_y F(k)* σ_y by a sign (non-centrosymmetric
        groups, e.g. P-42m); fixing the spatial phase at −k by time reversal removes that freedom, and
        the star relations then hold up to the spatial phase (what they mean for α ∉ G_k).
        Representatives are never time-reversed (they are the smallest index of their star)."""
        idx = np.arange(self.size)
        own = self.partner_rep == self.star_rep
        return (~self.primary) | (own & (self.minus < idx))

    @cached_property
    def neighbours(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(steps, weights, table)``: finite-difference vectors b (integer mesh steps), their weights
        w_b with Σ_b w_b b_i b_j = δ_ij (b in Cartesian units 1/a *with* 2π, so Σ w_b ‖ΔF‖² is in a²),
        and ``table[m, b]`` the mesh index of k_m + b. Shells are added by distance as in
        Marzari–Vanderbilt until the condition holds; shells are invariant under the point group."""
        return _shells(self)


def _axis_steps(space_group_number: int) -> tuple[int, int, int]:
    """Per primitive axis, the lcm of the denominators of the points of symmetry's coordinates."""
    pts = points_of_symmetry(space_group(space_group_number).number)
    return tuple(lcm(1, *(pt.primitive[a].denominator for pt in pts)) for a in range(3))  # type: ignore[return-value]


def mesh_step(space_group_number: int) -> int:
    """The smallest n such that the n×n×n mesh holds every point of symmetry of the group (the lcm of
    the denominators of their primitive coordinates): admissible meshes are the multiples of it."""
    return lcm(*_axis_steps(space_group_number))


def default_divisions(space_group_number: int, target: int = 16) -> int:
    """The admissible n nearest to ``target`` from above (16 for cubic groups, 18 for hexagonal ones)."""
    step = mesh_step(space_group_number)
    return step * max(1, -(-target // step))


def make_mesh(space_group_number: int, divisions: int | tuple[int, int, int], lattice: np.ndarray | None = None) -> KMesh:
    """The Γ-centred mesh ``divisions`` (n or (n1, n2, n3)) of the BCS primitive cell, with its tables.

    Raises InputError if a division is < 1, if the mesh is not invariant under the point group, or if a
    point of symmetry is not on it (the message names the point and the divisions that would work).
    """
    g = space_group(space_group_number)
    div = (divisions,) * 3 if isinstance(divisions, int | np.integer) else tuple(int(x) for x in divisions)
    if len(div) != 3 or min(div) < 1:
        raise InputError(f"mesh divisions must be positive integers, got {divisions!r}")
    lat = lift_frame_lattice(g.number) if lattice is None else np.asarray(lattice, dtype=float)
    if lat.shape != (3, 3) or abs(np.linalg.det(lat)) < 1e-9:
        raise InputError("lattice must be a non-singular 3×3 matrix (conventional vectors as columns)")
    p = _frac_array(primitive_transform(g.number))
    p_inv = _frac_inverse(p)
    # k_c = P^-T k_p
    p_to_conv = _frac_inverse(p.T)
    mats = []
    for op in g.operations:
        r = _frac_array(op.rotation)
        rp = p_inv.dot(r).dot(p)
        mats.append(_as_int(_frac_inverse(rp).T, "R_p^-T"))
    mats = np.array(mats)
    n = np.array(div, dtype=np.int64)
    # (i) invariance of the mesh: M diag(1/n) e_b must lie on the mesh
    scaled = mats * n[None, :, None]  # M_ab * n_a
    if np.any(scaled % n[None, None, :] != 0):
        raise InputError(
            f"the {div[0]}×{div[1]}×{div[2]} mesh is not invariant under the point group of space group "
            f"{g.number}: use divisions related by the group's symmetry (e.g. equal ones)"
        )
    # (ii) points of symmetry on the mesh
    missing = [
        f"{pt.name} = ({', '.join(str(x) for x in pt.primitive)})"
        for pt in points_of_symmetry(g.number)
        if any((x * ni).denominator != 1 for x, ni in zip(pt.primitive, div))
    ]
    if missing:
        need = _axis_steps(g.number)
        hint = lcm(*need) if div[0] == div[1] == div[2] else "×".join(str(x) for x in need)
        raise InputError(
            f"the {div[0]}×{div[1]}×{div[2]} mesh misses the point(s) of symmetry {', '.join(missing)} "
            f"(primitive coordinates) of space group {g.number}: use divisions that are multiples of {hint}"
        )
    grid = np.stack(np.meshgrid(*(np.arange(x) for x in div), indexing="ij"), axis=-1).reshape(-1, 3)
    # image j' = n * M (j / n) mod n, exact: (M_ab n_a / n_b) j_b
    mj = np.einsum("iab,nb->ina", scaled // n[None, None, :], grid) % n
    image = (mj[..., 0] * div[1] + mj[..., 1]) * div[2] + mj[..., 2]
    neg = (-grid) % n
    minus = (neg[:, 0] * div[1] + neg[:, 1]) * div[2] + neg[:, 2]
    star_rep = image.min(axis=0)
    N = len(grid)
    hits = image[:, star_rep] == np.arange(N)[None, :]
    star_op = np.argmax(hits, axis=0)
    ident = g.index_of_rotation(IDENTITY)
    star_op[star_rep == np.arange(N)] = ident
    conv_float = np.array([[float(x) for x in row] for row in p_to_conv])
    k_to_cart = np.linalg.inv(lat).T @ conv_float
    return KMesh(g.number, div, lat, grid, image, minus, star_rep, star_op, k_to_cart, p_to_conv)


def _shells(mesh: KMesh) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.arange(-3, 4)
    steps = np.stack(np.meshgrid(rng, rng, rng, indexing="ij"), axis=-1).reshape(-1, 3)
    steps = steps[np.any(steps != 0, axis=1)]
    b = 2 * np.pi * (steps / np.array(mesh.divisions)) @ mesh.k_to_cart.T
    length = np.linalg.norm(b, axis=1)
    order = np.argsort(length, kind="stable")
    steps, b, length = steps[order], b[order], length[order]
    shells: list[np.ndarray] = []
    start = 0
    while start < len(length):
        stop = start
        while stop < len(length) and length[stop] - length[start] < 1e-8 * length[start]:
            stop += 1
        shells.append(np.arange(start, stop))
        start = stop
    target = np.eye(3)[np.triu_indices(3)]
    chosen: list[np.ndarray] = []
    weights = None
    for sh in shells[:12]:
        trial = chosen + [sh]
        a = np.array([np.einsum("bi,bj->ij", b[s], b[s])[np.triu_indices(3)] for s in trial]).T
        w, *_ = np.linalg.lstsq(a, target, rcond=None)
        if np.linalg.matrix_rank(a, tol=1e-8) < len(trial):
            continue  # this shell adds nothing independent
        chosen = trial
        if np.max(np.abs(a @ w - target)) < 1e-8:
            weights = w
            break
    if weights is None:
        raise InputError(f"no finite-difference shells satisfy the completeness condition on the {mesh.label} mesh")
    sel = np.concatenate(chosen)
    wb = np.concatenate([np.full(len(s), wi) for s, wi in zip(chosen, weights)])
    st = steps[sel]
    n = np.array(mesh.divisions)
    j = (mesh.indices[:, None, :] + st[None, :, :]) % n
    table = (j[..., 0] * n[1] + j[..., 1]) * n[2] + j[..., 2]
    return st, wb, table
