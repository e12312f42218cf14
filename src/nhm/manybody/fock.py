"""Bit-string Fock bases of fixed particle number, crystal momentum and (optionally) m-count.

A state of M modes is a uint64 whose bit p is the occupation of mode p; fermionic signs use the
ordering c†_{p1} c†_{p2} ... |0⟩ with p1 < p2 < ... . In the Bloch basis (mode p = 2k + m) every state
has a definite total crystal momentum K = Σ k mod G, so a momentum sector is a plain filter — no
orbit representatives or phases as in real-space translation ED.

Index look-up is O(1) without hashing: write a state as (hi, lo) halves of the bit string. For a fixed
hi, the admissible lo are exactly the lo of one class (popcount, momentum, m-count), in increasing
order, so index(state) = offset[hi] + rank_within_class[lo] — two table reads of 2^{M/2} entries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nhm.errors import InputError

MAX_MODES = 44  # tables of 2^22 entries; C(44, 22) ~ 2e12 states is far beyond ED anyway


@dataclass(frozen=True)
class ModeLabels:
    """Quantum numbers of the modes: mesh index ``k`` (M,), ``up`` (M,) bool, and the mesh tables."""

    k: np.ndarray
    up: np.ndarray
    k_add: np.ndarray
    k_neg: np.ndarray

    @property
    def n_modes(self) -> int:
        return int(self.k.shape[0])

    @property
    def n_k(self) -> int:
        return int(self.k_add.shape[0])

    @staticmethod
    def bloch(k_add: np.ndarray, k_neg: np.ndarray) -> ModeLabels:
        """Bloch modes p = 2k + m (m = 0: m = +½)."""
        nk = k_add.shape[0]
        p = np.arange(2 * nk)
        return ModeLabels(p // 2, p % 2 == 0, np.asarray(k_add), np.asarray(k_neg))


@dataclass(frozen=True)
class SectorBasis:
    """The sorted bit strings of one sector and the two tables of the index look-up."""

    n_modes: int
    n_electrons: int
    momentum: int | None
    n_up: int | None
    states: np.ndarray
    lo_bits: int
    hi_offset: np.ndarray
    lo_rank: np.ndarray

    @property
    def dimension(self) -> int:
        return int(self.states.shape[0])

    def index(self, states: np.ndarray) -> np.ndarray:
        """Positions of ``states`` (which must belong to the sector) in :attr:`states`."""
        lo_mask = np.uint64((1 << self.lo_bits) - 1)
        return self.hi_offset[states >> np.uint64(self.lo_bits)] + self.lo_rank[states & lo_mask]

    def occupations(self) -> np.ndarray:
        """(dim, M) 0/1 occupation numbers as uint8."""
        bits = np.arange(self.n_modes, dtype=np.uint64)
        return ((self.states[:, None] >> bits[None, :]) & np.uint64(1)).astype(np.uint8)


def _half_labels(modes: np.ndarray, labels: ModeLabels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(popcount, momentum index, m-count) of every bit pattern over ``modes`` (bit b ↔ modes[b])."""
    pc = np.zeros(1, dtype=np.int64)
    kk = np.zeros(1, dtype=np.int64)  # index of Γ is 0 in every cluster mesh
    up = np.zeros(1, dtype=np.int64)
    for mode in modes:
        pc = np.concatenate([pc, pc + 1])
        kk = np.concatenate([kk, labels.k_add[kk, labels.k[mode]]])
        up = np.concatenate([up, up + int(labels.up[mode])])
    return pc, kk, up


def sector_basis(
    labels: ModeLabels,
    n_electrons: int,
    momentum: int | None = None,
    n_up: int | None = None,
) -> SectorBasis:
    """All states with ``n_electrons`` particles, total momentum index ``momentum`` and ``n_up`` m = +½ electrons.

    ``None`` leaves that quantum number free.
    """
    m = labels.n_modes
    if m > MAX_MODES:
        raise InputError(f"{m} modes is beyond this exact diagonalization (at most {MAX_MODES})")
    if not 0 <= n_electrons <= m:
        raise InputError(f"the number of electrons must lie in [0, {m}] for {m // 2} sites, got {n_electrons}")
    h = m // 2
    lo_modes = np.arange(h)
    hi_modes = np.arange(h, m)
    pc_lo, k_lo, up_lo = _half_labels(lo_modes, labels)
    pc_hi, k_hi, up_hi = _half_labels(hi_modes, labels)
    nk = labels.n_k
    use_k = momentum is not None
    use_up = n_up is not None
    # one integer key per class (popcount, momentum, m-count) of the low half
    key_lo = (pc_lo * nk + (k_lo if use_k else 0)) * (h + 1) + (up_lo if use_up else 0)
    n_keys = (h + 1) * nk * (h + 1)
    lo_vals = np.arange(1 << h, dtype=np.int64)
    order = np.lexsort((lo_vals, key_lo))
    sorted_keys = key_lo[order]
    start = np.searchsorted(sorted_keys, np.arange(n_keys))
    count = np.bincount(key_lo, minlength=n_keys)
    lo_rank = np.empty(1 << h, dtype=np.int64)
    lo_rank[order] = np.arange(1 << h) - start[sorted_keys]
    req_pc = n_electrons - pc_hi
    valid = (req_pc >= 0) & (req_pc <= h)
    req_k = labels.k_add[momentum, labels.k_neg[k_hi]] if use_k else np.zeros_like(k_hi)
    req_up = (n_up - up_hi) if use_up else np.zeros_like(up_hi)
    valid &= (req_up >= 0) & (req_up <= h)
    req_key = np.where(valid, (np.clip(req_pc, 0, h) * nk + req_k) * (h + 1) + np.clip(req_up, 0, h), 0)
    cnt_hi = np.where(valid, count[req_key], 0)
    hi_offset = np.concatenate([[0], np.cumsum(cnt_hi)[:-1]]).astype(np.int64)
    total = int(cnt_hi.sum())
    hi_rep = np.repeat(np.arange(1 << (m - h), dtype=np.int64), cnt_hi)
    within = np.arange(total, dtype=np.int64) - np.repeat(hi_offset, cnt_hi)
    lo = order[start[req_key[hi_rep]] + within]
    states = (hi_rep.astype(np.uint64) << np.uint64(h)) | lo.astype(np.uint64)
    itype = np.int32 if total < 2**31 - 1 else np.int64  # int32 look-ups halve the index traffic
    return SectorBasis(m, n_electrons, momentum, n_up, states, h, hi_offset.astype(itype), lo_rank.astype(itype))
