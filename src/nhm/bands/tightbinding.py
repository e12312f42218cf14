"""A small Slater–Koster tight-binding layer: lattice, s/p/d orbitals, H(k), bands, Bloch states, irreps.

Models produce the same data as DFT (:class:`nhm.bands.bloch.BlochLevel`: point of symmetry, energy in
eV, BCS irrep label, dimension), so Krüger's classifier and nhm.kspace work on them unchanged.

Conventions.
- Geometry: the BCS conventional cell, lattice vectors as the COLUMNS of ``lattice`` (Å, or units of a)
  in a Cartesian frame; atoms at exact conventional fractional coordinates, one entry per atom of the
  primitive cell (centring copies omitted). k in the conventional reciprocal basis, phases 2πi k·x.
- Orbitals: real spherical harmonics with equal norms on the unit sphere: s = 1; p = (x, y, z);
  d = (√3 xy, √3 yz, √3 zx, (√3/2)(x² − y²), (3z² − r²)/2), named s, px, py, pz, dxy, dyz, dzx,
  dx2-y2, dz2 (the real harmonics of Slater & Koster, same normalisation and signs). The rotation
  matrices of a WHOLE shell, D^l(R)_ij = ⟨Y_i|P(R)Y_j⟩/⟨Y_i|Y_i⟩ (P(R)f(r) = f(R⁻¹r), proper and
  improper R), are exact and need no table: D^0 = 1; D^1(R) = R⁻ᵀ (= R for orthogonal R), since
  p_j(R⁻¹r) = (R⁻ᵀ e_j)·r; for d, writing Y_j(r) = rᵀA_j r with symmetric traceless A_j (mutually
  orthogonal, tr A_j² = 3/2), D^2(R)_ij = tr(A_i R⁻ᵀA_j R⁻¹) / tr(A_i²).
- Partial shells (e.g. only pz on a site). Hamiltonian matrix elements between kept orbitals are
  whole-shell blocks restricted to the kept rows and columns: exact, whatever is kept. The symmetry
  P(g) acts on a site's kept orbitals through the restricted D^l(α), which is a representation only
  if every operation maps the kept orbitals of atom κ onto the kept orbitals of its image κ′ (the
  restriction is then orthogonal). pz alone on a site whose site group maps z onto ±z (the 2d site
  of P6/mmm) passes; px alone on a 4-fold axis along z does not, and such a model could not have the
  space-group symmetry: the model refuses it (InputError naming the atom, orbitals and operation).
- Two-centre (Slater–Koster) integrals. In the bond frame (d along +z) the hopping from orbital
  (l1, m) at the origin to (l2, m′) at d is δ_mm′ V(l1 l2 |m|) with real-harmonic m: σ (m = 0: s, pz,
  dz2), π (±1: px/dzx, py/dyz), δ (±2: dx2-y2, dxy); V(l1 l2) = (−1)^{l1+l2} V(l2 l1) for l1 > l2
  (so ⟨pz|H|s(d ẑ)⟩ = −spσ as in Slater & Koster). A rotation Q with Qẑ = d̂ gives
  E(d) = D^{l1}(Q) E₀ D^{l2}(Q)ᵀ for the whole shells, then restricted to the orbitals kept; this
  reproduces the SK table (e.g. E_{s,x} = l·spσ, E_{x,x} = l² ppσ + (1 − l²) ppπ, E_{s,xy} = √3 lm sdσ;
  every element and every subset of a shell checked in the tests).
  Parameters are named "sss", "sps", "sds", "pps", "ppp", "pds", "pdp", "dds", "ddp", "ddd", one value
  per neighbour shell (first, second, ...), in eV.
- Bloch sums ("convention I"): |κ i k⟩ = Σ_R e^{2πik·R} φ_i(r − R − q_κ), H(k) = Σ_R e^{2πik·R} h(R).
  An operation g = {α|t} maps atom κ to κ′ with α q_κ + t = q_κ′ + L_κ (L_κ a lattice vector) and
  acts as P(g)|κ i k⟩ = e^{−2πi (αk)·L_κ} Σ_i′ D_i′i(α) |κ′ i′ αk⟩; for g in the little group
  (αk = k + G) |κ′ i′ k+G⟩ = |κ′ i′ k⟩, so ⟨ψ|P(g)|ψ⟩ needs no further phase. Physics convention,
  as :mod:`nhm.groups.irreps`: traces are labelled with :func:`nhm.bands.bloch.irreps_of_states`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache, cached_property
from typing import Mapping, Sequence

import numpy as np

from nhm.bands.bloch import DEGENERACY_TOL_EV, BlochLevel, degenerate_groups, irreps_of_states
from nhm.bands.symmetry import points_of_symmetry_names
from nhm.crystal.setting import centering_vectors, primitive_transform
from nhm.errors import InputError
from nhm.groups.irreps import little_group
from nhm.groups.seitz import Vec3, vec_sub
from nhm.groups.spacegroup import space_group

ORBITALS: dict[str, tuple[int, int]] = {  # name -> (l, real-harmonic m)
    "s": (0, 0),
    "px": (1, 1), "py": (1, -1), "pz": (1, 0),
    "dxy": (2, -2), "dyz": (2, -1), "dzx": (2, 1), "dx2-y2": (2, 2), "dz2": (2, 0),
}
SHELL_ORBITALS = {"s": ("s",), "p": ("px", "py", "pz"), "d": ("dxy", "dyz", "dzx", "dx2-y2", "dz2")}
_BOND = {0: "s", 1: "p", 2: "d"}
_KIND = {0: "s", 1: "p", 2: "d"}  # σ, π, δ as the last letter of a parameter name


# d orbitals as quadratic forms Y_j(r) = rᵀ A_j r, in SHELL_ORBITALS["d"] order (module docstring)
_S3 = np.sqrt(3.0)
_D_FORMS = np.array([
    [[0, _S3 / 2, 0], [_S3 / 2, 0, 0], [0, 0, 0]],  # √3 xy
    [[0, 0, 0], [0, 0, _S3 / 2], [0, _S3 / 2, 0]],  # √3 yz
    [[0, 0, _S3 / 2], [0, 0, 0], [_S3 / 2, 0, 0]],  # √3 zx
    [[_S3 / 2, 0, 0], [0, -_S3 / 2, 0], [0, 0, 0]],  # (√3/2)(x² − y²)
    [[-0.5, 0, 0], [0, -0.5, 0], [0, 0, 1.0]],  # (3z² − r²)/2
])
# P(g) of a kept orbital with a component this large on orbitals the image atom does not keep: the kept
# orbitals are not invariant (exactly 0 if they are; ~1 otherwise, crystallographic angles being large)
INVARIANCE_TOL = 1e-6
REAL_TOL_EV = 1e-12  # H(k) with imaginary parts below this (eV) is real: its eigenvectors are taken real


def shell_rotation(l: int, rotation: np.ndarray) -> np.ndarray:  # noqa: E741 - the physicist's l
    """D^l(R) of the whole shell l (order of ``SHELL_ORBITALS``), exact (module docstring).

    R is the Cartesian 3×3 matrix of a rotation or improper rotation; D_ij = ⟨Y_i|P(R)Y_j⟩/⟨Y_i|Y_i⟩
    with P(R)f(r) = f(R⁻¹r). Orthogonal for orthogonal R, and D(R1 R2) = D(R1) D(R2).
    """
    r_inv = np.linalg.inv(np.asarray(rotation, dtype=float))
    if l == 0:
        return np.ones((1, 1))
    if l == 1:
        return r_inv.T
    if l == 2:
        # Y_j(R⁻¹r) = rᵀ (R⁻ᵀ A_j R⁻¹) r; the A_i are orthogonal in tr(AB), and a trace part (only for
        # non-orthogonal R) is r², orthogonal to every d orbital, so the projection drops it
        moved = np.einsum("ba,jbc,cd->jad", r_inv, _D_FORMS, r_inv)
        return np.einsum("iab,jba->ij", _D_FORMS, moved) / 1.5
    raise InputError(f"orbital shell l = {l}: only s, p and d (l ≤ 2) are supported")


def _shell_positions(names: Sequence[str]) -> tuple[int, list[int]]:
    """The common l of ``names`` and their positions in the shell's ``SHELL_ORBITALS`` order."""
    ls = {ORBITALS[n][0] for n in names}
    if len(ls) != 1:
        raise InputError(f"orbitals {list(names)}: one block takes the orbitals of one shell (one l)")
    l = ls.pop()  # noqa: E741
    shell = SHELL_ORBITALS[_BOND[l]]
    return l, [shell.index(n) for n in names]


