"""The seed's split H_Cb = H_c + H_ex + H_z (Eqs. 15–18) in the basis of spin-dependent Wannier functions.

Each matrix element V[p, q, r, s] = ⟨R1m1; R2m2|H_Cb|R1′m1′; R2′m2′⟩ of the term
c†_{R1m1} c†_{R2m2} c_{R2′m2′} c_{R1′m1′} (p = R1m1, q = R2m2, r = R1′m1′, s = R2′m2′) goes to exactly one part:

- H_c  : R1 = R1′ and R2 = R2′ (Eq. 16). This includes the on-site elements R1 = R2 = R1′ = R2′, which
  also satisfy Eq. 17: they are the Coulomb repulsion of two electrons on one site, so H_c takes them.
- H_ex : R1 = R2′ and R2 = R1′ (Eq. 17) and R1 ≠ R2 (so no element is counted twice).
- H_z  : everything else, {R1, R2} ≠ {R1′, R2′} (Eq. 18).

The masks partition the index set, so H_c + H_ex + H_z = H_Cb term by term. H_c + H_ex is the set
{R1, R2} = {R1′, R2′} as multisets, which is invariant under relabelling the two electrons: H′ and H_z
are well-defined operators whatever symmetric form V is written in. All three commute with lattice
translations (the Wannier basis is translation covariant and the rules only compare site labels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nhm.manybody.operators import FermionOperator


@dataclass(frozen=True)
class SplitHamiltonian:
    """H = H_HF + H_c + H_ex + H_z in the Wannier basis |R, m⟩ (mode 2R + m), each as a FermionOperator."""

    hf: FermionOperator
    coulomb: FermionOperator
    exchange: FermionOperator
    nonatomic: FermionOperator  # H_z

    @property
    def full(self) -> FermionOperator:
        """H = H_HF + H_c + H_ex + H_z."""
        return self.hf + self.coulomb + self.exchange + self.nonatomic

    @property
    def prime(self) -> FermionOperator:
        """H′ = H_HF + H_c + H_ex = H − H_z (seed Eq. 19)."""
        return self.hf + self.coulomb + self.exchange


def split_masks(n_sites: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean masks (M, M, M, M), M = 2N, of H_c, H_ex and H_z over V[p, q, r, s] (mode p = 2R + m)."""
    site = np.arange(2 * n_sites) // 2
    r1 = site[:, None, None, None]
    r2 = site[None, :, None, None]
    r1p = site[None, None, :, None]
    r2p = site[None, None, None, :]
    coulomb = (r1 == r1p) & (r2 == r2p)
    exchange = (r1 == r2p) & (r2 == r1p) & ~coulomb
    nonatomic = ~(coulomb | exchange)
    return coulomb, exchange, nonatomic


def split_hamiltonian(h_wannier: FermionOperator, n_sites: int) -> SplitHamiltonian:
    """Split H = H_HF + H_Cb given in the Wannier basis: the one-body part is H_HF, the two-body part is split."""
    zero1 = np.zeros_like(h_wannier.one_body)
    c, x, z = split_masks(n_sites)
    v = h_wannier.two_body
    return SplitHamiltonian(
        hf=FermionOperator(h_wannier.one_body.copy(), np.zeros_like(v), h_wannier.constant),
        coulomb=FermionOperator(zero1, np.where(c, v, 0)),
        exchange=FermionOperator(zero1, np.where(x, v, 0)),
        nonatomic=FermionOperator(zero1, np.where(z, v, 0)),
    )
