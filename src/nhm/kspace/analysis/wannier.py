"""Spin-dependent Wannier functions of the lattice model: g(R), centres, spreads, and how g(R) decays.

With orthogonal spatial orbitals φ(r − R) and the Bloch functions φ_k = N^{-1/2} Σ_R e^{ik·R} φ(r − R)
(the "model with smooth φ_k"), the spin-dependent WFs of seed Eq. (11) are (science.md §5)

    w_m(r − R, t) = Σ_{R′} φ(r − R′) Σ_s g_ms(R′ − R) u_s(t),    g(R) = N⁻¹ Σ_k e^{ik·R} f(k),

f(k) = F(k)ᵀ, so Σ_R ‖g(R)‖² = 2 (both m) and the weight of w_m on the site R is Σ_s |g_ms(R)|².
g is computed by an inverse FFT on the mesh; R runs over the primitive lattice vectors of the
Born–von Kármán supercell, wrapped to the cell around the origin. Lengths in units of a.

Decay. For each shell |R| the envelope max ‖g(R)‖ is fitted, for 0 < |R| ≤ 0.9·R_in (R_in the
radius of the sphere inscribed in the supercell's Wigner–Seitz cell, beyond which the periodic images
take over) and above the round-off floor, by an exponential log y = c − |R|/ξ and by a power law
log y = c − p log|R|; the better fit is the one with the smaller RMS residual of log y. A jump of F
on a surface gives ‖g‖ ~ |R|⁻¹ to ⁻², a line defect |R|⁻² to ⁻³, a smooth F exponential decay.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nhm.crystal.setting import primitive_transform
from nhm.kspace.construction.field import SpinorField

FLOOR = 1e-12  # ‖g(R)‖ below this is round-off


@dataclass(frozen=True)
class WannierData:
    """g(R) on the supercell: ``g[i]`` (2×2, rows m, columns s) at the Cartesian ``r[i]`` (units of a)."""

    r: np.ndarray  # (N, 3)
    lattice_index: np.ndarray  # (N, 3) integer primitive coordinates, wrapped
    g: np.ndarray  # (N, 2, 2)
    centres: np.ndarray  # (2, 3) ⟨R⟩_m
    spreads: np.ndarray  # (2,) ⟨R²⟩_m − ⟨R⟩_m², units a²
    inscribed_radius: float

    @property
    def norms(self) -> np.ndarray:
        return np.linalg.norm(self.g, axis=(1, 2))

    @property
    def total_spread(self) -> float:
        return float(self.spreads.sum())


@dataclass(frozen=True)
class DecayFit:
    """Fits of the envelope max ‖g(R)‖ over shells of |R|."""

    shells: int  # shells used
    radii: tuple[float, ...]
    envelope: tuple[float, ...]
    exponential_length: float | None  # ξ of y ∝ exp(−|R|/ξ)
    exponential_rms: float | None
    power: float | None  # p of y ∝ |R|^−p
    power_rms: float | None
    better: str  # "exponential", "power law", or "none (localised on the home site)"

    def as_dict(self) -> dict:
        return {
            "shells": self.shells,
            "exponential": {"length_a": self.exponential_length, "rms_log_residual": self.exponential_rms},
            "power_law": {"exponent": self.power, "rms_log_residual": self.power_rms},
            "better": self.better,
            "radii_a": list(self.radii),
            "envelope": list(self.envelope),
        }


def wannier_functions(field: SpinorField, gauge: str = "smooth") -> WannierData:
    """g(R) from F(k): ``gauge="smooth"`` uses the phase-synchronised F (the smoothest, the default),
    ``"reference"`` the reference gauge, in which the WFs are symmetry-adapted as in the constraints
    (F(αk) = λ^Γ S F S†; e.g. with inversion g(−R) = g(R), centres on the atom). At R2 points F is
    undefined and contributes 0 to the sums (each such point carries weight 1/N: ``Σ_R ‖g‖²`` is then
    2(1 − n_R2/N)); the WFs with their Bloch spinors there are :func:`model_wannier_functions`."""
    if gauge not in ("smooth", "reference"):
        raise ValueError(f"gauge must be 'smooth' or 'reference', got {gauge!r}")
    mesh = field.mesh
    n = mesh.divisions
    src = field.f if gauge == "smooth" else field.f_reference
    src = np.where(field.defined[:, None, None], src, 0)  # R2 points: no F
    f = np.swapaxes(src, 1, 2).reshape(*n, 2, 2)  # f(k) = F(k)ᵀ on the mesh grid
    g = np.fft.ifftn(f, axes=(0, 1, 2)).reshape(-1, 2, 2)
    idx = mesh.indices.copy()
    div = np.array(n)
    idx = np.where(idx > div // 2, idx - div, idx)
    p = np.array([[float(x) for x in row] for row in primitive_transform(mesh.space_group)])
    prim = mesh.lattice @ p  # columns: primitive vectors in Cartesian
    # wrap each R to its shortest image in the supercell (the Wigner–Seitz cell of the superlattice)
    shifts = np.array(np.meshgrid(*(range(-1, 2),) * 3, indexing="ij")).reshape(3, -1).T * div
    cands = idx[:, None, :] + shifts[None, :, :]
    cart = np.einsum("ij,nsj->nsi", prim, cands)
    dist = np.round(np.linalg.norm(cart, axis=2), 9)
    best = np.argmin(dist, axis=1)
    idx = cands[np.arange(len(idx)), best]
    r = cart[np.arange(len(idx)), best]
    # on the boundary of the supercell's Wigner–Seitz cell R has several shortest images: share its
    # weight among them, so that the centres do not depend on which image is listed
    tied = dist == dist[np.arange(len(dist)), best][:, None]
    r_mean = np.einsum("ns,nsi->ni", tied, cart) / tied.sum(axis=1)[:, None]
    weight = np.sum(np.abs(g) ** 2, axis=2)  # (N, m): Σ_s |g_ms|²
    centres = np.einsum("nm,ni->mi", weight, r_mean)
    spreads = np.einsum("nm,n->m", weight, np.sum(r**2, axis=1)) - np.sum(centres**2, axis=1)
    super_vectors = prim * div[None, :]
    lattice_pts = np.einsum("ij,sj->si", super_vectors, np.array(np.meshgrid(*(range(-1, 2),) * 3, indexing="ij")).reshape(3, -1).T)
    lengths = np.linalg.norm(lattice_pts, axis=1)
    inscribed = 0.5 * float(np.min(lengths[lengths > 1e-9]))
    return WannierData(r, idx, g, centres, spreads, inscribed)


def _linear_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    a = np.vstack([np.ones_like(x), x]).T
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    rms = float(np.sqrt(np.mean((a @ coef - y) ** 2)))
    return float(coef[0]), float(coef[1]), rms


def decay_fit(data: WannierData) -> DecayFit:
    norms = data.norms
    radius = np.linalg.norm(data.r, axis=1)
    key = np.round(radius, 6)
    shells = np.unique(key[(key > 0) & (key <= 0.9 * data.inscribed_radius)])
    env = np.array([norms[key == s].max() for s in shells])
    keep = env > FLOOR
    x, y = shells[keep], env[keep]
    if len(x) < 3:
        return DecayFit(len(x), tuple(map(float, x)), tuple(map(float, y)), None, None, None, None, "none (localised on the home site)")
    _, slope_e, rms_e = _linear_fit(x, np.log(y))
    _, slope_p, rms_p = _linear_fit(np.log(x), np.log(y))
    xi = -1.0 / slope_e if slope_e < 0 else float("inf")
    better = "exponential" if rms_e < rms_p else "power law"
    return DecayFit(len(x), tuple(map(float, x)), tuple(map(float, y)), xi, rms_e, -slope_p, rms_p, better)


__all__ = [
    "DecayFit", "ModelWannierChecks", "ModelWannierFunctions", "WannierData",
    "check_model_wannier", "decay_fit", "model_wannier_functions", "wannier_functions",
]


# ----------------------------------------------------------------------------- the WFs of a tight-binding band, in real space


@dataclass(frozen=True)
class ModelWannierFunctions:
    """The two spin-dependent WFs w_m (home cell) of one band of a one-atom tight-binding model.

    ``coefficients[m, n, i, s]``: weight of orbital i (model order) with spin s on the atom at the lattice
    vector ``lattice_index[n]`` (integer primitive coordinates, BvK cell, row-major like the mesh):
    w_m = Σ_{R,i,s} W_m(R, i, s) φ_i(r − R − q) u_s, W_m(R) = N⁻¹ Σ_k e^{2πik·R} F_sm(k) c_i(k), with the
    spatial Bloch functions c(k) in the gauge of the constraints (star images P(b)c/c_b(k), time
    reversal c(−k) = c(k)*), so that the WFs are symmetry-adapted exactly (checks below). At R2 points the
    Bloch spinors are Ψ_K = (V_K ⊗ 1₂)A_K of :class:`nhm.kspace.sources.tightbinding_levels.R2Spinors`, in the same gauge.
    """

    divisions: tuple[int, int, int]
    lattice_index: np.ndarray  # (N, 3)
    coefficients: np.ndarray  # (2, N, n_orb, 2)
    band_residual: float  # max ‖H c − ε c‖ of the gauge-fixed Bloch vectors (they are the band's states)


def model_wannier_functions(field: SpinorField, model, band_index: int) -> ModelWannierFunctions:
    """Real-space spin-dependent WFs of band ``band_index`` of ``model`` (one atom per primitive cell) with
    the Bloch spinors of ``field`` (its reference gauge). Raises ValueError for more than one atom."""
    mesh = field.mesh
    if len(model.positions) != 1:
        raise ValueError("model_wannier_functions needs one atom per primitive cell")
    site = field.characters.site
    lam_g = field.characters.lam_gamma
    p_to_conv = np.array([[float(x) for x in row] for row in mesh.p_to_conv])
    k_conv = mesh.k_primitive @ p_to_conv.T
    energies, vecs = np.linalg.eigh(model.hamiltonian(k_conv))
    c = np.zeros((mesh.size, model.size), dtype=complex)

    def gauge(b: int, k_src: np.ndarray, k_img: np.ndarray) -> complex:  # c_b(k) = λ^Γ(b) s(b) e^{−2πi (bk)·R_b}
        return complex(lam_g[b] * site.s[b] * np.exp(-2j * np.pi * k_img @ site.shift[b]))

    for m in field.spaces.reps:
        m = int(m)
        v = vecs[m, :, band_index]
        if mesh.partner_rep[m] == m:  # −k in the star: fix the phase so that P(b)φ_k = c_b φ_k* (b: k → −k)
            b = int(mesh.star_op[mesh.minus[m]])
            pv = model.symmetry_matrix(b, k_conv[m]) @ v
            mu = np.vdot(v.conj(), pv)
            target = gauge(b, k_conv[m], k_conv[mesh.minus[m]])
            v = v * np.exp(0.5j * (np.angle(target) - np.angle(mu)))
        c[m] = v
    direct = np.nonzero(~mesh.time_reversed)[0]
    for p in direct:
        rep, b = int(mesh.star_rep[p]), int(mesh.star_op[p])
        if p != rep:
            c[p] = model.symmetry_matrix(b, k_conv[rep]) @ c[rep] / gauge(b, k_conv[rep], k_conv[p])
    rev = np.nonzero(mesh.time_reversed)[0]
    c[rev] = c[mesh.minus[rev]].conj()
    h = model.hamiltonian(k_conv)
    resid = float(np.max(np.linalg.norm(np.einsum("kij,kj->ki", h, c) - energies[:, band_index, None] * c, axis=1)))
    f = np.where(field.defined[:, None, None], field.f_reference, 0)  # F[k, s, m]
    psi = np.einsum("ki,ksm->kmis", c, f)  # (N, m, i, s)
    r2 = field.r2
    if r2 is not None and len(r2.points):
        if r2.orbitals != model.size:
            raise ValueError("the field's R2 spinors belong to another model")
        psi[r2.points] = np.transpose(r2.psi.reshape(len(r2.points), model.size, 2, 2), (0, 3, 1, 2))
    n = mesh.divisions
    grid = psi.reshape(*n, 2, model.size, 2)
    w = np.fft.ifftn(grid, axes=(0, 1, 2))  # N⁻¹ Σ_j e^{+2πi j·R/n}
    coeff = np.moveaxis(w.reshape(-1, 2, model.size, 2), 1, 0)
    return ModelWannierFunctions(n, mesh.indices.copy(), coeff, resid)


@dataclass(frozen=True)
class ModelWannierChecks:
    symmetry: float  # max |P(a) w_m − Σ_m' ρ(a)_{m'm} w_m'(· − R_a)| over all coset representatives a
    time_reversal: float  # max |T w_m − Σ_m' τ_{m'm} w_m'|, τ = −iσ_y
    orthonormality: float  # max |⟨w_m(· − R)|w_m'⟩ − δ_RR' δ_mm'|


def check_model_wannier(wf: ModelWannierFunctions, field: SpinorField, model) -> ModelWannierChecks:
    """The defining properties of symmetry-adapted, time-reversal-adapted spin-dependent WFs, checked on
    the coefficients in real space (independent of the k-space constraint algebra)."""
    from nhm.kspace.spin import SIGMA_Y

    mesh = field.mesh
    g = mesh.group
    site = field.characters.site
    n = np.array(wf.divisions)
    p = np.array([[float(x) for x in row] for row in primitive_transform(mesh.space_group)])
    p_inv = np.linalg.inv(p)
    idx = wf.lattice_index
    w = wf.coefficients  # (2, N, i, s)
    sym = 0.0
    for a, op in enumerate(g.operations):
        rot_p = np.rint(p_inv @ np.array(op.rotation, dtype=float) @ p).astype(int)
        shift_p = np.rint(p_inv @ site.shift[a]).astype(int)
        d = model.symmetry_matrix(a, np.zeros(3))  # orbital rotation (one atom: no permutation, no phase at k = 0)
        s = g.lifts[a]
        rho = site.s[a] * s
        target = (idx @ rot_p.T + shift_p) % n  # αR + R_a
        t_index = (target[:, 0] * n[1] + target[:, 1]) * n[2] + target[:, 2]
        moved = np.zeros_like(w)
        moved[:, t_index] = np.einsum("ji,ts,mnis->mnjt", d, s, w)
        back = (idx @ rot_p.T) % n  # αR: where the partners sit before the shift R_a
        b_index = (back[:, 0] * n[1] + back[:, 1]) * n[2] + back[:, 2]
        expected = np.zeros_like(w)
        expected[:, t_index] = np.einsum("pm,pnis->mnis", rho, w[:, b_index])
        sym = max(sym, float(np.max(np.abs(moved - expected))))
    tau = -1j * SIGMA_Y
    tw = np.einsum("st,mnit->mnis", tau, w.conj())  # T = −iσ_y K on spin, orbitals real
    tr = float(np.max(np.abs(tw - np.einsum("pm,pnis->mnis", tau, w))))
    # ⟨w_m(· − R)|w_m'⟩ = Σ_R' W_m(R' − R)* W_m'(R'): a circular correlation over the BvK cell
    grid = w.reshape(2, *wf.divisions, -1)
    ft = np.fft.fftn(grid, axes=(1, 2, 3))
    corr = np.fft.ifftn(np.einsum("mxyzo,pxyzo->mpxyz", ft.conj(), ft), axes=(2, 3, 4))
    ident = np.zeros_like(corr)
    ident[0, 0, 0, 0, 0] = ident[1, 1, 0, 0, 0] = 1
    orth = float(np.max(np.abs(corr - ident)))
    return ModelWannierChecks(sym, tr, orth)