def orbital_rotation(names: Sequence[str], rotation: np.ndarray) -> np.ndarray:
    """The block ⟨Y_i|P(R)Y_j⟩ of the whole-shell D^l(R) on the orbitals ``names`` (one l, any order).

    For a whole shell this is D^l(R); for part of a shell it is the restriction, a representation only
    where the kept orbitals are mapped onto themselves (e.g. pz under rotations about z): check
    orthogonality before using it as one (:class:`TightBindingModel` does).
    """
    l, idx = _shell_positions(names)  # noqa: E741
    return shell_rotation(l, rotation)[np.ix_(idx, idx)]


def _rotation_z_to(d: np.ndarray) -> np.ndarray:
    """A rotation Q with Q ẑ = d̂ (Rodrigues)."""
    u = d / np.linalg.norm(d)
    z = np.array([0.0, 0.0, 1.0])
    c = float(u @ z)
    if c > 1 - 1e-12:
        return np.eye(3)
    if c < -1 + 1e-12:
        return np.diag([1.0, -1.0, -1.0])
    v = np.cross(z, u)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1 + c)


def _bond_frame_block(l1: int, l2: int, params: Mapping[str, float]) -> np.ndarray:
    """The whole-shell hopping block E₀ for a bond along +z: δ_mm′ V(l1 l2 |m|) (module docstring), eV."""
    lo, hi = sorted((l1, l2))
    sign = (-1) ** (l1 + l2) if l1 > l2 else 1
    shell1, shell2 = SHELL_ORBITALS[_BOND[l1]], SHELL_ORBITALS[_BOND[l2]]
    e0 = np.zeros((len(shell1), len(shell2)))
    for i, a in enumerate(shell1):
        for j, b in enumerate(shell2):
            ma, mb = ORBITALS[a][1], ORBITALS[b][1]
            if ma == mb:
                e0[i, j] = sign * float(params.get(f"{_BOND[lo]}{_BOND[hi]}{_KIND[abs(ma)]}", 0.0))
    return e0


