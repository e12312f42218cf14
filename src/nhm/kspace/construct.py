"""The Bloch-spinor field F(k): symmetric, time-reversal adapted, and as smooth as the constraints allow.

Construction (science.md §4; the constraint spaces V_k are those of :mod:`nhm.kspace.constraints`):

1. F is stored at the representatives of the *primary* stars (of each pair star, −star, the one with
   the smaller representative) and propagated: F(b k) = λ^Γ(b) S(b) F(k) S(b)† over a star
   (``KMesh.star_op`` gives b), F(−k) = σ_y F(k)* σ_y onto the partner star and onto the second half
   of a star that contains −k (``KMesh.time_reversed``: in non-centrosymmetric groups the star gauge
   alone can contradict time reversal by a sign). Symmetry and time reversal then hold by
   construction wherever F(k) ∈ V_k; the residuals below verify it at every mesh point and for
   *every* operation mapping k to αk (not only the chosen b).
2. Start: the constant F0 if one exists (then it is the answer: spread 0), else the polar factor of
   the projection of the identity (random elements of V_k where that projection is singular), or the
   field of the next coarser mesh (coarse-to-fine, trilinear interpolation).
3. Relaxation (vectorized over the representatives): F(k) ← polar[P_k(Σ_b w_b ω_kb F(k+b) + c F(k))],
   P_k the orthogonal projector onto V_k, c = Σ_b w_b a damping term that keeps the simultaneous update
   from oscillating. Because V_k is closed under the polar factor this is the exact maximiser of the
   local term over unitary F ∈ V_k. ``mode="projective"`` (default) uses the phases
   ω_kb = conj(tr F(k)†F(k+b))/|·| and minimises the spread *modulo the spatial phase* (the spin
   frame's smoothness; see below); ``mode="plain"`` uses ω = 1, i.e. the spread with M = 1 in the
   reference gauge.
4. Spatial-phase synchronisation (projective mode): F(k) ← e^{iθ(k)} F(k) with θ(−k) = −θ(k), chosen by
   a maximum-spanning-tree start and local iterations to minimise the plain spread. This is a change of
   the spatial gauge φ_k → e^{iθ(k)}φ_k; it changes λ on operations mapping k elsewhere (the gauge part)
   but not on the little co-groups, and keeps F(−k) = σ_y F(k)* σ_y exact.

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

from nhm.errors import InputError
from nhm.kspace.constraints import SIGMA_Y_ACTION, BandCharacters, characters_everywhere, ConstraintSpaces, KIndependence, constraint_spaces, k_independent, unvec, vec
from nhm.kspace.mesh import KMesh, make_mesh
from nhm.kspace.spin import polar_unitary, spin_vectors, time_reverse

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

    ``f_reference`` is F in the reference gauge of :mod:`nhm.kspace.constraints` (exact star relations
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
        """The fixed Bloch spinors at the R2 points (:class:`nhm.kspace.embedding.R2Spinors`), or None."""
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

    ``r2`` (:class:`nhm.kspace.embedding.R2Spinors`): F is NaN at its points. Without ``overlaps`` the bonds
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
    if hasattr(r2, "bond_matrices"):  # the DFT path's block spinors carry their bonds (nhm.kspace.states)
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
    r2 = _r2_mask(spaces)
    direct = np.nonzero(~mesh.time_reversed & ~r2)[0]
    s = lifts[mesh.star_op[direct]]
    base = f_reps[slot[mesh.star_rep[direct]]]
    out[direct] = spaces.lam_star[direct, None, None] * (s @ base @ np.swapaxes(s.conj(), -1, -2))
    rev = np.nonzero(mesh.time_reversed & ~r2)[0]
    out[rev] = time_reverse(out[mesh.minus[rev]])  # −k of a time-reversed point is a direct one
    return out


def _r2_mask(spaces: ConstraintSpaces) -> np.ndarray:
    """(N,) bool: the mesh point is an R2 point (F not defined)."""
    r2 = spaces.characters.r2_spinors
    return np.zeros(spaces.mesh.size, dtype=bool) if r2 is None else r2.mask


def _project_polar(spaces: ConstraintSpaces, target: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Polar factor of the projection of ``target`` (2×2 per representative) onto V_k."""
    return _project_polar_vec(spaces, vec(target), fallback)


