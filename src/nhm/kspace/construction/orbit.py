"""F(k) ∈ U(2μ) for a band of μ branches whose WFs sit on one orbit of μ atoms per primitive cell (hcp: μ = 2).

docs/theory.md §6 ("Bands of μ branches"). The band's spatial states at k are the μ columns of a block
Φ_k (orthonormal; a block of :mod:`nhm.kspace.sources.orbit`, DFT or tight binding); the 2μ Bloch spinors
are ψ_k = (Φ_k ⊗ u) F(k), columns (j, m): atom j of the orbit, spin m. The spin-dependent WFs transform
as ρ(a) = Π(a) ⊗ S(α) (Π the μ×μ monomial representation induced from the one-dimensional site irrep s,
:class:`~nhm.kspace.constraints.site.OrbitSite`), so

    (D_k(a) ⊗ S(α)) F(k) = F(αk) ρ_k(a),   D_k(a) = Φ_{αk}† P(a) Φ_k,
    F(−k) = (C ⊗ 1)(1 ⊗ σ_y) F(k)* (1 ⊗ σ_y),   C = Φ_{−k}† Φ_k*.

As on the DFT path for μ = 1 (:mod:`nhm.kspace.sources.states`), the states are computed at the primary star
representatives and unfolded: the block at bK *is* P(b)Φ_K (D = 1 there) and the block at a time-reversed
point is Φ*. F is therefore a variable only at the primary representatives, restricted to the real-linear
null space V_K of the little-group and antiunitary constraints (D from the states), and propagated
everywhere else. The smoothest F minimises the Marzari–Vanderbilt spread with the full spatial overlap
matrices M_kb = Φ_k†Φ_{k+b} (μ×μ, the spatial gauge of the GPAW states is then irrelevant):

    Ω = N⁻¹ Σ_k Σ_b w_b (4μ − 2 Re tr F(k)† (M_kb ⊗ 1₂) F(k+b)),

by damped projected-polar steps (V_K is closed under the polar factor). Points where the band's μ states do
not span whole levels (the band takes part of a larger level: reading R2) are refused for μ > 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from nhm.errors import InputError
from nhm.kspace.constraints.site import OrbitSite
from nhm.kspace.constraints.spaces import real_antilinear, real_linear
from nhm.kspace.mesh import KMesh
from nhm.kspace.spin import SIGMA, SIGMA_Y, polar_unitary


DAMPING = 0.3  # × Σ_b w_b: the weight of the present F in each projected-polar step (keeps simultaneous updates from oscillating)
STALL_WINDOW = 50  # iterations between checks of the spread
STALL_TOL = 1e-7  # relative decrease of the spread over STALL_WINDOW iterations below which the relaxation stops
ORBIT_NULL_TOL = 1e-6  # relative singular value below which a direction solves the constraints (DFT D(a) hold to ~1e-9)


# ----------------------------------------------------------------------------- constraints, propagation, relaxation


def _to_r(f: np.ndarray) -> np.ndarray:
    v = f.reshape(*f.shape[:-2], -1)
    return np.concatenate([v.real, v.imag], axis=-1)


def _from_r(x: np.ndarray, n: int) -> np.ndarray:
    h = x.shape[-1] // 2
    return (x[..., :h] + 1j * x[..., h:]).reshape(*x.shape[:-1], n, n)


def _sandwich(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The complex matrix of F ↦ left F right on row-major vec F."""
    return np.kron(left, right.T)


@dataclass(frozen=True, eq=False)
class _Maps:
    """How F at every mesh point follows from F at the primary representatives (complex n×n factors)."""

    reps: np.ndarray
    slot: np.ndarray  # (N,) representative slot of the direct points (−1 for time-reversed ones)
    left: np.ndarray  # (N, n, n): F(p) = left F(rep) right at direct points
    right: np.ndarray
    tr: np.ndarray  # (N,) bool: F(p) = Y F(−p)* Y