def two_centre(names1: Sequence[str], names2: Sequence[str], d: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """Slater–Koster hopping matrix ⟨i (at 0)|H|j (at d)⟩ (eV) for orbitals of one l each (module docstring).

    Computed for the whole shells, E(d) = D^{l1}(Q) E₀ D^{l2}(Q)ᵀ with Q ẑ = d̂, then restricted to
    ``names1`` × ``names2`` (any subsets, any order): rotating only the kept orbitals would drop the
    part of a rotated orbital that leaves them (pz–pz on an in-plane bond is ppπ, not 0).
    ``params`` maps "sss", "pds", ... to values; a missing parameter counts as 0.
    """
    l1, idx1 = _shell_positions(names1)
    l2, idx2 = _shell_positions(names2)
    q = _rotation_z_to(np.asarray(d, dtype=float))
    full = shell_rotation(l1, q) @ _bond_frame_block(l1, l2, params) @ shell_rotation(l2, q).T
    return full[np.ix_(idx1, idx2)]


@dataclass(frozen=True)
class Orbital:
    atom: int
    name: str  # key of ORBITALS

    @property
    def l(self) -> int:  # noqa: E743 - the physicist's l
        return ORBITALS[self.name][0]


@dataclass(frozen=True, eq=False)
class TightBindingModel:
    """A Slater–Koster model on a crystal in the BCS setting (build with :func:`model_from_wyckoff`).

    ``hoppings`` are (R, i, j, t_ij) with R a conventional lattice vector: H(k)_ij = Σ e^{2πik·R} t_ij(R).
    """

    space_group: int
    lattice: np.ndarray  # columns: conventional vectors, Cartesian
    positions: tuple[Vec3, ...]  # conventional fractional, one per atom of the primitive cell
    orbitals: tuple[Orbital, ...]
    onsite: np.ndarray  # (n_orb,) eV
    hop_vectors: np.ndarray  # (n_hop, 3) conventional lattice vectors R (floats, exact values)
    hop_matrices: np.ndarray  # (n_hop, n_orb, n_orb)
    shells: tuple[float, ...]  # neighbour distances used
    parameters: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.orbitals)

    def hamiltonian(self, k_conventional) -> np.ndarray:
        """H(k) (n_orb × n_orb, eV) for one k or a stack (…, 3) of conventional reciprocal coordinates."""
        k = np.asarray(k_conventional, dtype=float)
        phase = np.exp(2j * np.pi * (k @ self.hop_vectors.T))  # (..., n_hop)
        h = np.einsum("...r,rij->...ij", phase, self.hop_matrices)
        return h + np.diag(self.onsite)

    def bands(self, k_conventional) -> tuple[np.ndarray, np.ndarray]:
        """Eigenvalues (ascending, eV) and eigenvectors (columns) of H(k), for one k or a stack (…, 3).

        Where H(k) is real to rounding (``REAL_TOL_EV``: the time-reversal-invariant k of these real
        hoppings) the eigenvectors are real, the gauge in which T is complex conjugation with U = V†V̄ = 1.
        Otherwise LAPACK would give them a phase decided by the rounding of e^{2πik·R} (≈ 1e-16 imaginary
        parts), which changes with any rounding-level change of the hoppings.
        """
        h = self.hamiltonian(k_conventional)
        e, v = np.linalg.eigh(h)
        flat_h, flat_e, flat_v = h.reshape(-1, *h.shape[-2:]), e.reshape(-1, e.shape[-1]), v.reshape(-1, *v.shape[-2:])
        real = np.abs(flat_h.imag).max(axis=(1, 2)) < REAL_TOL_EV
        if real.any():
            flat_e[real], flat_v[real] = np.linalg.eigh(flat_h[real].real)
        return flat_e.reshape(e.shape), flat_v.reshape(v.shape)

    @cached_property
    def _atom_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """For every coset representative and atom κ: the image atom κ′ and L_κ = α q_κ + t − q_κ′."""
        g = space_group(self.space_group)
        image = np.zeros((g.order, len(self.positions)), dtype=int)
        shift = np.zeros((g.order, len(self.positions), 3))
        for i, op in enumerate(g.operations):
            for a, q in enumerate(self.positions):
                p = op.apply(q)
                for b, q2 in enumerate(self.positions):
                    d = vec_sub(p, q2)
                    if g.is_lattice_vector(d):
                        image[i, a] = b
                        shift[i, a] = [float(x) for x in d]
                        break
                else:
                    raise InputError(f"atom {q} is mapped by {op} onto no atom: the positions are not a union of orbits")
        return image, shift

    @cached_property
    def _orbital_blocks(self) -> list[tuple[int, int, list[int], list[str]]]:
        """(atom, l, model indices, orbital names) for every shell present on every atom."""
        blocks: dict[tuple[int, int], list[int]] = {}
        for n, o in enumerate(self.orbitals):
            blocks.setdefault((o.atom, o.l), []).append(n)
        return [(atom, l, idx, [self.orbitals[i].name for i in idx]) for (atom, l), idx in blocks.items()]

    @cached_property
    def _orbital_operations(self) -> list[list[tuple[list[int], list[int], int, np.ndarray]]]:
        """For every operation: (rows, columns, atom, block) of the k-independent part of P(g).

        A block is D^l(α) of the whole shell restricted to rows = the image atom's kept orbitals of that
        l and columns = this atom's. It represents P(g) only if D^l(α) maps this atom's kept orbitals
        into the image atom's, with no component on the orbitals left out (module docstring, partial
        shells; then the block is orthogonal); InputError otherwise. Whole shells always pass.
        """
        g = space_group(self.space_group)
        image, _ = self._atom_maps
        inv_lattice = np.linalg.inv(self.lattice)
        kept = {(atom, l): (idx, names) for atom, l, idx, names in self._orbital_blocks}
        out = []
        for i, op in enumerate(g.operations):
            cart = self.lattice @ np.array(op.rotation, dtype=float) @ inv_lattice
            full = {l: shell_rotation(l, cart) for l in {l for _, l, _, _ in self._orbital_blocks}}
            ops = []
            for atom, l, idx, names in self._orbital_blocks:
                target = int(image[i, atom])
                rows, target_names = kept.get((target, l), ([], []))
                shell = SHELL_ORBITALS[_BOND[l]]
                images = full[l][:, [shell.index(n) for n in names]]  # P(g) of the kept orbitals, whole shell
                kept_rows = [shell.index(n) for n in target_names]
                leak = np.delete(images, kept_rows, axis=0)
                if len(rows) != len(idx) or (leak.size and np.abs(leak).max() > INVARIANCE_TOL):
                    raise InputError(
                        f"orbitals {', '.join(names)} of atom {atom} at {tuple(str(x) for x in self.positions[atom])} are not "
                        f"mapped onto the model's orbitals of atom {target} by {op}: the model cannot be symmetric; "
                        "keep whole shells there (or a set of orbitals the site symmetry maps onto itself)"
                    )
                ops.append((rows, idx, atom, images[kept_rows]))
            out.append(ops)
        return out

    def symmetry_matrix(self, op_index: int, k_conventional) -> np.ndarray:
        """The matrix of P(g) on the Bloch basis at k, for g = operations[op_index] in the little group of k."""
        g = space_group(self.space_group)
        rot = np.array(g.operations[op_index].rotation, dtype=float)
        alpha_k = np.linalg.inv(rot).T @ np.asarray(k_conventional, dtype=float)
        _, shift = self._atom_maps
        m = np.zeros((self.size, self.size), dtype=complex)
        for rows, cols, atom, d in self._orbital_operations[op_index]:
            m[np.ix_(rows, cols)] = np.exp(-2j * np.pi * alpha_k @ shift[op_index, atom]) * d
        return m

    def levels(self, k_name: str, tol: float = DEGENERACY_TOL_EV) -> list[BlochLevel]:
        """Levels (energy eV, BCS irrep, dimension) at a point of symmetry, from the traces of P(g)."""
        lg = little_group(self.space_group, k_name)
        k = np.array([float(x) for x in lg.k])
        e, v = self.bands(k)
        mats = [self.symmetry_matrix(i, k) for i in lg.indices]
        out: list[BlochLevel] = []
        for start, stop in degenerate_groups(e, tol):
            c = v[:, start:stop]
            traces = np.array([np.trace(c.conj().T @ m @ c) for m in mats])
            for label in irreps_of_states(self.space_group, lg.name or k_name, traces):
                out.append(BlochLevel(lg.name or k_name, float(np.mean(e[start:stop])), label, lg.irrep(label).dimension))
        return out

    def levels_at_points(self, tol: float = DEGENERACY_TOL_EV) -> dict[str, list[BlochLevel]]:
        """Levels at every point of symmetry (BCS names), as ``nhm analyze`` gets them from DFT."""
        return {name: self.levels(name, tol) for name in points_of_symmetry_names(self.space_group)}


