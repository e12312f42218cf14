"""A tight-binding band's degenerate levels, and its Bloch spinors where it lies in one (reading R2).

:func:`tight_binding_level` is the level of a Slater–Koster model (``model``:
:class:`nhm.bands.tightbinding.TightBindingModel`) that holds the band at k: its eigenvectors V, D(a) = V†P(a)V
and U = V†V̄ (real orbitals and hoppings). Where that level is multi-dimensional the band's Bloch spinors are the
isometries of :mod:`nhm.kspace.constraints.r2`: at one point (:func:`tight_binding_r2_point`), at the star
representatives of a mesh (:func:`r2_points_on_mesh`), and propagated to every mesh point of their stars
(:class:`R2Spinors`, :func:`r2_spinors_on_mesh`), where they stay fixed while F(k) is optimised around them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nhm.errors import InputError
from nhm.groups.spacegroup import space_group
from nhm.kspace.constraints.levels import REP_TOL, SpatialLevel, exact_k, is_irreducible, level_symmetry
from nhm.kspace.constraints.r2 import R2Point, phase_free_distance, r2_isometry
from nhm.kspace.constraints.site import SpinSiteRepresentation
from nhm.kspace.spin import SIGMA, SIGMA_Y


def tight_binding_level(model, k, band_index: int, gap_tol: float = 1e-6, vectors: np.ndarray | None = None) -> SpatialLevel:
    """D(a) (and U at a time-reversal-invariant k) of the degenerate level containing ``band_index``.

    ``k`` conventional (exact Fractions preferred; floats are snapped to 1/48); ``gap_tol`` eV decides
    which energy-ordered states belong to the level. ``vectors`` may replace the eigenvectors of that
    level by another orthonormal basis of the same space (n_orb × d), e.g. to test gauge covariance.
    Raises GroupTheoryError if the D(a) are not a representation (degenerate block not invariant).
    """
    g = space_group(model.space_group)
    kx = exact_k(k)
    kf = np.array([float(x) for x in kx])
    e, v = model.bands(kf)
    if not 0 <= band_index < len(e):
        raise InputError(f"band index {band_index} out of range (the model has {len(e)} bands)")
    idx = tuple(int(i) for i in np.nonzero(np.abs(e - e[band_index]) < gap_tol)[0])
    block = v[:, list(idx)]
    if vectors is not None:
        vectors = np.asarray(vectors, dtype=complex)
        if vectors.shape != block.shape or np.linalg.norm(block @ block.conj().T @ vectors - vectors) > 1e-8:
            raise InputError("the given vectors do not span the level's eigenspace")
        block = vectors
    ops = tuple(int(i) for i in g.little_cogroup(kx))
    d_mats = np.array([block.conj().T @ model.symmetry_matrix(op, kf) @ block for op in ops])

    def time_reversal() -> np.ndarray:
        h = model.hamiltonian(kf)
        if np.linalg.norm(h - h.conj()) > 1e-9:
            raise InputError("H(k) is not real at a time-reversal-invariant k: T is not plain complex conjugation")
        return block.conj().T @ block.conj()

    rep, u, trr = level_symmetry(g, kx, ops, d_mats, time_reversal, REP_TOL)
    return SpatialLevel(
        (float(kf[0]), float(kf[1]), float(kf[2])), idx, float(np.mean(e[list(idx)])), block, ops, d_mats, u, rep, trr,
    )


def tight_binding_r2_point(
    model, k, band_index: int, site: SpinSiteRepresentation, name: str = "", *, time_reversal: bool = True,
    gap_tol: float = 1e-6, vectors: np.ndarray | None = None,
) -> tuple[R2Point, SpatialLevel]:
    """The R2 isometry of band ``band_index`` of a tight-binding model at ``k`` (a BCS point name such
    as ``"GM"`` or conventional coordinates), with the level it lives in. InputError if the level is
    one-dimensional (Eq. 7 holds there: use F(k)) or if ρ_K is not in D ⊗ D½."""
    if isinstance(k, str):
        from nhm.groups.irreps import little_group

        lg = little_group(model.space_group, k)
        name = name or (lg.name or k)
        k = lg.k
    if model.space_group != site.space_group:
        raise InputError(f"the model is of space group {model.space_group}, the site representation of {site.space_group}")
    level = tight_binding_level(model, k, band_index, gap_tol, vectors)
    if len(level.band_indices) == 1:
        raise InputError(f"band {band_index} is non-degenerate at {name or level.k}: its Bloch spinors are of Eq. 7's form there")
    u = level.time_reversal_matrix if time_reversal else None
    return r2_isometry(k, level.ops, level.d_mats, site, u, name), level


def r2_points_on_mesh(mesh, model, band_index: int, site: SpinSiteRepresentation, gap_tol: float = 1e-6) -> dict[int, R2Point]:
    """The R2 points of the energy-ordered band ``band_index`` of a tight-binding model on a mesh.

    At every star representative m of ``mesh`` (:class:`nhm.kspace.mesh.KMesh`) where the band's state
    is degenerate within ``gap_tol`` eV, the isometry of :func:`r2_isometry` (with (E2) where −k ≡ k).
    Points on lines of symmetry where the level stays a multi-dimensional irrep are R2 points as well
    (there only (E1) is imposed: the antiunitary operations that fix k, such as I·T, are not used, so A
    is fixed up to a phase). Other star members follow by symmetry and are not listed.
    Raises InputError at a degeneracy that is not one irrep of the little group (a crossing of branches:
    the band is not defined there, choose another mesh) or where ρ_k is absent from D ⊗ D½.
    """
    if model.space_group != mesh.space_group or site.space_group != mesh.space_group:
        raise InputError("the model, the site representation and the mesh must be of the same space group")
    out: dict[int, R2Point] = {}
    for m in mesh.representatives:
        m = int(m)
        kx = mesh.k_conventional(m)
        e = np.linalg.eigvalsh(model.hamiltonian(np.array([float(x) for x in kx])))
        if np.sum(np.abs(e - e[band_index]) < gap_tol) == 1:
            continue
        level = tight_binding_level(model, kx, band_index, gap_tol)
        where = ", ".join(str(x) for x in kx)
        if not is_irreducible(level):
            raise InputError(
                f"band {band_index} is degenerate at k = ({where}) (conventional) without being one irrep of the "
                "little group (a crossing of branches): the band is not defined there; choose a mesh avoiding it"
            )
        out[m] = r2_isometry(kx, level.ops, level.d_mats, site, level.time_reversal_matrix, f"k{m}")
    return out


# ----------------------------------------------------------------------------- Bloch spinors at the R2 points of a mesh


@dataclass(frozen=True, eq=False)
class R2Spinors:
    """The band's Bloch spinors Ψ_k = (V_k ⊗ 1₂) A_k at every mesh point of the R2 stars, fixed (not variables).

    ``mask`` (N,) marks the R2 mesh points (whole stars of the representatives in ``r2_points`` and their
    time-reversed partners); ``slot[k]`` indexes ``psi`` (−1 elsewhere). ``psi[slot[k]]`` (2n × 2, rows
    (orbital i, spin s) ↦ 2i + s, columns m) is in the reference gauge of the constraints: at a primary
    representative the isometry of :func:`r2_isometry` (phase fixed by (E2) or, when −K is in the star
    of K, by the star image of time reversal, up to a sign); on the star Ψ_{bK} = (P(b) ⊗ S(b)) Ψ_K ρ(b)†
    e^{2πi (bK)·R_b} (b = ``KMesh.star_op``; this is c_b(K) ⊗ λ^Γ S F S† of the R1 points with the
    spatial gauge c_b = λ^Γ(b) s(b) e^{−2πi(bK)·R_b}, as in :func:`nhm.kspace.analysis.wannier.model_wannier_functions`); on time-reversed points Ψ_{−k} = (1 ⊗ σ_y) Ψ_k* σ_y.
    ``vectors`` (N, n) are the band's eigenvectors c_k at every mesh point (raw, arbitrary phase; used in
    the bonds from an R1 point to an R2 point, whose overlap is F(k)† (c_k ⊗ 1₂)† Ψ_K). Residuals
    (Frobenius, dimensionless): ``direct`` the largest phase-free distance between the propagated Ψ and
    the isometry solved directly at each member (its own little group, (E1)/(E2)) — it checks that the
    propagation is the symmetry image; ``symmetry`` the largest (E1)/(E2) residual of those direct
    solutions; ``gauge`` the largest ‖e^{iθ}Z − e^{−iθ}W‖ of the phase fix at representatives whose star
    holds −K (antiunitary consistency); ``isometry`` max ‖Ψ†Ψ − 1‖.
    """

    mask: np.ndarray
    slot: np.ndarray
    points: np.ndarray  # mesh indices of the R2 points (ascending)
    psi: np.ndarray  # (n_points, 2n, 2)
    dims: np.ndarray  # (n_points,) d
    vectors: np.ndarray  # (N, n)
    direct: float
    symmetry: float
    gauge: float
    isometry: float

    def at(self, k: int) -> np.ndarray:
        return self.psi[self.slot[k]]

    @property
    def orbitals(self) -> int:
        return self.vectors.shape[1]

    def spin_axes(self) -> np.ndarray:
        """(n_points, 2, 3) ⟨σ⟩ of each spinor column, Ψ[:, m]† (1_n ⊗ σ) Ψ[:, m] = (A†(1_d ⊗ σ)A)_mm.
        Their length is < 1 where d > 1 (the spin of one column is not pure: tr_spin A A† = (2/d)·1)."""
        p = self.psi.reshape(len(self.points), -1, 2, 2)  # (pt, i, s, m)
        return np.real(np.einsum("pism,jst,pitm->pmj", p.conj(), SIGMA, p))


def r2_spinors_on_mesh(mesh, model, band_index: int, site: SpinSiteRepresentation, r2_points: dict,
                       gap_tol: float = 1e-6) -> R2Spinors:
    """:class:`R2Spinors` of band ``band_index`` of a tight-binding model on ``mesh`` for the representatives
    ``r2_points`` (from :func:`r2_points_on_mesh`). The star gauge λ^Γ does not enter: it multiplies the
    spatial gauge c_b and F alike and cancels in Ψ."""
    g = space_group(site.space_group)
    n = mesh.size
    p_to_conv = np.array([[float(x) for x in row] for row in mesh.p_to_conv])
    k_conv = mesh.k_primitive @ p_to_conv.T
    _, vecs = np.linalg.eigh(model.hamiltonian(k_conv))
    vectors = vecs[:, :, band_index]
    mask = np.isin(mesh.star_rep, np.array(sorted(r2_points), dtype=int))
    points = np.nonzero(mask)[0]
    slot = np.full(n, -1)
    slot[points] = np.arange(len(points))
    n2 = 2 * model.size
    psi = np.zeros((len(points), n2, 2), dtype=complex)
    dims = np.zeros(len(points), dtype=int)
    sy = SIGMA_Y
    eye2 = np.eye(2)

    def star_image(b: int, x: np.ndarray, k_src: np.ndarray, k_img: np.ndarray) -> np.ndarray:
        rho = site.s[b] * g.lifts[b]
        big = np.kron(model.symmetry_matrix(b, k_src), g.lifts[b])
        return big @ x @ rho.conj().T * np.exp(2j * np.pi * float(k_img @ site.shift[b]))

    def time_reverse(x: np.ndarray) -> np.ndarray:
        return np.kron(np.eye(model.size), sy) @ x.conj() @ sy

    gauge_res = 0.0
    primary_reps = [int(m) for m in mesh.representatives if mask[m] and mesh.primary[m]]
    for m in primary_reps:
        pt = r2_points[m]
        lv = tight_binding_level(model, mesh.k_conventional(m), band_index, gap_tol)
        x = np.kron(lv.vectors, eye2) @ pt.isometry
        if mesh.partner_rep[m] == m and mesh.minus[m] != m:  # −K in the star of K: fix the phase (up to a sign)
            mk = int(mesh.minus[m])
            b = int(mesh.star_op[mk])
            z0 = star_image(b, x, k_conv[m], k_conv[mk])
            w0 = time_reverse(x)
            ov = complex(np.vdot(z0, w0))
            th = 0.5 * np.angle(ov) if abs(ov) > 1e-12 else 0.0
            x = np.exp(1j * th) * x
            gauge_res = max(gauge_res, float(np.linalg.norm(np.exp(1j * th) * z0 - np.exp(-1j * th) * w0)))
        psi[slot[m]] = x
        dims[slot[m]] = pt.d
    direct_pts = [int(p) for p in points if not mesh.time_reversed[p]]
    for p in direct_pts:
        rep, b = int(mesh.star_rep[p]), int(mesh.star_op[p])
        if p != rep:
            psi[slot[p]] = star_image(b, psi[slot[rep]], k_conv[rep], k_conv[p])
            dims[slot[p]] = dims[slot[rep]]
    for p in points:
        if mesh.time_reversed[p]:
            psi[slot[p]] = time_reverse(psi[slot[int(mesh.minus[p])]])
            dims[slot[p]] = dims[slot[int(mesh.minus[p])]]
    # verification: the isometry solved directly at every member, against the propagated Ψ (up to a phase)
    direct = sym = 0.0
    for p in points:
        p = int(p)
        lv = tight_binding_level(model, mesh.k_conventional(p), band_index, gap_tol)
        pt = r2_isometry(mesh.k_conventional(p), lv.ops, lv.d_mats, site, lv.time_reversal_matrix, f"k{p}")
        sym = max(sym, pt.symmetry_residual, pt.time_reversal_residual)
        direct = max(direct, phase_free_distance(psi[slot[p]], np.kron(lv.vectors, eye2) @ pt.isometry))
    iso = float(np.max(np.linalg.norm(np.swapaxes(psi.conj(), 1, 2) @ psi - eye2, axis=(1, 2)))) if len(points) else 0.0
    return R2Spinors(mask, slot, points, psi, dims, vectors, direct, sym, gauge_res, iso)
