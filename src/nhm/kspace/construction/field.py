"""The Bloch-spinor field F(k) on a mesh: how it is propagated, its spreads, and the conditions it must meet.

Construction (science.md §4; the constraint spaces V_k are those of :mod:`nhm.kspace.constraints.spaces`):
F is stored at the representatives of the *primary* stars (of each pair star, −star, the one with
the smaller representative) and propagated: F(b k) = λ^Γ(b) S(b) F(k) S(b)† over a star
(``KMesh.star_op`` gives b), F(−k) = σ_y F(k)* σ_y onto the partner star and onto the second half
of a star that contains −k (``KMesh.time_reversed``: in non-centrosymmetric groups the star gauge
alone can contradict time reversal by a sign). Symmetry and time reversal then hold by
construction wherever F(k) ∈ V_k; the residuals below verify it at every mesh point and for
*every* operation mapping k to αk (not only the chosen b). How F is chosen in V_k is
:mod:`nhm.kspace.construction.optimise`; :class:`SpinorField` is the result.

R2 points (reading R2, ``BandCharacters.r2_spinors``). At the mesh points of stars where the band's
spatial level is a d-dimensional irrep (d > 1), F is not defined: ``SpinorField.f`` holds NaN there
(``SpinorField.defined`` is False) and the band's Bloch spinors are the fixed Ψ_K = (V_K ⊗ 1₂) A_K
(docs/theory.md §6). They are not variables. In the local maximisation at an R1 point k, a bond to an
R2 point K contributes the fixed 2×2 matrix B = (c_k ⊗ 1₂)† Ψ_K = (m ⊗ 1₂) A_K, m = c_k† V_K, in place of
|M_kb| F(k+b): the bond's Bloch-spinor overlap is O = F(k)† B, and the projective term 4 − 2|tr O| is the
R1 term 4 − 2|M||tr F†F′| with d spatial overlaps instead of one (only projective: the phase of B is
the spatial gauge of c_k). Bonds between two R2 points are the constant 4 − 2|tr Ψ_k†Ψ_K|. The spin-only
spreads Ω, Ω_P leave out every bond that touches an R2 point (F is undefined there); Ω_P with the
spatial overlaps (``spread_with_overlaps``) includes them with the Bloch-spinor overlaps above.

Why the projective spread. The overall phase of F(k) is the phase of the spatial Bloch function, which
the model band does not fix: an assembled band switches branch along planes of symmetry (the spatial
φ_k itself changes sign there, M_{k,b} = −1), so "M = 1" in one global gauge would force sign jumps of F
that are jumps of the spatial band, not of the spin. The spin axes n_m(k) and frames O(k) do not see
the phase; Ω_P (per-bond optimal phase) measures exactly their smoothness, and Ω (plain, M = 1 after
phase synchronisation) is reported alongside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from nhm.kspace.constraints.characters import BandCharacters, characters_everywhere
from nhm.kspace.constraints.spaces import SIGMA_Y_ACTION, ConstraintSpaces, KIndependence
from nhm.kspace.mesh import KMesh
from nhm.kspace.spin import spin_vectors, time_reverse


Mode = str  # "projective" | "plain"


@dataclass(frozen=True)
class Residuals:
    """Largest violations (Frobenius norms) of the conditions F must satisfy."""

    constraint: float  # λ_h S F S† = F on the little co-group of every mesh point
    star: float  # F(αk) = e^{iθ} S F(k) S† for EVERY operation α and k (θ: the spatial gauge)
    time_reversal: float  # F(−k) = σ_y F(k)* σ_y
    unitarity: float  # F†F = 1
    r2: float = 0.0  # R2 points: largest of the R2Spinors residuals (propagation vs direct solution, (E1)/(E2), gauge, isometry)


@dataclass(frozen=True, eq=False)
class SpinorField:
    """F(k) on the mesh (``f``, (N, 2, 2), after phase synchronisation) and how it was obtained.

    ``f_reference`` is F in the reference gauge of :mod:`nhm.kspace.constraints.spaces` (exact star relations
    with λ^Γ), ``phase`` the spatial phases e^{iθ(k)} with ``f = phase · f_reference``. Spreads in units
    of a² (a the conventional lattice constant), summed over both spin-dependent WFs.
    """

    spaces: ConstraintSpaces
    f: np.ndarray
    f_reference: np.ndarray
    phase: np.ndarray
    k_independence: KIndependence
    iterations: int
    converged: bool
    mode: Mode
    history: tuple[float, ...] = field(default=())
    overlaps: np.ndarray | None = None  # |M_kb| of the spatial band on the stencil, if known

    @cached_property
    def spread_with_overlaps(self) -> float | None:
        """Ω_P with the spatial overlaps, N⁻¹ Σ w_b (4 − 2|M_kb||tr F†F′|): the phase-free spread of the
        spin-dependent WFs including their spatial part (None without Bloch functions). Bonds touching R2
        points enter with their Bloch-spinor overlaps (module docstring)."""
        return None if self.overlaps is None else spread(self.mesh, self.f, projective=True, overlaps=self.overlaps, r2=self.r2)

    @property
    def r2(self):
        """The fixed Bloch spinors at the R2 points (:class:`nhm.kspace.sources.tightbinding_levels.R2Spinors`), or None."""
        return self.spaces.characters.r2_spinors

    @cached_property
    def defined(self) -> np.ndarray:
        """(N,) bool: F(k) is defined (False at the R2 points, where ``f`` is NaN)."""
        return np.ones(self.mesh.size, dtype=bool) if self.r2 is None else ~self.r2.mask

    @cached_property
    def spin_axes(self) -> np.ndarray:
        """(N, 2, 3) n_m(k) = ⟨σ⟩ of the spinor columns: from F where defined, from Ψ_K = (V ⊗ 1)A at the
        R2 points (A†(1_d ⊗ σ)A; shorter than 1 there when d > 1)."""
        n = spin_vectors(np.where(self.defined[:, None, None], self.f, 0))
        if self.r2 is not None and len(self.r2.points):
            n[self.r2.points] = self.r2.spin_axes()
        return n

    @property
    def mesh(self) -> KMesh:
        return self.spaces.mesh

    @property
    def characters(self) -> BandCharacters:
        return self.spaces.characters

    @cached_property
    def spread(self) -> float:
        """Ω = N⁻¹ Σ_k Σ_b w_b ‖F(k+b) − F(k)‖² (M = 1, after phase synchronisation)."""
        return spread(self.mesh, self.f, r2=self.r2)

    @cached_property
    def spread_projective(self) -> float:
        """Ω_P = N⁻¹ Σ_k Σ_b w_b min_θ ‖F(k+b) − e^{iθ} F(k)‖² (the spin frame's smoothness)."""
        return spread(self.mesh, self.f, projective=True, r2=self.r2)

    @cached_property
    def residuals(self) -> Residuals:
        return residuals(self.spaces, self.f_reference, self.f)

    @cached_property
    def r2_bond_count(self) -> int:
        """Directed stencil bonds (k, k+b) with at least one end at an R2 point."""
        if self.r2 is None:
            return 0
        _, _, table = self.mesh.neighbours
        return int(np.sum(self.r2.mask[:, None] | self.r2.mask[table]))

    @cached_property
    def bond_distances(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(plain, phase-free, spin-axis) distances of F on every stencil bond (k, b), each (N, n_b):
        ‖F(k+b) − F(k)‖, min_θ ‖F(k+b) − e^{iθ}F(k)‖ and |n_{+½}(k+b) − n_{+½}(k)|."""
        _, _, table = self.mesh.neighbours
        ov = np.einsum("kab,knab->kn", self.f.conj(), self.f[table])
        plain = np.sqrt(np.maximum(4 - 2 * ov.real, 0))
        proj = np.sqrt(np.maximum(4 - 2 * np.abs(ov), 0))
        n = spin_vectors(self.f)[:, 0]
        return plain, proj, np.linalg.norm(n[table] - n[:, None, :], axis=-1)  # NaN on bonds touching R2 points


def spread(mesh: KMesh, f: np.ndarray, *, projective: bool = False, overlaps: np.ndarray | None = None, r2=None) -> float:
    """N⁻¹ Σ_k Σ_b w_b (4 − 2 Re tr F(k)†F(k+b) M_kb), a² — the finite-difference spread of both
    spin-dependent WFs whose Bloch spinors are F(k) times one spatial Bloch function; ``projective``
    takes |·| instead of Re (the phase-free form); ``overlaps`` are |M_kb| = |⟨u_k|u_{k+b}⟩| of the
    spatial band (N, n_b), so the spatial spread is included (default 1: a smooth spatial band).

    ``r2`` (:class:`nhm.kspace.sources.tightbinding_levels.R2Spinors`): F is NaN at its points. Without ``overlaps`` the bonds
    touching them are left out (F undefined there); with ``overlaps`` (projective only) they enter as
    4 − 2|tr O| with the Bloch-spinor overlaps O of :func:`r2_bond_matrices`."""
    steps, w, table = mesh.neighbours
    if r2 is None or not len(r2.points):
        ov = np.einsum("kab,knab->kn", f.conj(), f[table])  # tr F(k)† F(k+b)
        mag = 1.0 if overlaps is None else overlaps
        per = 4.0 - 2.0 * mag * (np.abs(ov) if projective else ov.real)
        return max(float(np.sum(per * w[None, :]) / mesh.size), 0.0)  # ≥ 0; round-off can give −1e-15
    return max(float(np.sum(bond_terms(mesh, f, r2, projective=projective, overlaps=overlaps) * w[None, :]) / mesh.size), 0.0)


def bond_terms(mesh: KMesh, f: np.ndarray, r2, *, projective: bool = True, overlaps: np.ndarray | None = None) -> np.ndarray:
    """(N, n_b) per-bond terms 4 − 2|tr O_kb| (or 4 − 2 Re tr, plain) of a field with R2 points; bonds
    touching R2 points are 0 without ``overlaps`` (left out) and the Bloch-spinor term with them."""
    _, _, table = mesh.neighbours
    fs = np.where(r2.mask[:, None, None], 0, f)
    ov = np.einsum("kab,knab->kn", fs.conj(), fs[table])
    mag = 1.0 if overlaps is None else overlaps
    per = 4.0 - 2.0 * mag * (np.abs(ov) if projective else ov.real)
    kind, mats = r2_bond_matrices(mesh, r2)
    per = np.where(kind > 0, 0.0, per)
    if overlaps is not None:
        if not projective:
            raise ValueError("the spread with R2 points and spatial overlaps is defined in projective form only")
        tr = np.zeros(kind.shape, dtype=complex)
        k1 = kind == 1  # R1 → R2: O = F(k)† B
        tr[k1] = np.einsum("nab,nab->n", fs[np.nonzero(k1)[0]].conj(), mats[k1])
        k2 = kind == 2  # R2 → R1: O = B F(k+b)
        tr[k2] = np.einsum("nab,nba->n", mats[k2], fs[table[k2]])
        k3 = kind == 3  # R2 → R2: O = Ψ_k† Ψ_{k+b}
        tr[k3] = np.einsum("naa->n", mats[k3])
        per = np.where(kind > 0, 4.0 - 2.0 * np.abs(tr), per)
    return per


def r2_bond_matrices(mesh: KMesh, r2) -> tuple[np.ndarray, np.ndarray]:
    """``(kind, mats)`` on the stencil (N, n_b) and (N, n_b, 2, 2): kind 0 for bonds between R1 points
    (mats 0), 1 for R1 k → R2 k+b (mats B = (c_k ⊗ 1₂)† Ψ_{k+b}, O = F(k)† B), 2 for R2 k → R1 k+b
    (mats Ψ_k† (c_{k+b} ⊗ 1₂), O = mats F(k+b)), 3 between R2 points (mats O = Ψ_k† Ψ_{k+b}).
    c_k are the band's raw eigenvectors (their phases only enter phase-free quantities)."""
    if hasattr(r2, "bond_matrices"):  # the DFT path's block spinors carry their bonds (nhm.kspace.sources.states)
        return r2.bond_matrices(mesh)
    _, _, table = mesh.neighbours
    mask = r2.mask
    kind = 2 * mask[:, None].astype(int) + mask[table].astype(int)
    mats = np.zeros((*table.shape, 2, 2), dtype=complex)
    c = r2.vectors  # (N, n)
    n = c.shape[1]
    psi = r2.psi.reshape(len(r2.points), n, 2, 2)  # (pt, i, s, m)
    for kd in (1, 2, 3):
        kk, bb = np.nonzero(kind == kd)
        nb = table[kk, bb]
        if kd == 1:
            mats[kk, bb] = np.einsum("ki,kism->ksm", c[kk].conj(), psi[r2.slot[nb]])
        elif kd == 2:
            mats[kk, bb] = np.einsum("kism,ki->kms", psi[r2.slot[kk]].conj(), c[nb])
        else:
            mats[kk, bb] = np.einsum("kism,kisn->kmn", psi[r2.slot[kk]].conj(), psi[r2.slot[nb]])
    return kind, mats


def propagate(spaces: ConstraintSpaces, f_reps: np.ndarray) -> np.ndarray:
    """The full-mesh field from its values at the primary representatives (reference gauge)."""
    mesh = spaces.mesh
    lifts = mesh.group.lifts
    slot = np.full(mesh.size, -1)
    slot[spaces.reps] = np.arange(len(spaces.reps))
    out = np.full((mesh.size, 2, 2), np.nan, dtype=complex)  # NaN at R2 points: F is not defined there
    r2 = r2_mask(spaces)
    direct = np.nonzero(~mesh.time_reversed & ~r2)[0]
    s = lifts[mesh.star_op[direct]]
    base = f_reps[slot[mesh.star_rep[direct]]]
    out[direct] = spaces.lam_star[direct, None, None] * (s @ base @ np.swapaxes(s.conj(), -1, -2))
    rev = np.nonzero(mesh.time_reversed & ~r2)[0]
    out[rev] = time_reverse(out[mesh.minus[rev]])  # −k of a time-reversed point is a direct one
    return out


def r2_mask(spaces: ConstraintSpaces) -> np.ndarray:
    """(N,) bool: the mesh point is an R2 point (F not defined)."""
    r2 = spaces.characters.r2_spinors
    return np.zeros(spaces.mesh.size, dtype=bool) if r2 is None else r2.mask


def point_actions(spaces: ConstraintSpaces) -> tuple[np.ndarray, np.ndarray]:
    """``(g, rho)``: vec F(k) = g[k] @ vec F(rep ρ(k)) (real 8×8 maps; star propagation with λ^Γ, then
    time reversal — antilinear, hence real-linear on R⁸ — onto the partner stars). Zero at R2 points."""
    mesh = spaces.mesh
    lifts = mesh.group.lifts
    slot = np.full(mesh.size, -1)
    slot[spaces.reps] = np.arange(len(spaces.reps))
    src = np.where(mesh.time_reversed, mesh.minus, np.arange(mesh.size))
    rho = slot[mesh.star_rep[src]]
    s = lifts[mesh.star_op[src]]
    lam = spaces.lam_star[src]
    kron = np.einsum("kab,kcd->kacbd", s.conj(), s).reshape(-1, 4, 4) * lam[:, None, None]
    g = np.block([[kron.real, -kron.imag], [kron.imag, kron.real]])
    tr = np.block([[SIGMA_Y_ACTION.real, SIGMA_Y_ACTION.imag], [SIGMA_Y_ACTION.imag, -SIGMA_Y_ACTION.real]])
    g = np.where(mesh.time_reversed[:, None, None], tr @ g, g)
    r2 = r2_mask(spaces)
    g[r2] = 0.0  # R2 points: no F (callers put the fixed Bloch-spinor bond terms there)
    rho[r2] = 0
    return g, rho



def _phase_free_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """min_θ ‖a − e^{iθ} b‖ for stacks of 2×2 matrices (ω = phase of tr b†a; no sqrt of a difference)."""
    ov = np.einsum("kab,kab->k", b.conj(), a)
    om = np.where(np.abs(ov) > 1e-300, ov / np.maximum(np.abs(ov), 1e-300), 1.0)
    return np.linalg.norm(a - om[:, None, None] * b, axis=(1, 2))


def residuals(spaces: ConstraintSpaces, f_ref: np.ndarray, f: np.ndarray) -> Residuals:
    """The conditions, checked at every mesh point (not only where F was constructed).

    - constraint: λ_h(k) S_h F(k) S_h† = F(k) for every h of the little co-group G_k, λ the band's
      character (gauge-invariant), in both gauges;
    - star: F(αk) = e^{iθ} S(α) F(k) S(α)† for every coset representative α and every k, with the
      phase e^{iθ} = λ_α(k) free for α ∉ G_k (it is the spatial gauge c_α(k); the construction fixes it
      by λ^Γ and by time reversal) — the distance minimized over θ;
    - time reversal: F(−k) = σ_y F(k)* σ_y exactly (the TR gauge φ_{−k} = φ_k*), in both gauges;
    - unitarity;
    - at R2 points (where F is undefined and not checked): the residuals of their fixed Bloch spinors.
    """
    mesh = spaces.mesh
    g = mesh.group
    lifts = g.lifts
    lam = characters_everywhere(spaces.characters)
    ok = ~r2_mask(spaces)  # R2 stars are closed under every operation and −k: checked where F is defined
    worst = 0.0
    star = 0.0
    for i in range(g.order):
        s = lifts[i]
        fixed = np.nonzero(mesh.cogroup_mask[i] & ok)[0]
        for fld in (f_ref, f):
            img = s @ fld[fixed] @ s.conj().T
            worst = max(worst, float(np.max(np.linalg.norm(lam[fixed, i, None, None] * img - fld[fixed], axis=(1, 2)), initial=0.0)))
        pred = s @ f_ref[ok] @ s.conj().T
        star = max(star, float(np.max(_phase_free_distance(f_ref[mesh.image[i][ok]], pred))))
    tr = max(float(np.max(np.linalg.norm(x[mesh.minus[ok]] - time_reverse(x[ok]), axis=(1, 2)))) for x in (f, f_ref))
    uni = float(np.max(np.linalg.norm(np.swapaxes(f[ok].conj(), 1, 2) @ f[ok] - np.eye(2), axis=(1, 2))))
    r2 = spaces.characters.r2_spinors
    r2_res = 0.0 if r2 is None else max(r2.direct, r2.symmetry, r2.gauge, r2.isometry)
    if not (np.all(np.isfinite(f[ok])) and np.all(np.isfinite(f_ref[ok]))):
        raise AssertionError("F is not finite at a point where it is defined")
    return Residuals(worst, star, tr, uni, r2_res)