def _maps(mesh: KMesh, site: OrbitSite) -> _Maps:
    g = mesh.group
    lifts = g.lifts
    mu = site.mu
    n = 2 * mu
    reps = np.array([int(m) for m in mesh.representatives if mesh.primary[m]])
    slot_of = np.full(mesh.size, -1)
    slot_of[reps] = np.arange(len(reps))
    pc = np.array([[float(x) for x in row] for row in mesh.p_to_conv])
    kc = mesh.k_primitive @ pc.T
    left = np.zeros((mesh.size, n, n), dtype=complex)
    right = np.zeros((mesh.size, n, n), dtype=complex)
    slot = np.full(mesh.size, -1)
    tr = mesh.time_reversed.copy()
    for p in np.nonzero(~tr)[0]:
        b = int(mesh.star_op[p])
        left[p] = np.kron(np.eye(mu), lifts[b])
        right[p] = site.rho(b, kc[p], lifts[b]).conj().T
        slot[p] = slot_of[int(mesh.star_rep[p])]
    if np.any(slot[~tr] < 0):
        raise AssertionError("a direct mesh point without a primary representative")
    return _Maps(reps, slot, left, right, tr)


def _propagate(maps: _Maps, minus: np.ndarray, f_reps: np.ndarray, mu: int) -> np.ndarray:
    y = np.kron(np.eye(mu), SIGMA_Y)
    out = np.empty((len(maps.slot), 2 * mu, 2 * mu), dtype=complex)
    d = ~maps.tr
    out[d] = maps.left[d] @ f_reps[maps.slot[d]] @ maps.right[d]
    t = np.nonzero(maps.tr)[0]
    out[t] = y @ out[minus[t]].conj() @ y
    return out


@dataclass(frozen=True, eq=False)
class OrbitField:
    """F(k) ∈ U(2μ) on the mesh (``f``, (N, 2μ, 2μ); rows (i, s) ↦ 2i + s, columns (j, m) ↦ 2j + m) for the band's
    blocks, with its constraint spaces, spatial overlaps ``overlaps`` (N, n_b, μ, μ) and spread (a²)."""

    mesh: KMesh
    site: OrbitSite
    f: np.ndarray
    reps: np.ndarray
    dims: np.ndarray  # real dimension of V_K at each primary representative
    overlaps: np.ndarray
    iterations: int
    converged: bool
    spread: float
    starts: tuple[float, ...]
    residuals: dict = field(default_factory=dict)
    usual: dict = field(default_factory=dict)
    needs_spin: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))  # representatives whose V_K holds no W ⊗ 1₂

    @property
    def mu(self) -> int:
        return self.site.mu

    @cached_property
    def spin_axes(self) -> np.ndarray:
        """(N, 2μ, 3) ⟨σ⟩ of each Bloch-spinor column, Σ_i F*_{(i,s),c} σ_{ss′} F_{(i,s′),c} (length ≤ 1)."""
        p = self.f.reshape(self.mesh.size, self.mu, 2, 2 * self.mu)
        return np.real(np.einsum("kisc,jst,kitc->kcj", p.conj(), SIGMA, p))


def orbit_spread(mesh: KMesh, f: np.ndarray, overlaps: np.ndarray) -> float:
    """N⁻¹ Σ_k Σ_b w_b (4μ − 2 Re tr F(k)†(M_kb ⊗ 1₂)F(k+b)), a² (all 2μ spin-dependent WFs)."""
    return max(float(np.sum(bond_terms(mesh, f, overlaps)) / mesh.size), 0.0)


def bond_terms(mesh: KMesh, f: np.ndarray, overlaps: np.ndarray) -> np.ndarray:
    """(N, n_b) w_b (4μ − 2 Re tr F(k)†(M_kb ⊗ 1₂)F(k+b)): each stencil bond's share of N·Ω (where the spread sits)."""
    _, w, table = mesh.neighbours
    mu = overlaps.shape[-1]
    big = np.einsum("knij,st->knisjt", overlaps, np.eye(2)).reshape(*table.shape, 2 * mu, 2 * mu)
    tr = np.einsum("kac,knab,knbc->kn", f.conj(), big, f[table])
    return (4 * mu - 2 * tr.real) * w[None, :]