def _project_polar_vec(spaces: ConstraintSpaces, x: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """The same for targets given as real 8-vectors; ``fallback`` where the projection is (nearly) singular."""
    t = unvec(np.einsum("nij,nj->ni", spaces.projector, x))
    det = np.abs(t[:, 0, 0] * t[:, 1, 1] - t[:, 0, 1] * t[:, 1, 0])
    good = det > 1e-10 * np.maximum(np.sum(np.abs(t) ** 2, axis=(1, 2)) / 2, 1e-300)
    out = fallback.copy()
    out[good] = polar_unitary(t[good])
    return out


def _initial(spaces: ConstraintSpaces, kind: KIndependence, rng: np.random.Generator) -> np.ndarray:
    n = len(spaces.reps)
    if kind.possible:
        f0 = np.broadcast_to(kind.f0, (n, 2, 2)).copy()
        return _project_polar(spaces, f0, f0)
    out = np.empty((n, 2, 2), dtype=complex)
    ident = np.broadcast_to(np.eye(2, dtype=complex), (n, 2, 2))
    x = np.einsum("nij,nj->ni", spaces.projector, vec(ident))
    for i, q in enumerate(spaces.bases):
        t = unvec(x[i])
        for _ in range(20):
            if abs(np.linalg.det(t)) > 1e-6 * max(np.linalg.norm(t) ** 2, 1e-12):
                break
            t = unvec(q @ rng.normal(size=q.shape[1]))
        out[i] = polar_unitary(t)
    return out


def _point_actions(spaces: ConstraintSpaces) -> tuple[np.ndarray, np.ndarray]:
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
    r2 = _r2_mask(spaces)
    g[r2] = 0.0  # R2 points: no F (callers put the fixed Bloch-spinor bond terms there)
    rho[r2] = 0
    return g, rho


def _point_maps(spaces: ConstraintSpaces) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(h, rho, dims)``: x_k = h[k] @ y_ρ(k) writes vec F(k) (real 8-vector) in the coordinates y of
    V_ρ(k) at its representative: star propagation, then time reversal onto the partner stars.
    ``h`` is zero-padded to the largest dimension."""
    g, rho = _point_actions(spaces)
    dims = np.array([q.shape[1] for q in spaces.bases])
    dmax = int(dims.max())
    qpad = np.zeros((len(spaces.reps), 8, dmax))
    for i, q in enumerate(spaces.bases):
        qpad[i, :, : q.shape[1]] = q
    return g @ qpad[rho], rho, dims


_J = np.block([[np.zeros((4, 4)), np.eye(4)], [-np.eye(4), np.zeros((4, 4))]])  # multiplication by i on R⁸


def _spectral_initial(spaces: ConstraintSpaces, mode: Mode) -> np.ndarray | None:
    """Global start by a spectral relaxation (as for synchronisation problems): the leading eigenvector
    of a quadratic form on the whole mesh, then the best unitary per representative.

    Plain mode: the form Σ_k Σ_b w_b Re tr F(k)†F(k+b) on symmetric fields x_k = vec F(k) ∈ V_k
    (unitarity relaxed to a global norm). Projective mode: the phase-blind form
    Σ w_b |tr F(k)†F(k+b)|² written on the rank-one lifts X_k = x_k x_kᵀ, relaxed to symmetric
    matrices Y per representative; F(k) is then the leading eigenvector of Y. Seeing the whole zone at
    once, the relaxation starts near a global optimum instead of freezing domain walls. Returns None on
    failure (ARPACK, or a singular value at some representative).
    """
    from scipy.sparse.linalg import LinearOperator, eigsh

    mesh = spaces.mesh
    _, w, table = mesh.neighbours
    h, rho, dims = _point_maps(spaces)
    n_rep = len(spaces.reps)
    dmax = h.shape[2]
    rng = np.random.default_rng(7)
    if mode == "plain":
        def apply(y: np.ndarray) -> np.ndarray:
            yr = y.reshape(n_rep, dmax)
            x = np.einsum("kia,ka->ki", h, yr[rho])
            z = np.einsum("n,kni->ki", w, x[table])
            out = np.zeros((n_rep, dmax))
            np.add.at(out, rho, np.einsum("kia,ki->ka", h, z))
            return out.ravel()

        size = n_rep * dmax
    else:
        iu = np.triu_indices(dmax)
        scale = np.where(iu[0] == iu[1], 1.0, np.sqrt(2.0))  # isometric packing of symmetric matrices

        def unpack(y: np.ndarray) -> np.ndarray:
            m = np.zeros((n_rep, dmax, dmax))
            m[:, iu[0], iu[1]] = y.reshape(n_rep, -1) / scale
            return m + np.swapaxes(m, 1, 2) - np.einsum("nii->ni", m)[:, :, None] * np.eye(dmax)

        def apply(y: np.ndarray) -> np.ndarray:
            ym = unpack(y)
            x = np.einsum("kia,kab,kjb->kij", h, ym[rho], h)  # X_k (N, 8, 8)
            xs = x + _J @ x @ _J.T  # phase average: tr X X' + tr X J X' Jᵀ = |v†v'|²
            z = np.einsum("n,knij->kij", w, xs[table])
            out = np.zeros((n_rep, dmax, dmax))
            np.add.at(out, rho, np.einsum("kia,kij,kjb->kab", h, z, h))
            return (out[:, iu[0], iu[1]] * scale).ravel()

        size = n_rep * len(iu[0])
    op = LinearOperator((size, size), matvec=apply, dtype=float)
    try:
        _, vec_ = eigsh(op, k=1, which="LA", tol=1e-6, maxiter=5000, v0=rng.normal(size=size))
    except Exception:  # noqa: BLE001 - ARPACK non-convergence: the caller falls back
        return None
    y = vec_[:, 0]
    out = np.empty((n_rep, 2, 2), dtype=complex)
    for i, q in enumerate(spaces.bases):
        d = q.shape[1]
        if mode == "plain":
            yi = y.reshape(n_rep, dmax)[i, :d]
        else:
            ym = unpack(y)[i, :d, :d]
            ev, evec = np.linalg.eigh(ym)
            yi = evec[:, -1] if abs(ev[-1]) >= abs(ev[0]) else evec[:, 0]
        f = unvec(q @ yi)
        if abs(np.linalg.det(f)) < 1e-9 * max(np.linalg.norm(f) ** 2, 1e-300):
            # a singular leading vector: take the nearest invertible element of V_k by a small random push
            f = unvec(q @ (yi + 1e-3 * rng.normal(size=d)))
        out[i] = polar_unitary(f)
    return out


def _interpolate(coarse: SpinorField, spaces: ConstraintSpaces) -> np.ndarray:
    """Trilinear interpolation of the coarse field at the fine representatives, then projection + polar."""
    cm, fm = coarse.mesh, spaces.mesh
    cdiv = np.array(cm.divisions)
    fdiv = np.array(fm.divisions)
    cf = coarse.f.reshape(*cm.divisions, 2, 2)
    x = fm.indices[spaces.reps] * (cdiv / fdiv)
    lo = np.floor(x).astype(int)
    fr = x - lo
    acc = np.zeros((len(spaces.reps), 2, 2), dtype=complex)
    # align corner phases with the first corner so that an arbitrary spatial phase does not cancel
    ref = cf[tuple((lo % cdiv).T)]
    ref = np.where(np.all(np.isfinite(ref), axis=(1, 2))[:, None, None], ref, 0)  # R2 points: no F
    for corner in np.ndindex(2, 2, 2):
        c = np.array(corner)
        idx = (lo + c) % cdiv
        wgt = np.prod(np.where(c == 1, fr, 1 - fr), axis=1)
        val = cf[tuple(idx.T)]
        val = np.where(np.all(np.isfinite(val), axis=(1, 2))[:, None, None], val, 0)  # R2 points: no weight
        ov = np.einsum("nab,nab->n", val.conj(), ref)
        ph = np.where(np.abs(ov) > 1e-12, ov / np.maximum(np.abs(ov), 1e-300), 1.0)
        acc += wgt[:, None, None] * ph[:, None, None] * val
    rng = np.random.default_rng(3)
    start = _initial(spaces, KIndependence(False, 0, None, ()), rng)
    return _project_polar(spaces, acc, start)


def _relax(
    spaces: ConstraintSpaces, f_reps: np.ndarray, mode: Mode, max_iter: int, tol: float, overlaps: np.ndarray | None = None
) -> tuple[np.ndarray, int, bool, list[float]]:
    """Projective mode: first the smooth surrogate Σ w (4 − |tr F†F′|²) (its optimum does not depend
    on the start nearly as much: |tr| is not differentiable at the orthogonal jump bonds, and its
    relaxation freezes wherever it starts), then Ω_P itself from there."""
    if mode == "projective":
        f_reps, it1, _, _ = _relax_once(spaces, f_reps, mode, max_iter, tol, True, overlaps)
        f_reps, it2, conv, hist = _relax_once(spaces, f_reps, mode, max_iter, tol, False, overlaps)
        return f_reps, it1 + it2, conv, hist
    return _relax_once(spaces, f_reps, mode, max_iter, tol, False, overlaps)


def _relax_once(
    spaces: ConstraintSpaces, f_reps: np.ndarray, mode: Mode, max_iter: int, tol: float, smooth: bool,
    overlaps: np.ndarray | None = None,
) -> tuple[np.ndarray, int, bool, list[float]]:
    """Damped projected-polar iterations, all in the real 8-dimensional coordinates x = vec F: the
    stencil neighbours of a representative are fixed real 8×8 images of representatives (star
    propagation and time reversal), precomputed once."""
    mesh = spaces.mesh
    _, w, table = mesh.neighbours
    g, rho = _point_actions(spaces)
    nb = table[spaces.reps]
    a_nb = g[nb]  # (n_reps, n_b, 8, 8)
    r_nb = rho[nb]
    # per-bond weights w_b |M_kb| (the spatial overlaps enter the spread as bond strengths)
    wk = np.broadcast_to(w[None, :], nb.shape) if overlaps is None else w[None, :] * overlaps[spaces.reps]
    r2 = spaces.characters.r2_spinors
    r2_nb = None
    if r2 is not None and len(r2.points):
        if mode != "projective":
            raise InputError("bands with R2 points are optimised in projective mode only (the phase of a bond to an R2 point is the spatial gauge)")
        kind, mats = r2_bond_matrices(mesh, r2)
        r2_nb = kind[spaces.reps] == 1  # bonds from a representative to an R2 point
        b_vec = vec(mats[spaces.reps])  # (n_reps, n_b, 8): B = (c_k ⊗ 1)† Ψ_K replaces |M| F(k+b)
        wk = np.where(r2_nb, w[None, :], wk)
    damping = float(np.sum(w))
    history: list[float] = []
    converged = False
    x = vec(f_reps)
    it = 0
    for it in range(1, max_iter + 1):
        neigh = np.einsum("knij,knj->kni", a_nb, x[r_nb])  # vec F(k+b)
        if r2_nb is not None:
            neigh = np.where(r2_nb[..., None], b_vec, neigh)
        if mode == "projective":
            re = np.einsum("ki,kni->kn", x, neigh)  # Re tr F†F′
            im = np.einsum("ki,kni->kn", x[:, :4], neigh[..., 4:]) - np.einsum("ki,kni->kn", x[:, 4:], neigh[..., :4])
            if smooth:  # weights conj(tr)/2: the gradient of Σ w |tr F†F′|², smooth where tr = 0
                om_re, om_im = re / 2, -im / 2
            else:
                mag = np.hypot(re, im)
                ok = mag > 1e-12
                safe = np.where(ok, mag, 1.0)
                om_re, om_im = np.where(ok, re / safe, 1.0), np.where(ok, -im / safe, 0.0)
            wr, wi = wk * om_re, wk * om_im
            t_re = np.einsum("kn,kni->ki", wr, neigh[..., :4]) - np.einsum("kn,kni->ki", wi, neigh[..., 4:])
            t_im = np.einsum("kn,kni->ki", wr, neigh[..., 4:]) + np.einsum("kn,kni->ki", wi, neigh[..., :4])
            target = np.concatenate([t_re, t_im], axis=1)
        else:
            target = np.einsum("kn,kni->ki", wk, neigh)
        new = _project_polar_vec(spaces, target + damping * x, f_reps)
        if mode == "projective":  # min over the phase: ‖new − ω old‖ with ω the phase of tr(old† new)
            ov = np.einsum("kab,kab->k", f_reps.conj(), new)
            om = np.where(np.abs(ov) > 1e-12, ov / np.maximum(np.abs(ov), 1e-300), 1.0)
            change = float(np.max(np.linalg.norm(new - om[:, None, None] * f_reps, axis=(1, 2))))
        else:
            change = float(np.max(np.linalg.norm(new - f_reps, axis=(1, 2))))
        f_reps = new
        x = vec(f_reps)
        if change < tol:
            converged = True
            break
    # the objective: with R2 points and no spatial overlaps, |M| = 1 on the R1 bonds and the Bloch-spinor terms on the others
    ov_hist = overlaps if (overlaps is not None or r2_nb is None) else np.ones(table.shape)
    history.append(spread(mesh, propagate(spaces, f_reps), projective=(mode == "projective"), overlaps=ov_hist, r2=r2))
    return f_reps, it, converged, history


def synchronize_phases(mesh: KMesh, f: np.ndarray, max_iter: int = 2000, tol: float = 1e-10, defined: np.ndarray | None = None) -> np.ndarray:
    """Spatial phases e^{iθ(k)}, θ(−k) = −θ(k), that minimise the plain spread of e^{iθ(k)} F(k).

    A U(1) synchronisation problem: maximise Σ_k Σ_b w_b Re e^{i(θ(k+b) − θ(k))} tr F(k)†F(k+b). Start:
    the leading eigenvector of the Hermitian matrix H_{k,k+b} = w_b tr F(k)†F(k+b) (spectral method),
    made time-reversal symmetric; then damped local iterations, each the exact maximiser for one k
    (and −k) given its neighbours. Where the spin frame has a Z₂ defect line the phase winds by π around
    it (a half vortex) instead of leaving a sign wall. ``defined`` (N,) bool: where F exists (False at
    R2 points: their bonds are left out and their phase is 1).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import eigsh

    _, w, table = mesh.neighbours
    n = mesh.size
    if defined is not None:
        f = np.where(defined[:, None, None], f, 0)
    ov = np.einsum("kab,knab->kn", f.conj(), f[table])  # tr F(k)† F(k+b)
    rows = np.repeat(np.arange(n), table.shape[1])
    h = coo_matrix(((ov * w[None, :]).ravel(), (rows, table.ravel())), shape=(n, n)).tocsr()
    h = 0.5 * (h + h.conj().T)
    try:
        _, v = eigsh(h, k=1, which="LA", tol=1e-8, maxiter=20 * n, v0=np.ones(n, dtype=complex))
        v = v[:, 0]
        ph = np.where(np.abs(v) > 1e-14, v / np.maximum(np.abs(v), 1e-300), 1.0)
    except Exception:  # noqa: BLE001 - ARPACK non-convergence: start from equal phases
        ph = np.ones(n, dtype=complex)
    ph = ph * np.conj(ph[0])  # Γ real positive
    ph = _tr_symmetrize(mesh, ph)
    damp = float(np.sum(w))
    trim = mesh.minus == np.arange(n)
    for _ in range(max_iter):
        z = np.einsum("n,kn,kn->k", w, ov, ph[table])  # Σ_b w tr(F_k† F_{k+b}) e^{iθ(k+b)}
        a = z + np.conj(z[mesh.minus]) + 2 * damp * ph
        new = np.where(np.abs(a) > 1e-14, a / np.maximum(np.abs(a), 1e-300), ph)
        new[trim] = np.where(a[trim].real >= 0, 1.0, -1.0)
        new = _tr_symmetrize(mesh, new)
        done = np.max(np.abs(new - ph)) < tol
        ph = new
        if done:
            break
    if defined is not None:
        ph = np.where(defined, ph, 1.0 + 0j)
    return ph


def _tr_symmetrize(mesh: KMesh, ph: np.ndarray) -> np.ndarray:
    a = ph + np.conj(ph[mesh.minus])
    out = np.where(np.abs(a) > 1e-12, a / np.maximum(np.abs(a), 1e-300), 1.0 + 0j)
    trim = mesh.minus == np.arange(mesh.size)
    out[trim] = np.where(ph[trim].real >= 0, 1.0, -1.0)
    return out


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
    ok = ~_r2_mask(spaces)  # R2 stars are closed under every operation and −k: checked where F is defined
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


def _coarser(mesh: KMesh) -> KMesh | None:
    div = mesh.divisions
    if any(d % 2 for d in div) or min(div) // 2 < 4:
        return None
    try:
        return make_mesh(mesh.space_group, tuple(d // 2 for d in div), mesh.lattice)
    except InputError:
        return None


def field_from_function(chars: BandCharacters, texture) -> SpinorField:
    """A symmetric, time-reversal-adapted field from a function ``texture(k_cart) -> (n, 2, 2)`` (no
    optimisation): its values at the primary representatives are projected onto V_k (polar factor) and
    propagated. Smooth where ``texture`` is itself covariant; used for illustrations (seed Fig. 1b)."""
    spaces = constraint_spaces(chars)
    kind = k_independent(chars)
    mesh = chars.mesh
    start = _initial(spaces, kind, np.random.default_rng(0))
    f_reps = _project_polar(spaces, texture(mesh.k_cartesian_bz[spaces.reps]), start)
    f = propagate(spaces, f_reps)
    return SpinorField(spaces, f, f, np.ones(mesh.size, dtype=complex), kind, 0, True, "texture", ())


def illustrative_texture(strength: float = 1.0, c_over_a: float = 1.6):
    """An even, rotation-about-z covariant texture F(k) = exp(−i θ(k)·σ/2) for illustrations:
    θ = s [3 sin(2π c k_z)(k × ẑ) + 2 sin(2π c k_z) k_∥ + 4 |k_∥|² ẑ] (k Cartesian, units 1/a).
    Even in k (so F(−k) = σ_y F(k)* σ_y) and θ(Rk) = Rθ(k) for rotations about z, so the field is smooth
    and symmetric in every group whose rotations are about z (e.g. P3, seed Fig. 1b)."""
    from nhm.kspace.spin import SIGMA

    def texture(k: np.ndarray) -> np.ndarray:
        k = np.asarray(k, dtype=float)
        sz = np.sin(2 * np.pi * c_over_a * k[:, 2])[:, None]
        par = k * np.array([1.0, 1.0, 0.0])
        tang = np.stack([k[:, 1], -k[:, 0], np.zeros(len(k))], axis=1)
        theta = strength * (3 * sz * tang + 2 * sz * par + 4 * np.sum(par**2, axis=1)[:, None] * np.array([0, 0, 1.0]))
        ang = np.linalg.norm(theta, axis=1)
        axis = theta / np.maximum(ang, 1e-300)[:, None]
        gen = np.einsum("ki,iab->kab", axis, SIGMA)
        return np.cos(ang / 2)[:, None, None] * np.eye(2) - 1j * np.sin(ang / 2)[:, None, None] * gen

    return texture


def _random_start(spaces: ConstraintSpaces, rng: np.random.Generator) -> np.ndarray:
    out = np.empty((len(spaces.reps), 2, 2), dtype=complex)
    for i, q in enumerate(spaces.bases):
        out[i] = polar_unitary(unvec(q @ rng.normal(size=q.shape[1])))
    return out


def build_field(
    chars: BandCharacters,
    *,
    mode: Mode = "projective",
    max_iter: int = 5000,
    tol: float = 1e-9,
    coarse_to_fine: bool = True,
    random_starts: int = 4,
    seed: int = 0,
    rebuild=None,
    overlaps=None,
) -> SpinorField:
    """The optimally smooth symmetric, time-reversal-adapted field F(k) for the band characters ``chars``.

    The spread has many local minima (where the defect lines of the spin frame run). Strategy: on the
    coarsest mesh (no coarser valid mesh, or no ``rebuild``) relax from several starts — the projected
    identity, the spectral start of ``mode``, ``random_starts`` random symmetric fields — and keep the
    smallest spread; on each finer mesh relax from the trilinear interpolation of the coarser optimum.
    ``rebuild(mesh) -> BandCharacters`` recomputes the characters on a coarser mesh. ``overlaps(mesh) ->
    (N, n_b)`` gives |M_kb| = |⟨u_k|u_{k+b}⟩| of the spatial band on the stencil (where its Bloch functions
    are known, e.g. a tight-binding band): the spread then includes the spatial overlaps, so a bond where
    the spatial band itself switches branch (|M| ≈ 0) costs F nothing to jump across.
    """
    if mode not in ("projective", "plain"):
        raise InputError(f"mode must be 'projective' or 'plain', got {mode!r}")
    spaces = constraint_spaces(chars)
    kind = k_independent(chars)
    rng = np.random.default_rng(seed)
    projective = mode == "projective"
    m_kb = None if overlaps is None else np.asarray(overlaps(chars.mesh), dtype=float)
    if m_kb is not None and m_kb.shape != chars.mesh.neighbours[2].shape:
        raise InputError(f"overlaps must have shape {chars.mesh.neighbours[2].shape} (mesh points × stencil bonds), got {m_kb.shape}")
    has_r2 = chars.r2_spinors is not None and len(chars.r2_spinors.points) > 0
    if has_r2 and not projective:
        raise InputError("a band with R2 points (reading R2) is optimised in projective mode only: the phase of a bond to an R2 point is the spatial gauge")
    if kind.possible and not has_r2:
        f_reps, iters, conv, hist = _initial(spaces, kind, rng), 0, True, [0.0]
    else:
        starts: list[np.ndarray] = []
        coarse_mesh = _coarser(chars.mesh) if (coarse_to_fine and rebuild is not None) else None
        if coarse_mesh is not None:
            coarse = build_field(
                rebuild(coarse_mesh), mode=mode, max_iter=max_iter, tol=tol, random_starts=random_starts,
                seed=seed, rebuild=rebuild, overlaps=overlaps,
            )
            starts.append(_interpolate(coarse, spaces))
        else:
            starts.append(_initial(spaces, kind, rng))
            spec = _spectral_initial(spaces, mode)
            if spec is not None:
                starts.append(spec)
            starts += [_random_start(spaces, rng) for _ in range(random_starts)]
        best = None
        iters = 0
        for st in starts:
            fr, it, conv_i, hist_i = _relax(spaces, st, mode, max_iter, tol, m_kb)
            iters += it
            value = hist_i[-1]
            if best is None or value < best[0] - 1e-12:
                best = (value, fr, conv_i, hist_i)
        assert best is not None
        _, f_reps, conv, hist = best
    f_ref = propagate(spaces, f_reps)
    if projective and (not kind.possible or has_r2):
        ph = synchronize_phases(chars.mesh, f_ref, defined=~_r2_mask(spaces))
    else:
        ph = np.ones(chars.mesh.size, dtype=complex)
    f = ph[:, None, None] * f_ref
    return SpinorField(spaces, f, f_ref, ph, kind, iters, conv, mode, tuple(hist), m_kb)


def start_spread(chars: BandCharacters, overlaps: np.ndarray | None = None, seed: int = 0) -> float:
    """The objective of :func:`build_field` (projective, with ``overlaps`` |M_kb| if given) at the projected
    identity start before any relaxation — for checking that the optimisation lowers it."""
    spaces = constraint_spaces(chars)
    f = propagate(spaces, _initial(spaces, k_independent(chars), np.random.default_rng(seed)))
    r2 = chars.r2_spinors
    if overlaps is None and r2 is not None and len(r2.points):
        overlaps = np.ones(chars.mesh.neighbours[2].shape)
    return spread(chars.mesh, f, projective=True, overlaps=overlaps, r2=r2)


__all__ = ["Residuals", "SpinorField", "bond_terms", "build_field", "r2_bond_matrices", "start_spread", "field_from_function", "illustrative_texture", "propagate", "residuals", "spread", "synchronize_phases"]
