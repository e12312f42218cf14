"""The optimally smooth F(k): relaxation in V_k, coarse to fine, and the synchronisation of the spatial phase.

Relaxation (vectorized over the representatives): F(k) ← polar[P_k(Σ_b w_b ω_kb F(k+b) + c F(k))], P_k the
orthogonal projector onto V_k, c = Σ_b w_b a damping term that keeps the simultaneous update from oscillating.
Because V_k is closed under the polar factor this is the exact maximiser of the local term over unitary F ∈ V_k.
``mode="projective"`` (default) uses the phases ω_kb = conj(tr F(k)†F(k+b))/|·| and minimises the spread *modulo
the spatial phase* (the spin frame's smoothness; why, in :mod:`nhm.kspace.construction.field`); ``mode="plain"``
uses ω = 1, i.e. the spread with M = 1 in the reference gauge.

Spatial-phase synchronisation (projective mode): F(k) ← e^{iθ(k)} F(k) with θ(−k) = −θ(k), chosen by a
maximum-spanning-tree start and local iterations to minimise the plain spread. This is a change of the spatial
gauge φ_k → e^{iθ(k)}φ_k; it changes λ on operations mapping k elsewhere (the gauge part) but not on the little
co-groups, and keeps F(−k) = σ_y F(k)* σ_y exact.

:func:`build_field` runs both: several starts on the coarsest mesh (:mod:`nhm.kspace.construction.starts`), the
smallest spread kept, then each finer mesh from the interpolation of the coarser optimum.
"""

from __future__ import annotations

import numpy as np

from nhm.errors import InputError
from nhm.kspace.constraints.characters import BandCharacters
from nhm.kspace.constraints.spaces import ConstraintSpaces, constraint_spaces, k_independent, vec
from nhm.kspace.construction.field import Mode, SpinorField, point_actions, propagate, r2_bond_matrices, r2_mask, spread
from nhm.kspace.construction.starts import initial_field, interpolate_coarse, project_polar_vec, random_start, spectral_start
from nhm.kspace.mesh import KMesh, make_mesh


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
    g, rho = point_actions(spaces)
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
        new = project_polar_vec(spaces, target + damping * x, f_reps)
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


def _coarser(mesh: KMesh) -> KMesh | None:
    div = mesh.divisions
    if any(d % 2 for d in div) or min(div) // 2 < 4:
        return None
    try:
        return make_mesh(mesh.space_group, tuple(d // 2 for d in div), mesh.lattice)
    except InputError:
        return None


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
        f_reps, iters, conv, hist = initial_field(spaces, kind, rng), 0, True, [0.0]
    else:
        starts: list[np.ndarray] = []
        coarse_mesh = _coarser(chars.mesh) if (coarse_to_fine and rebuild is not None) else None
        if coarse_mesh is not None:
            coarse = build_field(
                rebuild(coarse_mesh), mode=mode, max_iter=max_iter, tol=tol, random_starts=random_starts,
                seed=seed, rebuild=rebuild, overlaps=overlaps,
            )
            starts.append(interpolate_coarse(coarse, spaces))
        else:
            starts.append(initial_field(spaces, kind, rng))
            spec = spectral_start(spaces, mode)
            if spec is not None:
                starts.append(spec)
            starts += [random_start(spaces, rng) for _ in range(random_starts)]
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
        ph = synchronize_phases(chars.mesh, f_ref, defined=~r2_mask(spaces))
    else:
        ph = np.ones(chars.mesh.size, dtype=complex)
    f = ph[:, None, None] * f_ref
    return SpinorField(spaces, f, f_ref, ph, kind, iters, conv, mode, tuple(hist), m_kb)


def start_spread(chars: BandCharacters, overlaps: np.ndarray | None = None, seed: int = 0) -> float:
    """The objective of :func:`build_field` (projective, with ``overlaps`` |M_kb| if given) at the projected
    identity start before any relaxation — for checking that the optimisation lowers it."""
    spaces = constraint_spaces(chars)
    f = propagate(spaces, initial_field(spaces, k_independent(chars), np.random.default_rng(seed)))
    r2 = chars.r2_spinors
    if overlaps is None and r2 is not None and len(r2.points):
        overlaps = np.ones(chars.mesh.neighbours[2].shape)
    return spread(chars.mesh, f, projective=True, overlaps=overlaps, r2=r2)