def _constraint_space(mesh: KMesh, source: Any, blocks: list, site: OrbitSite, m: int) -> np.ndarray:
    """Real orthonormal basis (2n² × d) of V_K at representative m."""
    g = mesh.group
    lifts = g.lifts
    mu = site.mu
    n = 2 * mu
    kp = mesh.k_primitive
    pc = np.array([[float(x) for x in row] for row in mesh.p_to_conv])
    kc = kp[m] @ pc.T
    rows = []
    if mesh.cogroup_order[m] > 1:
        lv = source.level(mesh, m, blocks[m])
        for h, dm in zip(lv.ops, lv.d_mats):
            lin = _sandwich(np.kron(dm, lifts[h]), np.eye(n)) - _sandwich(np.eye(n), site.rho(int(h), kc, lifts[h]))
            rows.append(real_linear(lin))
    if mesh.partner_rep[m] == m:  # −K is in the star of K (or K is time-reversal invariant)
        mk = int(mesh.minus[m])
        b = int(mesh.star_op[mk])
        kck = kp[mk] @ pc.T
        a = source.overlap(blocks[mk], source.rotate(b, kp[m], kp[mk], blocks[m]), np.zeros(3, dtype=int))
        c = source.overlap(blocks[mk], source.conjugate(kp[m], kp[mk], blocks[m]), np.zeros(3, dtype=int))
        y = np.kron(np.eye(mu), SIGMA_Y)
        star = _sandwich(np.kron(a, lifts[b]), site.rho(b, kck, lifts[b]).conj().T)
        anti = _sandwich(np.kron(c, np.eye(2)) @ y, y)
        rows.append(real_linear(star) - real_antilinear(anti))
    if not rows:
        return np.eye(2 * n * n)
    a = np.vstack(rows)
    _, sv, vt = np.linalg.svd(a)
    sv = np.concatenate([sv, np.zeros(vt.shape[0] - len(sv))])
    keep = sv < ORBIT_NULL_TOL * max(1.0, float(sv[0]))
    q = vt[keep].T
    return q


