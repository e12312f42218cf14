"""One-band models on a cluster: the band ε(k) and a spin-independent two-electron interaction.

The interaction is a real 4-index tensor over sites in physicists' order,

    v[i, j, k, l] = ⟨ij|v|kl⟩ = ∫∫ φ_i(r) φ_j(r′) v(r − r′) φ_k(r) φ_l(r′),

and enters H_Cb = ½ Σ_{ijkl} Σ_{σσ′} v[i,j,k,l] c†_{iσ} c†_{jσ′} c_{lσ′} c_{kσ} (energy units of t).
(The seed's Eq. 14 writes no ½: its matrix element is ½⟨ij|v|kl⟩. The factor changes no split.)

Two families:

- :func:`extended_hubbard`: on-site U, density–density V_s, exchange integrals J_s = ⟨ij|v|ji⟩ and
  pair hopping P_s = ⟨ii|v|jj⟩ for the neighbour shells s = 1, 2, ... Every lattice vector d of a shell
  contributes once (periodic images are summed), so v is the infinite-lattice tensor folded onto the
  torus and its Bloch matrix elements at the cluster's k are exact.
- :func:`gaussian_coulomb`: Coulomb integrals of normalised s-Gaussians
  g_R(r) = (2α/π)^{3/4} exp(−α|r − R|²), all four-index terms within a cutoff, optionally made
  orthogonal (Löwdin). Closed form: with P = (A + C)/2, Q = (B + D)/2,

      ⟨AB|CD⟩ = (AC|BD) = S_AC S_BD · 2√(α/π) F0(α|P − Q|²) · e²/(4πε₀a),   S_AC = exp(−α|A − C|²/2),

  F0 the Boys function (the Coulomb energy of two Gaussian charge clouds of exponent 2α at distance
  |P − Q| is erf(√α |P − Q|)/|P − Q|). Cutoff: a term is kept when |A − C| ≤ r_overlap,
  |B − D| ≤ r_overlap and |P − Q| ≤ r_coulomb (the truncated Coulomb tail makes the folded lattice
  sum finite; it is a model interaction, not Ewald-summed). Orthogonalisation afterwards spreads the
  kept terms over neighbouring indices.

Where the spin-dependent Wannier basis is concerned only the *spatial* orbitals φ(r − R) must be
orthogonal (science.md §5); Gaussians are orthogonalised for that reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.special import erf

from nhm.errors import InputError
from nhm.manybody.lattice import Cluster


@dataclass(frozen=True)
class LatticeModel:
    """A one-band model on a cluster: band energies ε(k) (N,) and the spatial tensor ⟨ij|v|kl⟩ (N,N,N,N).

    Energies are in units of the nearest-neighbour hopping t (or whatever unit the caller used).
    """

    cluster: Cluster
    band: np.ndarray
    interaction: np.ndarray
    label: str

    @property
    def n_sites(self) -> int:
        return self.cluster.n_sites

    def hopping_matrix(self) -> np.ndarray:
        """t_{RR′} = N⁻¹ Σ_k ε(k) e^{ik·(R − R′)}: H_HF = Σ_{RR′σ} t_{RR′} c†_{Rσ} c_{R′σ}."""
        e = self.cluster.phases  # e[k, R]
        return (e.T * self.band) @ e.conj() / self.n_sites


def _check_finite(**values: float | Sequence[float]) -> None:
    for name, v in values.items():
        arr = np.atleast_1d(np.asarray(v, dtype=float))
        if not np.all(np.isfinite(arr)):
            raise InputError(f"{name} must be finite, got {v!r}")


def _shell_list(values: float | Sequence[float] | None) -> list[float]:
    if values is None:
        return []
    if np.isscalar(values):
        return [float(values)]  # type: ignore[arg-type]
    return [float(x) for x in values]  # type: ignore[union-attr]


def band_energies(cluster: Cluster, t: float = 1.0, t2: float = 0.0) -> np.ndarray:
    """ε(k) = −t Σ_{nn} e^{ik·d} − t′ Σ_{nnn} e^{ik·d} on the cluster mesh."""
    _check_finite(t=t, t2=t2)
    return cluster.dispersion([t, t2])


def extended_hubbard(
    cluster: Cluster,
    t: float = 1.0,
    t2: float = 0.0,
    U: float = 4.0,
    V: float | Sequence[float] | None = None,
    J: float | Sequence[float] | None = None,
    P: float | Sequence[float] | None = None,
) -> LatticeModel:
    """Extended Hubbard model: U on site, V_s, J_s, P_s for shells s = 1, 2, ... (lists or one number for s = 1).

    In the spin basis, U and V are density–density (they belong to H_c), J = ⟨ij|v|ji⟩ is the direct
    exchange (H_ex; J > 0 is ferromagnetic: J Σ_σσ′ c†_iσ c†_jσ′ c_iσ′ c_jσ = −J (2 S_i·S_j + n_i n_j/2)
    per bond), and P = ⟨ii|v|jj⟩ hops a doubly occupied site as a whole (H_z even for f = 1).
    """
    vs, js, ps = _shell_list(V), _shell_list(J), _shell_list(P)
    _check_finite(t=t, t2=t2, U=U, V=vs or 0.0, J=js or 0.0, P=ps or 0.0)
    n = cluster.n_sites
    v = np.zeros((n, n, n, n))
    idx = np.arange(n)
    v[idx, idx, idx, idx] += U
    for vals, pattern in ((vs, "ijij"), (js, "ijji"), (ps, "iijj")):
        for s, value in enumerate(vals, start=1):
            if value == 0.0:
                continue
            i, j = cluster.neighbour_pairs(s)
            loc = {"i": i, "j": j}
            # np.add.at: a neighbour reached through two periodic images counts twice (folding)
            np.add.at(v, tuple(loc[c] for c in pattern), value)
    parts = [f"U={U:g}"] + [f"{name}{s}={x:g}" for name, vals in (("V", vs), ("J", js), ("P", ps)) for s, x in enumerate(vals, 1) if x]
    return LatticeModel(cluster, band_energies(cluster, t, t2), v, f"extended Hubbard ({', '.join(parts)}; t={t:g}, t'={t2:g})")


def boys_f0(x: np.ndarray | float) -> np.ndarray:
    """Boys function F0(x) = ∫₀¹ e^{−x u²} du = ½√(π/x) erf(√x), F0(0) = 1 (series below x = 1e-6)."""
    x = np.asarray(x, dtype=float)
    small = x < 1e-6
    safe = np.where(small, 1.0, x)
    big = 0.5 * np.sqrt(np.pi / safe) * erf(np.sqrt(safe))
    return np.where(small, 1.0 - x / 3.0 + x * x / 10.0, big)


def _ball(cluster: Cluster, radius: float) -> np.ndarray:
    """Integer lattice vectors with |R| ≤ radius (+1e-9)."""
    a = cluster.lattice.vectors
    smin = float(np.linalg.svd(a, compute_uv=False).min())
    reach = int(np.ceil(radius / smin)) + 1
    grid = np.stack(np.meshgrid(*[np.arange(-reach, reach + 1)] * cluster.dim, indexing="ij"), -1).reshape(-1, cluster.dim)
    return grid[np.linalg.norm(grid @ a, axis=1) <= radius + 1e-9]


def _translate(cluster: Cluster, v0: np.ndarray) -> np.ndarray:
    """v[i,j,k,l] = v0[j−i, k−i, l−i] (translation invariance; v0 holds the terms with i = site 0)."""
    sub = cluster.site_add[:, cluster.site_neg]  # sub[j, i] = index of R_j − R_i
    n = cluster.n_sites
    i = np.arange(n)[:, None, None, None]
    j, k, l = (np.arange(n)[None, :, None, None], np.arange(n)[None, None, :, None], np.arange(n)[None, None, None, :])
    return v0[sub[j, i], sub[k, i], sub[l, i]]


def gaussian_overlap(cluster: Cluster, alpha: float) -> np.ndarray:
    """Folded overlap matrix S_ij = Σ_images exp(−α|R_j − R_i + L|²/2) of the s-Gaussians."""
    radius = float(np.sqrt(2 * 40.0 / alpha))  # exp(-40) ~ 4e-18: beyond double precision
    ball = _ball(cluster, radius)
    s0 = np.zeros(cluster.n_sites)
    np.add.at(s0, cluster.site_index(ball), np.exp(-alpha * np.sum((ball @ cluster.lattice.vectors) ** 2, axis=1) / 2))
    sub = cluster.site_add[:, cluster.site_neg]
    return s0[sub.T]


def gaussian_coulomb(
    cluster: Cluster,
    t: float = 1.0,
    t2: float = 0.0,
    alpha: float = 4.0,
    coulomb: float = 2.0,
    r_overlap: float | None = None,
    r_coulomb: float | None = None,
    orthogonalize: bool = True,
) -> LatticeModel:
    """Coulomb integrals of s-Gaussians of exponent ``alpha`` (1/a²) with e²/(4πε₀a) = ``coulomb`` (units of t).

    ``r_overlap`` (default: the nearest-neighbour distance) bounds |A − C| and |B − D|, ``r_coulomb``
    (default: twice that) bounds |P − Q|; see the module docstring. With α = 4 the on-site integral is
    U = 2√(α/π)·coulomb ≈ 2.26·coulomb and the nearest-neighbour overlap exp(−α/2) ≈ 0.14.
    """
    _check_finite(t=t, t2=t2, alpha=alpha, coulomb=coulomb)
    if alpha <= 0:
        raise InputError(f"the Gaussian exponent alpha must be positive, got {alpha}")
    nn = float(np.linalg.norm(cluster.lattice.cartesian(cluster.lattice.shells(1)[0][0])))
    r_ov = nn if r_overlap is None else float(r_overlap)
    r_c = 2 * nn if r_coulomb is None else float(r_coulomb)
    if r_ov < 0 or r_c < 0:
        raise InputError("the cutoff radii must be non-negative")
    a = cluster.lattice.vectors
    c_vec = _ball(cluster, r_ov)  # C − A with A = site 0 at the origin
    d_vec = _ball(cluster, r_ov)  # D − B
    b_vec = _ball(cluster, r_ov + r_c)  # B (|Q| ≤ |P| + r_c and |B − Q| ≤ r_ov/2)
    C = (c_vec @ a)[:, None, None, :]
    B = (b_vec @ a)[None, :, None, :]
    D = B + (d_vec @ a)[None, None, :, :]
    P = C / 2
    Q = (B + D) / 2
    pq2 = np.sum((P - Q) ** 2, axis=-1)
    s_ac = np.exp(-alpha * np.sum(C**2, axis=-1) / 2)
    s_bd = np.exp(-alpha * np.sum((D - B) ** 2, axis=-1) / 2)
    val = coulomb * s_ac * s_bd * 2 * np.sqrt(alpha / np.pi) * boys_f0(alpha * pq2)
    keep = np.broadcast_to(pq2 <= r_c**2 + 1e-9, val.shape)
    nc, nb, nd = len(c_vec), len(b_vec), len(d_vec)
    jc = np.broadcast_to(cluster.site_index(c_vec)[:, None, None], (nc, nb, nd))
    jb = np.broadcast_to(cluster.site_index(b_vec)[None, :, None], (nc, nb, nd))
    jd = cluster.site_index(b_vec[None, :, None, :] + d_vec[None, None, :, :])
    jd = np.broadcast_to(jd, (nc, nb, nd))
    n = cluster.n_sites
    v0 = np.zeros((n, n, n))  # v0[j, k, l] = ⟨0 j|v|k l⟩ = (0 k | j l): B → j, C → k, D → l
    np.add.at(v0, (jb[keep], jc[keep], jd[keep]), val[keep])
    v = _translate(cluster, v0)
    if orthogonalize:
        s = gaussian_overlap(cluster, alpha)
        w, u = np.linalg.eigh(s)
        if w.min() <= 1e-10:
            raise InputError(f"the Gaussians (alpha={alpha}) are linearly dependent on this cluster")
        x = (u / np.sqrt(w)) @ u.T  # S^{-1/2}, real symmetric
        v = np.einsum("ia,jb,kc,ld,ijkl->abcd", x, x, x, x, v, optimize=True)
    label = (
        f"Gaussian Coulomb (alpha={alpha:g}, e²/a={coulomb:g}, r_ov={r_ov:g}, r_c={r_c:g}"
        f"{', orthogonalised' if orthogonalize else ''}; t={t:g}, t'={t2:g})"
    )
    return LatticeModel(cluster, band_energies(cluster, t, t2), v, label)
