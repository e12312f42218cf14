"""Number-conserving fermion operators as plain tensors, and changes of the one-particle basis.

An operator on M modes (spin orbitals) is

    H = c + Σ_{pq} h[p, q] c†_p c_q + ½ Σ_{pqrs} V[p, q, r, s] c†_p c†_q c_s c_r,

i.e. V[p, q, r, s] = ⟨pq|v|rs⟩ in physicists' order (p, r: electron 1; q, s: electron 2), which is the
seed's ⟨R1m1; R2m2|H_Cb|R1′m1′; R2′m2′⟩ with the operator order c†_{R1m1} c†_{R2m2} c_{R2′m2′} c_{R1′m1′}.
V is *not* antisymmetrised: the split into H_c and H_ex (seed Eqs. 16, 17) refers to these matrix
elements, while H′ = H − H_z is independent of that choice.

Mode orderings used in :mod:`nhm.manybody`: site/spin basis p = 2R + s (s = 0: ↑, 1: ↓), Wannier basis
p = 2R + m (m = 0: m = +½, 1: m = −½), Bloch basis p = 2k + m (k the index in the cluster mesh).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nhm.manybody.interactions import LatticeModel


@dataclass(frozen=True)
class FermionOperator:
    """Plain data: ``one_body`` h (M, M), ``two_body`` V (M, M, M, M), both complex; ``constant`` c."""

    one_body: np.ndarray
    two_body: np.ndarray
    constant: float = 0.0

    @property
    def n_modes(self) -> int:
        return int(self.one_body.shape[0])

    def __add__(self, other: FermionOperator) -> FermionOperator:
        return FermionOperator(self.one_body + other.one_body, self.two_body + other.two_body, self.constant + other.constant)

    def __sub__(self, other: FermionOperator) -> FermionOperator:
        return FermionOperator(self.one_body - other.one_body, self.two_body - other.two_body, self.constant - other.constant)

    def transform(self, u: np.ndarray) -> FermionOperator:
        """The same operator in the modes c†_b(new) = Σ_a u[a, b] c†_a(old) (u unitary, columns = new modes)."""
        h = u.conj().T @ self.one_body @ u
        v = np.tensordot(self.two_body, u, axes=([3], [0]))  # [a,b,c,s]
        v = np.tensordot(v, u, axes=([2], [0]))  # [a,b,s,r]
        v = np.tensordot(v, u.conj(), axes=([1], [0]))  # [a,s,r,q]
        v = np.tensordot(v, u.conj(), axes=([0], [0]))  # [s,r,q,p]
        return FermionOperator(h, v.transpose(3, 2, 1, 0).copy(), self.constant)

    def hermiticity_defect(self) -> float:
        """max |h − h†| and |V[p,q,r,s] − V[r,s,p,q]*| (zero for a Hermitian operator written symmetrically)."""
        d1 = np.abs(self.one_body - self.one_body.conj().T).max(initial=0.0)
        d2 = np.abs(self.two_body - self.two_body.transpose(2, 3, 0, 1).conj()).max(initial=0.0)
        return float(max(d1, d2))

    @property
    def nbytes(self) -> int:
        return int(self.one_body.nbytes + self.two_body.nbytes)


def spin_orbital_operator(model: LatticeModel) -> FermionOperator:
    """H_HF + H_Cb of ``model`` in the site/spin basis |R, s⟩ (mode p = 2R + s)."""
    n = model.n_sites
    delta = np.eye(2)
    h = np.kron(model.hopping_matrix(), delta)
    # V[(i s1), (j s2), (k s3), (l s4)] = v[i,j,k,l] δ_{s1 s3} δ_{s2 s4}: the interaction is spin independent
    v = np.einsum("ijkl,ac,bd->iajbkcld", model.interaction, delta, delta).reshape(2 * n, 2 * n, 2 * n, 2 * n)
    return FermionOperator(h.astype(complex), v.astype(complex))


def bloch_transform(n_sites: int, phases: np.ndarray) -> np.ndarray:
    """u[(R, m), (k, m′)] = N^{-1/2} e^{ik·R} δ_{mm′}: from a site basis (p = 2R + m) to Bloch modes (2k + m)."""
    return np.kron(phases.T / np.sqrt(n_sites), np.eye(2))