def build_orbit_field(
    mesh: KMesh, source: Any, site: OrbitSite, *, random_starts: int = 1, max_iter: int = 3000, tol: float = 1e-8, seed: int = 0,
) -> OrbitField:
    """The optimally smooth F(k) ∈ U(2μ) of ``source``'s band on ``mesh`` with the WFs' representation ``site``.

    InputError where no unitary F satisfies the constraints at some representative (the band does not admit
    spin-dependent WFs with ``site`` there)."""
    if site.space_group != mesh.space_group or source.space_group != mesh.space_group:
        raise InputError("the band, the site representation and the mesh must be of the same space group")
    mu = site.mu
    n = 2 * mu
    blocks = source.blocks(mesh)
    if any(np.shape(b.c if hasattr(b, "c") else b.T)[0] != mu for b in blocks):
        raise InputError(f"the band has blocks of other than μ = {mu} states")
    maps = _maps(mesh, site)
    rng = np.random.default_rng(seed)
    bases = []
    for m in maps.reps:
        q = _constraint_space(mesh, source, blocks, site, int(m))
        if q.shape[1] == 0 or not _has_unitary(q, n, rng):
            kc = ", ".join(str(x) for x in mesh.k_conventional(int(m)))
            raise InputError(
                f"no unitary F(k) ∈ U({n}) satisfies the symmetry and time-reversal constraints at k = ({kc}) (conventional): "
                f"the band does not admit spin-dependent WFs {site.label} there"
            )
        bases.append(q)
    needs_spin = np.array([int(m) for m, q in zip(maps.reps, bases) if not _has_spin_free_unitary(q, mu, rng)], dtype=int)
    steps, w, table = mesh.neighbours
    j = mesh.indices
    nd = mesh.divisions[0]
    shifts = (j[:, None, :] + steps[None, :, :] - j[table]) // nd
    ov = source.block_overlaps(blocks, table, shifts)  # (N, n_b, μ, μ)
    big = np.einsum("knij,st->knisjt", ov, np.eye(2)).reshape(*table.shape, n, n)
    reps = maps.reps
    bonds = _block_operator(big[reps] * w[None, :, None, None], table[reps], mesh.size)  # Σ_b w_b (M_Kb ⊗ 1₂) F(K+b)
    dmax = max(q.shape[1] for q in bases)
    qpad = np.zeros((len(bases), 2 * n * n, dmax))
    for i, q in enumerate(bases):
        qpad[i, :, : q.shape[1]] = q
    starts = []
    trial = getattr(source, "trial", lambda *a: None)(mesh, blocks, site)
    if trial is not None:  # projections of atom-centred trial functions, A_k ⊗ 1₂ (spin-independent start)
        tb = np.einsum("kij,st->kisjt", trial[reps], np.eye(2)).reshape(len(reps), n, n)
        fallback = np.array([_spin_free_random_in(q, mu, rng) for q in bases])
        starts.append(_project_polar(qpad, _to_r(tb), n, fallback))
    fallback = np.array([_spin_free_random_in(q, mu, rng) for q in bases])
    ident = np.broadcast_to(_to_r(np.eye(n, dtype=complex)), (len(reps), 2 * n * n))
    starts.append(_project_polar(qpad, ident, n, fallback))
    starts += [np.array([_random_in(q, n, rng) for q in bases]) for _ in range(random_starts)]
    best = None
    total_it = 0
    values = []
    damping = DAMPING * float(np.sum(w))
    for f_reps in starts:
        conv = False
        last = np.inf
        for it in range(1, max_iter + 1):
            full = _propagate(maps, mesh.minus, f_reps, mu)
            target = (bonds @ full.reshape(-1, n)).reshape(-1, n, n) + damping * f_reps
            new = _project_polar(qpad, _to_r(target), n, f_reps)
            change = float(np.max(np.linalg.norm(new - f_reps, axis=(1, 2))))
            f_reps = new
            if change < tol:
                conv = True
                break
            if it % STALL_WINDOW == 0:  # the spread no longer decreases: a (local) optimum to the precision that matters
                now = orbit_spread(mesh, _propagate(maps, mesh.minus, f_reps, mu), ov)
                if last - now < STALL_TOL * max(now, 1.0):
                    conv = True
                    break
                last = now
        total_it += it
        full = _propagate(maps, mesh.minus, f_reps, mu)
        val = orbit_spread(mesh, full, ov)
        values.append(val)
        if best is None or val < best[0] - 1e-12:
            best = (val, full, conv)
    assert best is not None
    val, full, conv = best
    fld = OrbitField(mesh, site, full, reps, np.array([q.shape[1] for q in bases]), ov, total_it, conv, val, tuple(values))
    res = orbit_residuals(fld, source, blocks, bases, rng)
    usual = usual_orbit_choice(fld, bases)
    return OrbitField(mesh, site, full, reps, fld.dims, ov, total_it, conv, val, tuple(values), res, usual, needs_spin)


def _block_operator(blocks: np.ndarray, columns: np.ndarray, size: int):
    """The sparse matrix of x ↦ (Σ_b blocks[r, b] x[columns[r, b]])_r for stacks x of d×e matrices (blocks (R, n_b, d, d))."""
    from scipy.sparse import csr_matrix

    r, nbd, d, _ = blocks.shape
    rows = (np.arange(r)[:, None, None, None] * d + np.arange(d)[None, None, :, None]) * np.ones((1, nbd, 1, d), dtype=int)
    cols = (columns[:, :, None, None] * d + np.arange(d)[None, None, None, :]) * np.ones((1, 1, d, 1), dtype=int)
    return csr_matrix((blocks.ravel(), (rows.ravel(), cols.ravel())), shape=(r * d, size * d))


def _det(t: np.ndarray) -> np.ndarray:
    if t.shape[-1] == 2:
        return t[..., 0, 0] * t[..., 1, 1] - t[..., 0, 1] * t[..., 1, 0]
    return np.linalg.det(t)


def _project_polar(qpad: np.ndarray, x: np.ndarray, n: int, fallback: np.ndarray) -> np.ndarray:
    """Polar factors of the projections of real vectors ``x`` (R, 2n²) onto the spaces ``qpad`` (R, 2n², d_max;
    zero-padded orthonormal columns), all at once; ``fallback`` where a projection is (nearly) singular."""
    t = _from_r(np.einsum("rid,rd->ri", qpad, np.einsum("rid,ri->rd", qpad, x)), n)
    u, sv, vh = np.linalg.svd(t)
    good = sv[:, -1] > 1e-9 * np.maximum(sv[:, 0], 1e-300)
    return np.where(good[:, None, None], u @ vh, fallback)