def default_lattice(space_group_number: int, c_over_a: float = 1.6) -> np.ndarray:
    """Conventional vectors (columns, units of a) in the Cartesian frame nhm uses for spin (nhm.kspace):
    plain axes, or for hexagonal/trigonal groups a1 = (0, 1, 0), a2 = (√3/2, −1/2, 0), a3 = (0, 0, c/a)."""
    n = int(space_group_number)
    if 143 <= n <= 194:
        return np.array([[0.0, np.sqrt(3) / 2, 0.0], [1.0, -0.5, 0.0], [0.0, 0.0, c_over_a]])
    if 75 <= n <= 142:
        return np.diag([1.0, 1.0, 1.5])
    if 16 <= n <= 74:
        return np.diag([1.0, 1.2, 1.45])
    if n >= 195:
        return np.eye(3)
    raise InputError(f"give the lattice of space group {n} explicitly (monoclinic/triclinic)")


def _lattice_vectors(space_group_number: int, reach: int) -> np.ndarray:
    """Conventional-coordinate lattice vectors (centring included) with |components| ≤ reach."""
    rng = range(-reach, reach + 1)
    base = np.array([(a, b, c) for a in rng for b in rng for c in rng], dtype=float)
    cent = np.array([[float(x) for x in c] for c in centering_vectors(space_group_number)])
    return (base[:, None, :] + cent[None, :, :]).reshape(-1, 3)


