"""Where the optimisation of F(k) starts, and fields that are given rather than optimised.

The constant F0 if one exists (then it is the answer: spread 0); else the polar factor of the identity projected
onto V_k (:func:`initial_field`; a random element of V_k where that projection is singular), or the field of the
next coarser mesh (:func:`interpolate_coarse`, trilinear: coarse to fine). On the coarsest mesh a spectral relaxation
over the whole zone (:func:`spectral_start`) and random symmetric fields (:func:`random_start`) are further starts.
Every start is the polar factor of a projection onto V_k (:func:`project_polar`). :func:`field_from_function`
projects a given texture the same way, without optimisation (illustrations: seed Fig. 1b).
"""

from __future__ import annotations

import numpy as np

from nhm.kspace.constraints.characters import BandCharacters
from nhm.kspace.constraints.spaces import ConstraintSpaces, KIndependence, constraint_spaces, k_independent, unvec, vec
from nhm.kspace.construction.field import Mode, SpinorField, point_actions, propagate
from nhm.kspace.spin import SIGMA, polar_unitary


def project_polar(spaces: ConstraintSpaces, target: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Polar factor of the projection of ``target`` (2×2 per representative) onto V_k."""
    return project_polar_vec(spaces, vec(target), fallback)


def project_polar_vec(spaces: ConstraintSpaces, x: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Polar factors of the projections onto V_k of targets given as real 8-vectors x = vec F (n_reps, 8), all at
    once; ``fallback`` (n_reps, 2, 2) where a projection is (nearly) singular."""
    t = unvec(np.einsum("nij,nj->ni", spaces.projector, x))
    det = np.abs(t[:, 0, 0] * t[:, 1, 1] - t[:, 0, 1] * t[:, 1, 0])
    good = det > 1e-10 * np.maximum(np.sum(np.abs(t) ** 2, axis=(1, 2)) / 2, 1e-300)
    out = fallback.copy()
    out[good] = polar_unitary(t[good])
    return out


def initial_field(spaces: ConstraintSpaces, kind: KIndependence, rng: np.random.Generator) -> np.ndarray:
    """F at the primary representatives (n_reps, 2, 2) to start from: the constant F0 where one exists, else the
    polar factor of the identity projected onto each V_k (a random element of V_k where that is singular)."""
    n = len(spaces.reps)
    if kind.possible:
        f0 = np.broadcast_to(kind.f0, (n, 2, 2)).copy()
        return project_polar(spaces, f0, f0)
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


def _point_maps(spaces: ConstraintSpaces) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(h, rho, dims)``: x_k = h[k] @ y_ρ(k) writes vec F(k) (real 8-vector) in the coordinates y of
    V_ρ(k) at its representative: star propagation, then time reversal onto the partner stars.
    ``h`` is zero-padded to the largest dimension."""
    g, rho = point_actions(spaces)
    dims = np.array([q.shape[1] for q in spaces.bases])
    dmax = int(dims.max())
    qpad = np.zeros((len(spaces.reps), 8, dmax))
    for i, q in enumerate(spaces.bases):
        qpad[i, :, : q.shape[1]] = q
    return g @ qpad[rho], rho, dims


_J = np.block([[np.zeros((4, 4)), np.eye(4)], [-np.eye(4), np.zeros((4, 4))]])  # multiplication by i on R⁸


def spectral_start(spaces: ConstraintSpaces, mode: Mode) -> np.ndarray | None:
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


def interpolate_coarse(coarse: SpinorField, spaces: ConstraintSpaces) -> np.ndarray:
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
    start = initial_field(spaces, KIndependence(False, 0, None, ()), rng)
    return project_polar(spaces, acc, start)


def random_start(spaces: ConstraintSpaces, rng: np.random.Generator) -> np.ndarray:
    """A random symmetric start: the polar factor of a random element of each V_k (n_reps, 2, 2)."""
    out = np.empty((len(spaces.reps), 2, 2), dtype=complex)
    for i, q in enumerate(spaces.bases):
        out[i] = polar_unitary(unvec(q @ rng.normal(size=q.shape[1])))
    return out


# ----------------------------------------------------------------------------- fields given by a function


def field_from_function(chars: BandCharacters, texture) -> SpinorField:
    """A symmetric, time-reversal-adapted field from a function ``texture(k_cart) -> (n, 2, 2)`` (no
    optimisation): its values at the primary representatives are projected onto V_k (polar factor) and
    propagated. Smooth where ``texture`` is itself covariant; used for illustrations (seed Fig. 1b)."""
    spaces = constraint_spaces(chars)
    kind = k_independent(chars)
    mesh = chars.mesh
    start = initial_field(spaces, kind, np.random.default_rng(0))
    f_reps = project_polar(spaces, texture(mesh.k_cartesian_bz[spaces.reps]), start)
    f = propagate(spaces, f_reps)
    return SpinorField(spaces, f, f, np.ones(mesh.size, dtype=complex), kind, 0, True, "texture", ())


def illustrative_texture(strength: float = 1.0, c_over_a: float = 1.6):
    """An even, rotation-about-z covariant texture F(k) = exp(−i θ(k)·σ/2) for illustrations:
    θ = s [3 sin(2π c k_z)(k × ẑ) + 2 sin(2π c k_z) k_∥ + 4 |k_∥|² ẑ] (k Cartesian, units 1/a).
    Even in k (so F(−k) = σ_y F(k)* σ_y) and θ(Rk) = Rθ(k) for rotations about z, so the field is smooth
    and symmetric in every group whose rotations are about z (e.g. P3, seed Fig. 1b)."""
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