def _has_spin_free_unitary(q: np.ndarray, mu: int, rng: np.random.Generator) -> bool:
    """Does V_K hold an invertible spin-independent element W ⊗ 1₂ (symmetric usual WFs at this k)? The projector
    onto V_K keeps W ⊗ 1₂ spin-independent (every constraint map preserves that subspace and its complement), so
    two random W decide it."""
    for _ in range(2):
        w = rng.normal(size=(mu, mu)) + 1j * rng.normal(size=(mu, mu))
        t = _from_r(q @ (q.T @ _to_r(np.kron(w, np.eye(2)))), 2 * mu)
        sv = np.linalg.svd(t, compute_uv=False)
        if sv[-1] > 1e-6 * np.linalg.norm(w):
            return True
    return False


def _spin_free_random_in(q: np.ndarray, mu: int, rng: np.random.Generator) -> np.ndarray:
    """A unitary element of V_K from a random spin-independent W ⊗ 1₂ (projected; the group average keeps it
    spin-independent where V_K holds such elements), else any random element."""
    for _ in range(20):
        w = rng.normal(size=(mu, mu)) + 1j * rng.normal(size=(mu, mu))
        t = _from_r(q @ (q.T @ _to_r(np.kron(w, np.eye(2)))), 2 * mu)
        sv = np.linalg.svd(t, compute_uv=False)
        if sv[-1] > 1e-6 * np.linalg.norm(w):
            return polar_unitary(t[None])[0]
    return _random_in(q, 2 * mu, rng)