def orbital_names(items: Sequence[str]) -> tuple[str, ...]:
    """Shells ("s", "p", "d") and single orbitals ("dz2") expanded to orbital names; InputError if unknown."""
    names = tuple(nm for item in items for nm in SHELL_ORBITALS.get(item, (item,)))
    for nm in names:
        if nm not in ORBITALS:
            raise InputError(f"unknown orbital {nm!r} (use s, p, d or one of {', '.join(ORBITALS)})")
    return names


def build_model(
    space_group_number: int,
    positions: Sequence[Vec3],
    orbitals: Sequence[str] | Mapping[int, Sequence[str]],
    slater_koster: Mapping[str, float | Sequence[float]],
    *,
    onsite: Mapping[str, float] | None = None,
    lattice: np.ndarray | None = None,
    shells: int = 2,
) -> TightBindingModel:
    """A model with the given atoms (exact conventional coordinates, one per atom of the primitive cell).

    ``orbitals``: shells per atom ("s", "p", "d", or single names like "dz2"), the same for all atoms if
    a sequence; ``slater_koster``: parameter -> value or per-shell values (eV); ``onsite``: "s"/"p"/"d" ->
    eV; ``shells``: how many neighbour distances carry hoppings.
    """
    g = space_group(space_group_number)
    lat = default_lattice(g.number) if lattice is None else np.asarray(lattice, dtype=float)
    pos = tuple(tuple(Fraction(x) for x in q) for q in positions)
    per_atom = orbitals if isinstance(orbitals, Mapping) else {a: orbitals for a in range(len(pos))}
    orbs = [Orbital(a, nm) for a in range(len(pos)) for nm in orbital_names(per_atom.get(a, ()))]
    if not orbs:
        raise InputError("the model has no orbitals")
    on = dict(onsite or {})
    onsite_arr = np.array([float(on.get(_BOND[o.l], 0.0)) for o in orbs])
    params = {k: (tuple(float(x) for x in v) if isinstance(v, Sequence) else (float(v),)) for k, v in slater_koster.items()}
    for key in params:
        if len(key) != 3 or key[0] not in "spd" or key[1] not in "spd" or key[2] not in "spd" or "spd".index(key[0]) > "spd".index(key[1]):
            raise InputError(f"Slater–Koster parameter {key!r}: write it as l1 l2 bond with l1 ≤ l2 (e.g. 'sds', 'ddp')")
    lv = _lattice_vectors(g.number, 3)
    qs = np.array([[float(x) for x in q] for q in pos])
    # neighbour shells: distinct |R + q_b − q_a| > 0
    dvec = lv[None, None, :, :] + qs[None, :, None, :] - qs[:, None, None, :]  # (a, b, R, 3)
    dist = np.linalg.norm(dvec @ lat.T, axis=-1)
    shell_d = np.unique(np.round(dist[dist > 1e-9], 8))[:shells]
    hop_r: dict[tuple, np.ndarray] = {}
    for a_idx in range(len(pos)):
        for b_idx in range(len(pos)):
            ia = [n for n, o in enumerate(orbs) if o.atom == a_idx]
            ib = [n for n, o in enumerate(orbs) if o.atom == b_idx]
            if not ia or not ib:
                continue
            for r_i, r in enumerate(lv):
                dd = dist[a_idx, b_idx, r_i]
                if dd < 1e-9:
                    continue
                shell = np.nonzero(np.abs(shell_d - round(dd, 8)) < 1e-7)[0]
                if not len(shell):
                    continue
                sp = {k: v[shell[0]] if shell[0] < len(v) else 0.0 for k, v in params.items()}
                d_cart = lat @ dvec[a_idx, b_idx, r_i]
                key = tuple(np.round(r, 6))
                mat = hop_r.setdefault(key, np.zeros((len(orbs), len(orbs))))
                for la in sorted({orbs[i].l for i in ia}):
                    for lb in sorted({orbs[j].l for j in ib}):
                        ra = [i for i in ia if orbs[i].l == la]
                        rb = [j for j in ib if orbs[j].l == lb]
                        mat[np.ix_(ra, rb)] += two_centre([orbs[i].name for i in ra], [orbs[j].name for j in rb], d_cart, sp)
    vecs = np.array(list(hop_r.keys()))
    mats = np.array(list(hop_r.values()))
    keep = np.abs(mats).reshape(len(mats), -1).max(axis=1) > 0
    model = TightBindingModel(
        g.number, lat, pos, tuple(orbs), onsite_arr, vecs[keep], mats[keep], tuple(float(x) for x in shell_d), params,
    )
    model._orbital_operations  # refuse kept orbitals that the operations do not map onto kept orbitals
    return model


