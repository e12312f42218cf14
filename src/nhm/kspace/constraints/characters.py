"""The band's characters λ_h(k): what its symmetry makes of F(k) (science.md §4, verified and generalised).

Derivation (one atom per primitive cell at q, one band, physics convention P(g)f(x) = f(g⁻¹x); k in the
conventional reciprocal basis, phases 2πi k·x). Let a = {α|t} act on the spatial band as
P(a)φ_k = c_a(k) φ_{αk}, on spin by its BCS lift S(α), and let a q = q + R_a (R_a a lattice vector).
The spin-dependent WFs w_m(x − R) = N^{-1/2} Σ_k e^{−2πik·R} φ_{k,m}, φ_{k,m} = Σ_s F_sm(k) u_s φ_k,
are symmetry-adapted with the double-valued site representation ρ iff P(a) w_m(x) = Σ_m' ρ(a)_{m'm}
w_m'(x − R_a), which is equivalent to

    c_a(k) S(α) F(k) = e^{−2πi (αk)·R_a} F(αk) ρ(a).                                  (1)

science.md §4 omits the factor e^{−2πi(αk)·R_a}; it is 1 for the atom at the origin of a symmorphic
group (bcc, fcc, P3 at 1a), so nothing there changes. With ρ = s ⊗ D½ (s a one-dimensional
single-valued site irrep; every two-dimensional double site representation of the groups used here
is of this form, and others are refused) (1) reads

    F(αk) = λ_a(k) S(α) F(k) S(α)†,     λ_a(k) = c_a(k) e^{2πi (αk)·R_a} / s(a).          (2)

For a in the little co-group G_k (αk ≡ k), c_a(k) is the band's character χ^k(a) and λ_a(k) =
χ^k(a)/χ_ind,s^k(a) with χ_ind,s^k(a) = s(a) e^{−2πik·R_a} the character of the usual band induced from
s. λ is a one-dimensional character of G_k (checked numerically) — ±1 at time-reversal-invariant k,
possibly complex elsewhere (e.g. at K of a hexagonal group), not "±1" in general as science.md says.
F(k) commutes with S(α) where λ = +1 and anticommutes where λ = −1. For a ∉ G_k, c_a(k) is a gauge
choice of the spatial Bloch functions; nhm takes λ_b(k) = λ^Γ(b), the values at Γ, for the coset
representative b chosen for each star member (``KMesh.star_op``). In all 16 bcc one-band types
λ^Γ ≡ 1, which is science.md's gauge "λ = 1 for αk ≠ k"; the general choice makes a constant F exactly
the usual case in every group. Consistency across different a mapping k to the same αk then follows
from the constraints at k, because λ is multiplicative (checked numerically as a residual).

:func:`band_characters` computes λ from the band's spatial characters c_h(k), which a source supplies
(:mod:`nhm.kspace.sources`), at the star representatives; :func:`characters_everywhere` carries it over the mesh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np

from nhm.errors import GroupTheoryError
from nhm.groups.spacegroup import SpaceGroup
from nhm.kspace.constraints.site import SpinSiteRepresentation
from nhm.kspace.mesh import KMesh


@dataclass(frozen=True, eq=False)
class BandCharacters:
    """λ_h(k) (eq. 2) on the little co-group of every star representative with a nontrivial one.

    ``lam[m]`` is aligned with ``ops[m]`` (coset-representative indices h ∈ G_k, identity included);
    ``lam_gamma`` is λ^Γ on all coset representatives (the gauge for αk ≠ k); ``cell[m]`` the name of
    the point of symmetry whose Voronoi cell contains mesh point m (model bands; "" otherwise);
    ``source[m]`` where the character at representative m came from; ``r2_points[m]`` the
    :class:`nhm.kspace.constraints.r2.R2Point` of representative m where the band's level is multi-dimensional
    (reading R2: no F(k) and no λ there; only :func:`tight_binding_characters` with ``reading="R2"``
    fills it); ``r2_spinors`` the band's fixed Bloch spinors at every mesh point of those stars
    (:class:`nhm.kspace.sources.tightbinding_levels.R2Spinors`), which the F(k) construction needs for such a band.
    """

    mesh: KMesh
    site: SpinSiteRepresentation
    band_text: str
    ops: dict[int, np.ndarray]
    lam: dict[int, np.ndarray]
    lam_gamma: np.ndarray
    cell: np.ndarray
    source: dict[int, str] = field(default_factory=dict)
    character_residual: float = 0.0  # how far λ is from a character of G_k (max over k)
    r2_points: dict = field(default_factory=dict)  # representative -> R2Point (reading R2), see above
    r2_spinors: object | None = None  # nhm.kspace.sources.tightbinding_levels.R2Spinors (reading R2), see above

    @cached_property
    def sign_pairs(self) -> dict[tuple[int, complex], int]:
        """Distinct (operation, λ) pairs over the whole mesh (every star member, conjugated ops)."""
        return _all_pairs(self)


def _all_pairs(bc: BandCharacters) -> dict[tuple[int, complex], int]:
    g = bc.mesh.group
    table, _, _ = g.multiplication
    inv = g.inverse_index
    out: dict[tuple[int, complex], int] = {}
    for m, hs in bc.ops.items():
        for b in range(g.order):
            conj = table[b, table[hs, inv[b]]]
            for h2, lam in zip(conj, bc.lam[m]):
                key = (int(h2), complex(np.round(lam, 9)))
                out[key] = out.get(key, 0) + 1
    return out


def _cogroup_ops(mesh: KMesh, m: int) -> np.ndarray:
    return np.nonzero(mesh.cogroup_mask[:, m])[0]


def _check_character(g: SpaceGroup, hs: np.ndarray, lam: np.ndarray) -> float:
    """max |λ(a)λ(b) − λ(ab)| over the little co-group (rotation products)."""
    table, _, _ = g.multiplication
    pos = np.full(g.order, -1)
    pos[hs] = np.arange(len(hs))
    prod = pos[table[np.ix_(hs, hs)]]
    if np.any(prod < 0):
        raise GroupTheoryError("little co-group does not close")
    return float(np.max(np.abs(lam[:, None] * lam[None, :] - lam[prod])))


def band_characters(
    mesh: KMesh,
    site: SpinSiteRepresentation,
    band_text: str,
    spatial_character: Callable[[int, np.ndarray], np.ndarray],
    cell: np.ndarray | None = None,
    source: dict[int, str] | None = None,
    r2_points: dict | None = None,
) -> BandCharacters:
    """λ from the band's spatial characters ``spatial_character(m, hs)`` = c_h(k_m) (physics convention,
    the coset representatives ``hs`` of G_k at mesh point m, k_m as stored: primitive coordinates in [0, 1)).

    Representatives in ``r2_points`` (reading R2) get no λ. If Γ is one of them, λ^Γ (the star gauge) is
    not defined by the band and is set to 1 (a gauge choice, recorded in ``source[0]``)."""
    g = mesh.group
    s = site.s
    r2_points = r2_points or {}
    source = dict(source or {})
    if 0 in r2_points:
        lam_gamma = np.ones(g.order, dtype=complex)
        source[0] = "R2 point: λ^Γ set to 1 (gauge choice)"
    else:
        lam_gamma = spatial_character(0, np.arange(g.order)) / s  # k = 0: no phase
    ops: dict[int, np.ndarray] = {}
    lam: dict[int, np.ndarray] = {}
    worst = _check_character(g, np.arange(g.order), lam_gamma)
    for m in mesh.representatives:
        hs = _cogroup_ops(mesh, int(m))
        if len(hs) == 1 or int(m) in r2_points:
            continue
        kc = np.array([float(x) for x in mesh.k_conventional(int(m))])
        c = spatial_character(int(m), hs)
        val = c * np.exp(2j * np.pi * site.shift[hs] @ kc) / s[hs]
        worst = max(worst, _check_character(g, hs, val), float(np.max(np.abs(np.abs(val) - 1))))
        ops[int(m)] = hs
        lam[int(m)] = val
    if worst > 1e-6:
        raise GroupTheoryError(f"the band's λ is not a character of the little co-groups (residual {worst:.2e})")
    return BandCharacters(
        mesh, site, band_text, ops, lam, lam_gamma,
        cell if cell is not None else np.full(mesh.size, "", dtype=object), source, worst, dict(r2_points),
    )


def characters_everywhere(chars: BandCharacters) -> np.ndarray:
    """(N, order) λ_h(k) at every mesh point for h ∈ G_k (0 elsewhere), from the representatives.

    λ is carried along each star as a class function: λ_{b h b⁻¹}(b k) = λ_h(k).
    """
    mesh = chars.mesh
    g = mesh.group
    table, _, _ = g.multiplication
    inv = g.inverse_index
    out = np.zeros((mesh.size, g.order), dtype=complex)
    lam_rep = np.ones((mesh.size, g.order), dtype=complex)
    for m, hs in chars.ops.items():
        lam_rep[m, hs] = chars.lam[m]
    for i in range(g.order):
        pts = np.nonzero(mesh.cogroup_mask[i])[0]
        b = mesh.star_op[pts]
        h = table[inv[b], table[i, b]]  # b⁻¹ i b ∈ G_rep
        out[pts, i] = lam_rep[mesh.star_rep[pts], h]
    return out