def _random_in(q: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    for _ in range(50):
        t = _from_r(q @ rng.normal(size=q.shape[1]), n)
        sv = np.linalg.svd(t, compute_uv=False)
        if sv[-1] > 1e-6 * sv[0]:
            return polar_unitary(t[None])[0]
    raise InputError("the constraint space has no invertible element")


def _has_unitary(q: np.ndarray, n: int, rng: np.random.Generator) -> bool:
    try:
        _random_in(q, n, rng)
        return True
    except InputError:
        return False


# ----------------------------------------------------------------------------- checks and the usual choice


def orbit_residuals(fld: OrbitField, source: Any, blocks: list, bases: list, rng: np.random.Generator, star_samples: int = 400) -> dict:
    """The conditions checked on the propagated field, each from the states themselves:

    - little_group: (D_p(h) ⊗ S(h)) F(p) − F(p) ρ_p(h) at every mesh point p with a nontrivial little co-group
      (D_p from p's own unfolded block — the propagation is checked, not assumed);
    - time_reversal: F(−k) − (C ⊗ 1)(1⊗σ_y)F(k)*(1⊗σ_y), C = Φ_{−k}†Φ_k*, at every k;
    - star: F(αk) − (D ⊗ S(α)) F(k) ρ_k(α)†, D = Φ_{αk}†P(α)Φ_k, for ``star_samples`` random pairs (α, k);
    - unitarity; and the largest distance of a representative's F from its constraint space."""
    mesh = fld.mesh
    site = fld.site
    g = mesh.group
    lifts = g.lifts
    mu = site.mu
    n = 2 * mu
    f = fld.f
    kp = mesh.k_primitive
    pc = np.array([[float(x) for x in row] for row in mesh.p_to_conv])
    kc = kp @ pc.T
    zero = np.zeros(3, dtype=int)
    little = 0.0
    for p in np.nonzero(mesh.cogroup_order > 1)[0]:
        lv = source.level(mesh, int(p), blocks[p])
        for h, dm in zip(lv.ops, lv.d_mats):
            r = np.kron(dm, lifts[h]) @ f[p] - f[p] @ site.rho(int(h), kc[p], lifts[h])
            little = max(little, float(np.linalg.norm(r)))
    y = np.kron(np.eye(mu), SIGMA_Y)
    trr = 0.0
    for k in range(mesh.size):
        mk = int(mesh.minus[k])
        c = source.overlap(blocks[mk], source.conjugate(kp[k], kp[mk], blocks[k]), zero)
        trr = max(trr, float(np.linalg.norm(f[mk] - np.kron(c, np.eye(2)) @ y @ f[k].conj() @ y)))
    star = 0.0
    ks = rng.integers(0, mesh.size, size=star_samples)
    ops = rng.integers(0, g.order, size=star_samples)
    for k, a in zip(ks, ops):
        k, a = int(k), int(a)
        ak = int(mesh.image[a][k])
        dm = source.overlap(blocks[ak], source.rotate(a, kp[k], kp[ak], blocks[k]), zero)
        r = np.kron(dm, lifts[a]) @ f[k] @ site.rho(a, kc[ak], lifts[a]).conj().T - f[ak]
        star = max(star, float(np.linalg.norm(r)))
    uni = float(np.max(np.linalg.norm(np.swapaxes(f.conj(), 1, 2) @ f - np.eye(n), axis=(1, 2))))
    space = max(float(np.linalg.norm(x - q @ (q.T @ x))) for q, x in zip(bases, _to_r(f[fld.reps])))
    return {"little_group": little, "time_reversal": trr, "star_sampled": star, "star_samples": star_samples,
            "unitarity": uni, "constraint_space": space}


def usual_orbit_choice(fld: OrbitField, bases: list, max_iter: int = 3000, tol: float = 1e-8) -> dict:
    """The best usual (spin-independent) WFs of the same band for comparison: F = W(k) ⊗ 1₂ with W ∈ U(μ)
    free at every k (no symmetry imposed: Marzari–Vanderbilt for the μ spatial branches), relaxed from the
    spatial part of the symmetric optimum (polar factor of its partial trace over spin) and from W = 1.
    Its spread (a², both spins) and how far W ⊗ 1 is from the symmetry constraints (largest distance of a
    representative's W ⊗ 1 from V_K; 0 when the usual WFs can be symmetric)."""
    mesh = fld.mesh
    mu = fld.mu
    _, w, table = mesh.neighbours
    ov = fld.overlaps
    part = np.einsum("kisjs->kij", fld.f.reshape(mesh.size, mu, 2, mu, 2))
    starts = []
    sv = np.linalg.svd(part, compute_uv=False)
    ok = sv[:, -1] > 1e-6
    w0 = np.broadcast_to(np.eye(mu, dtype=complex), part.shape).copy()
    w0[ok] = polar_unitary(part[ok])
    starts.append(w0)
    starts.append(np.broadcast_to(np.eye(mu, dtype=complex), part.shape).copy())
    damping = DAMPING * float(np.sum(w))
    bonds = _block_operator(ov * w[None, :, None, None], table, mesh.size)
    best = None
    def value(wk: np.ndarray) -> float:
        tr = np.einsum("kac,knab,knbc->kn", wk.conj(), ov, wk[table])
        return max(float(np.sum((4 * mu - 4 * tr.real) * w[None, :]) / mesh.size), 0.0)

    for wk in starts:
        last = np.inf
        for it in range(1, max_iter + 1):
            t = (bonds @ wk.reshape(-1, mu)).reshape(-1, mu, mu) + damping * wk
            good = np.abs(_det(t)) > 1e-12 * np.sum(np.abs(t) ** 2, axis=(1, 2)) ** (mu / 2)
            new = wk.copy()
            new[good] = polar_unitary(t[good])
            change = float(np.max(np.linalg.norm(new - wk, axis=(1, 2))))
            wk = new
            if change < tol:
                break
            if it % STALL_WINDOW == 0:
                now = value(wk)
                if last - now < STALL_TOL * max(now, 1.0):
                    break
                last = now
        val = value(wk)
        if best is None or val < best[0]:
            best = (val, wk)
    assert best is not None
    val, wk = best
    big = np.einsum("kij,st->kisjt", wk[fld.reps], np.eye(2)).reshape(len(fld.reps), 2 * mu, 2 * mu)
    xs = _to_r(big)
    viol = max(float(np.linalg.norm(x - q @ (q.T @ x))) for q, x in zip(bases, xs))
    return {"spread_with_spatial_overlaps": val, "symmetry_violation": viol}