def model_from_wyckoff(
    space_group_number: int,
    wyckoff: str | Sequence[str],
    orbitals: Sequence[str],
    slater_koster: Mapping[str, float | Sequence[float]],
    **kwargs,
) -> TightBindingModel:
    """Atoms on the orbits of the given Wyckoff position(s) (``"a"`` or ``["a", "b"]``), same orbitals each."""
    from nhm.groups.site import orbit
    from nhm.groups.wyckoff import wyckoff_position

    letters = [wyckoff] if isinstance(wyckoff, str) else list(wyckoff)
    g = space_group(space_group_number)
    pos: list[Vec3] = []
    for letter in letters:
        pts, _ = orbit(g, wyckoff_position(g.number, letter).point())
        pos.extend(pts)
    return build_model(g.number, pos, orbitals, slater_koster, **kwargs)


def model_from_atoms(atoms, orbitals: Sequence[str], slater_koster: Mapping[str, float | Sequence[float]], **kwargs) -> TightBindingModel:
    """A model on a structure (ase.Atoms, file or element symbol), standardised to the BCS setting."""
    from nhm.crystal import read_crystal

    crystal = read_crystal(atoms)
    p = np.array([[float(x) for x in row] for row in primitive_transform(crystal.space_group)])
    prim = crystal.primitive_atoms()
    pos = []
    for x in prim.get_scaled_positions(wrap=True):
        xc = p @ x
        pos.append(tuple(Fraction(float(v)).limit_denominator(48) for v in xc))
    lattice = np.asarray(crystal.lattice, dtype=float).T
    kwargs.setdefault("lattice", lattice)
    return build_model(crystal.space_group, pos, orbitals, slater_koster, **kwargs)


@cache
def bcc_s_band() -> TightBindingModel:
    """One s orbital per atom of bcc (Im-3m, 2a), first and second neighbours (eV): a convenient model."""
    return model_from_wyckoff(229, "a", ["s"], {"sss": (-1.0, -0.25)})


# Top band (index 5) of bcc_sd_model(): Krüger type (GM1+, H1+, P1, N4+) on 2a, superconducting.
BCC_SD_SUPERCONDUCTING_BAND = 5


@cache
def bcc_sd_model() -> TightBindingModel:
    """s + d on bcc (Im-3m, 2a), two neighbour shells (eV), designed — not fitted to a material — so that
    its top band (index ``BCC_SD_SUPERCONDUCTING_BAND``) is a superconducting band of type
    (GM1+, H1+, P1, N4+) with spin-dependent WFs -E1g@2a.

    Why it exists: at Γ, H and P the s level does not mix with d, so a one-dimensional band there is the
    s level; here a flat s level (E_s = 2.4 eV) lies above every d level at Γ, H and P, while the N4+
    d state at N (the top of the d band) overtakes it. The energy-ordered top band therefore switches
    branch along the lines of symmetry, as science.md §3 says a superconducting band must. Parameters
    from a constrained search over Slater–Koster parameters with normal signs (sss, sds, dds, ddd < 0,
    ddp > 0), rounded; gaps to the band below at Γ, H, P, N: 0.72, 0.72, 0.75, 0.79 eV; width 4.8 eV.
    """
    return model_from_wyckoff(
        229, "a", ["s", "d"],
        {"sss": (-0.3, 0.0), "sds": (-0.5, -0.1), "dds": (-1.5, -0.4), "ddp": (0.2, 0.14), "ddd": (-0.05, -0.15)},
        onsite={"s": 2.4, "d": 0.0},
    )


# named models for the command line: name -> (factory, default band index)
MODELS = {"bcc-s": (bcc_s_band, 0), "bcc-sd": (bcc_sd_model, BCC_SD_SUPERCONDUCTING_BAND)}


def model_zone_bands(model: TightBindingModel, fermi_level: float, *, spacing: float = 0.1, mesh: int = 16):
    """The model's bands traced like DFT's (:mod:`nhm.bands.lines`, :mod:`nhm.bands.zone`).

    Lines of symmetry sampled every ``spacing`` (1/Å with 2π, in the model's length unit), states
    labelled from the traces of P(g) on the eigenvectors; the ``mesh``³ energies computed on the
    irreducible wedge and unfolded, exactly as for GPAW. ``fermi_level`` in eV.
    """
    from nhm.bands.lines import label_line_states, line_bands, line_samples
    from nhm.bands.zone import ZoneBands, irreducible_mesh
    from nhm.groups.lines import lines_of_symmetry

    sg = model.space_group
    recip = 2 * np.pi * np.linalg.inv(model.lattice)  # rows: conventional reciprocal vectors
    lines = lines_of_symmetry(sg, recip @ recip.T / (2 * np.pi) ** 2)
    traced = []
    for ln in lines:
        ss = line_samples(ln, spacing / (2 * np.pi))
        ops = ln.little_group().indices
        energies, labels = [], []
        for s in ss:
            k = ln.k_at(float(s))
            e, v = model.bands(k)
            mats = [model.symmetry_matrix(i, k) for i in ops]

            def traces(start: int, stop: int, v=v, mats=mats) -> np.ndarray:
                c = v[:, start:stop]
                return np.array([np.trace(c.conj().T @ m @ c) for m in mats])

            energies.append(e)
            labels.append(label_line_states(ln, k, e, traces, complete=True))
        traced.append(line_bands(ln, np.array([float(s) for s in ss]), np.array(energies), labels))
    zmesh = irreducible_mesh(sg, mesh)
    p = np.array(primitive_transform(sg), dtype=float)
    k_conv = zmesh.kpts_primitive @ np.linalg.inv(p)  # k_c = P^-T k_p, row vectors
    e_ibz = np.linalg.eigvalsh(model.hamiltonian(k_conv))
    cell = (model.lattice @ p).T  # rows: primitive vectors
    return ZoneBands(
        float(fermi_level), model.size, tuple(traced), zmesh, e_ibz[zmesh.to_irreducible], recip, cell, sg,
        model.levels_at_points(),
    )
