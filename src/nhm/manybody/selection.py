"""The Cooper-pair selection rule of the seed's §3: which scattering processes conserve the total spin.

Each electron is in a Bloch spinor (k, m) whose spin is n_m(k) = ⟨χ_{k,m}|σ|χ_{k,m}⟩ (units of ħ/2;
χ_{k,m} the m-th column of F(k), science.md §1). A state index a = 2k + m labels (k, m). Kramers
partner: (k, m) ↦ (−k, −m), with n_{−m}(−k) = −n_m(k) for a time-reversal-adapted field.

Two-electron processes a1, a2 → b1, b2 (a1 < a2, b1 < b2, k1 + k2 ≡ k1′ + k2′ mod G) are enumerated
over the whole mesh with numpy; trivial ones ({b1, b2} = {a1, a2}) are counted but not analysed. The
change of total spin is ΔS = n(b1) + n(b2) − n(a1) − n(a2). Categories, in this order of precedence:

- ``cooper``: a Cooper pair scatters into a Cooper pair, (k, m), (−k, −m) → (k′, m′), (−k′, −m′) — the
  seed's Eq. (4) on the two-electron level; total spin 0 before and after.
- ``same_k_pair``: (k, m), (k, −m) → (k′, m′), (k′, −m′) with 2k ≡ 2k′: also spin 0 → 0 (k′ = k + G/2
  on even meshes). Not mentioned by the seed; reported separately.
- ``inversion``: b = (−k1, m1), (−k2, m2): conserves the spin whenever the axis field is even
  (n_m(−k) = n_m(k), which time-reversal adaptation implies) and 2(k1 + k2) ≡ 0.
- ``other``.

Four-electron combinations (seed Eqs. 3, 5, 6): for every process P1 that does NOT conserve the spin
(it emits a pair of crystal-spin-1 bosons), all processes P2 with ΔS(P2) = −ΔS(P1) (that reabsorb it)
are found by hashing ΔS; Pauli-forbidden combinations (a state used twice) are dropped. Each
combination is classified by its *net* effect (states that occur both before and after are
spectators and are removed):

- ``cooper_pairs``: Kramers pairs (k, m), (−k, −m) scatter into Kramers pairs — Eq. (4) when P2 is the
  time-reversed P1 (two pairs), or one pair with two spectators;
- ``same_k_pairs``: pairs (k, m), (k, −m) scatter into such pairs (P2 = P1 with every m reversed, and
  its partial forms): also spin 0 → 0, because n_{−m}(k) = −n_m(k); not mentioned by the seed;
- ``no_net``: P2 undoes P1;
- ``other_symmetric``: the remaining combinations whose compensation follows from the two identities
  any time-reversal-adapted field obeys, n_m(−k) = n_m(k) and n_{−m}(k) = −n_m(k) (e.g. a same-k pair
  scattering while single electrons move k → −k at unchanged m);
- ``accidental``: compensation not explained by those identities (zero for a generic texture).

Separately, ``kramers_partner_found`` counts the emitting P1 whose time-reversed process is a valid
compensating partner (all of them unless Pauli forbids it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nhm.manybody.lattice import Cluster
from nhm.manybody.wannier_basis import spin_axes

CATEGORIES = ("cooper", "same_k_pair", "inversion", "other")
FOUR_CATEGORIES = ("cooper_pairs", "same_k_pairs", "no_net", "other_symmetric", "accidental")
MAX_PROCESSES = 40_000_000


@dataclass(frozen=True)
class TwoElectronProcesses:
    """All non-trivial momentum-conserving processes a1, a2 → b1, b2 and their spin change (units ħ/2)."""

    a1: np.ndarray
    a2: np.ndarray
    b1: np.ndarray
    b2: np.ndarray
    delta_spin: np.ndarray  # (n, 3)
    spin_before: np.ndarray  # (n, 3)
    category: np.ndarray  # index into CATEGORIES
    n_trivial: int

    @property
    def size(self) -> int:
        return int(self.a1.shape[0])

    @property
    def delta_norm(self) -> np.ndarray:
        return np.linalg.norm(self.delta_spin, axis=1)


@dataclass
class CategoryStats:
    count: int
    conserving: int
    max_delta: float
    min_delta: float


@dataclass
class SelectionReport:
    """Summary of the selection rule on one mesh (plain data; :meth:`as_dict` for JSON)."""

    n_k: int
    tolerance: float
    n_trivial: int
    two_electron: dict[str, CategoryStats]
    four_electron: dict[str, int]
    four_electron_emitters: int
    kramers_partner_found: int
    four_electron_exact: bool
    cooper_max_delta: float
    cooper_max_pair_spin: float
    kramers_max_defect: float
    histogram_edges: list[float] = field(default_factory=list)
    histogram: dict[str, list[int]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def state_partners(cluster: Cluster) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index maps over states a = 2k + m: Kramers partner (−k, −m), inversion (−k, m), spin flip (k, −m)."""
    a = np.arange(2 * cluster.n_sites)
    k, m = a // 2, a % 2
    kn = cluster.k_neg[k]
    return 2 * kn + (1 - m), 2 * kn + m, 2 * k + (1 - m)


def two_electron_processes(matrices: np.ndarray, cluster: Cluster, tol: float = 1e-10) -> TwoElectronProcesses:
    """Enumerate every non-trivial momentum-conserving two-electron process on the cluster mesh."""
    nk = cluster.n_sites
    if nk**3 * 16 > 4 * MAX_PROCESSES:
        raise ValueError(f"a mesh of {nk} points gives too many processes to enumerate")
    n = spin_axes(matrices).reshape(2 * nk, 3)  # n[a], a = 2k + m
    k1, k2, k1p = np.meshgrid(np.arange(nk), np.arange(nk), np.arange(nk), indexing="ij")
    k1, k2, k1p = k1.ravel(), k2.ravel(), k1p.ravel()
    k2p = cluster.k_add[cluster.k_add[k1, k2], cluster.k_neg[k1p]]
    m = np.array(np.meshgrid(*[np.arange(2)] * 4, indexing="ij")).reshape(4, -1)  # 16 spin choices
    a1 = (2 * k1[:, None] + m[0]).ravel()
    a2 = (2 * k2[:, None] + m[1]).ravel()
    b1 = (2 * k1p[:, None] + m[2]).ravel()
    b2 = (2 * k2p[:, None] + m[3]).ravel()
    ordered = (a1 < a2) & (b1 < b2)  # distinct states, each unordered pair once
    a1, a2, b1, b2 = a1[ordered], a2[ordered], b1[ordered], b2[ordered]
    trivial = (a1 == b1) & (a2 == b2)
    n_trivial = int(trivial.sum())
    a1, a2, b1, b2 = a1[~trivial], a2[~trivial], b1[~trivial], b2[~trivial]
    before = n[a1] + n[a2]
    delta = n[b1] + n[b2] - before
    kp, inv, _ = state_partners(cluster)
    cat = np.full(a1.shape, CATEGORIES.index("other"), dtype=np.int8)
    cooper = (a2 == kp[a1]) & (b2 == kp[b1])
    same_k = ((a1 // 2) == (a2 // 2)) & ((b1 // 2) == (b2 // 2)) & ~cooper
    i1, i2 = np.minimum(inv[a1], inv[a2]), np.maximum(inv[a1], inv[a2])
    inversion = (b1 == i1) & (b2 == i2) & ~cooper & ~same_k
    cat[inversion] = CATEGORIES.index("inversion")
    cat[same_k] = CATEGORIES.index("same_k_pair")
    cat[cooper] = CATEGORIES.index("cooper")
    return TwoElectronProcesses(a1, a2, b1, b2, delta, before, cat, n_trivial)


def _pair_key(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    lo, hi = np.minimum(x, y), np.maximum(x, y)
    return lo * 100_000 + hi


def _closed_under(states: np.ndarray, present: np.ndarray, mapping: np.ndarray) -> np.ndarray:
    """Per row: every present state's image under ``mapping`` is a present state of the same row."""
    img = mapping[np.where(present, states, 0)]
    found = (img[:, :, None] == states[:, None, :]) & present[:, None, :]
    return np.all(found.any(axis=2) | ~present, axis=1)


def four_electron_combinations(proc: TwoElectronProcesses, cluster: Cluster, tol: float = 1e-10,
                               max_pairs: int = 5_000_000) -> tuple[dict[str, int], int, int, bool]:
    """Classify compensating combinations (P1 non-conserving, ΔS(P2) = −ΔS(P1)) by their net effect.

    Returns (counts per FOUR_CATEGORIES, number of emitting P1, number of those whose Kramers image
    compensates them, exact). ΔS is matched on a grid of ``tol`` (neighbouring cells searched, then
    checked exactly). With more than ``max_pairs`` candidates (k-independent F, where ΔS takes a few
    discrete values) nothing is classified and ``exact`` is False; the total goes to ``accidental``.
    """
    kp, _, flip = state_partners(cluster)
    emit = proc.delta_norm > tol
    idx1 = np.flatnonzero(emit)
    counts = {c: 0 for c in FOUR_CATEGORIES}
    if idx1.size == 0:
        return counts, 0, 0, True
    q = np.round(proc.delta_spin / tol).astype(np.int64)
    order = np.lexsort(q.T[::-1])
    rec = np.dtype([("x", np.int64), ("y", np.int64), ("z", np.int64)])
    view = np.ascontiguousarray(q[order]).view(rec).ravel()
    shifts = np.array(np.meshgrid(*[[-1, 0, 1]] * 3, indexing="ij")).reshape(3, -1).T
    ranges = []
    total = 0
    for sh in shifts:
        tv = np.ascontiguousarray(-q[idx1] + sh).view(rec).ravel()
        lo = np.searchsorted(view, tv, side="left")
        hi = np.searchsorted(view, tv, side="right")
        ranges.append((lo, hi))
        total += int((hi - lo).sum())
    # the Kramers image of each emitter, found by look-up of its (in, out) pair keys
    full_key = _pair_key(proc.a1, proc.a2) * 10_000_000_000 + _pair_key(proc.b1, proc.b2)
    key_order = np.argsort(full_key)
    sorted_keys = full_key[key_order]
    a1, a2, b1, b2 = proc.a1[idx1], proc.a2[idx1], proc.b1[idx1], proc.b2[idx1]
    fk = _pair_key(kp[a1], kp[a2]) * 10_000_000_000 + _pair_key(kp[b1], kp[b2])
    pos = np.clip(np.searchsorted(sorted_keys, fk), 0, len(sorted_keys) - 1)
    img = np.where(sorted_keys[pos] == fk, key_order[pos], -1)

    def valid(p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
        ok = np.linalg.norm(proc.delta_spin[p1] + proc.delta_spin[p2], axis=1) <= tol
        a = np.sort(np.stack([proc.a1[p1], proc.a2[p1], proc.a1[p2], proc.a2[p2]], axis=1), axis=1)
        b = np.sort(np.stack([proc.b1[p1], proc.b2[p1], proc.b1[p2], proc.b2[p2]], axis=1), axis=1)
        return ok & (a[:, 1:] != a[:, :-1]).all(axis=1) & (b[:, 1:] != b[:, :-1]).all(axis=1)

    has = img >= 0
    kramers_ok = np.zeros(idx1.size, dtype=bool)
    kramers_ok[has] = valid(idx1[has], img[has])
    n_kramers = int(kramers_ok.sum())
    if total > max_pairs:
        counts["accidental"] = total
        return counts, int(idx1.size), n_kramers, False
    p1_list, p2_list = [], []
    for lo, hi in ranges:
        cnt = hi - lo
        rep = np.repeat(np.arange(idx1.size), cnt)
        within = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        p1_list.append(idx1[rep])
        p2_list.append(order[np.repeat(lo, cnt) + within])
    p1 = np.concatenate(p1_list)
    p2 = np.concatenate(p2_list)
    good = valid(p1, p2)
    p1, p2 = p1[good], p2[good]
    ini = np.stack([proc.a1[p1], proc.a2[p1], proc.a1[p2], proc.a2[p2]], axis=1)
    fin = np.stack([proc.b1[p1], proc.b2[p1], proc.b1[p2], proc.b2[p2]], axis=1)
    # net effect: drop spectators (states present before and after)
    in_net = ~(ini[:, :, None] == fin[:, None, :]).any(axis=2)
    out_net = ~(fin[:, :, None] == ini[:, None, :]).any(axis=2)
    no_net = ~in_net.any(axis=1)
    cooper = ~no_net & _closed_under(ini, in_net, kp) & _closed_under(fin, out_net, kp)
    same_k = ~no_net & ~cooper & _closed_under(ini, in_net, flip) & _closed_under(fin, out_net, flip)
    # symmetric: the signed spin classes (k ~ −k; m = −½ counts −1) balance exactly
    k_of = np.arange(2 * cluster.n_sites) // 2
    cls = np.minimum(k_of, cluster.k_neg[k_of])
    sgn = (1 - 2 * (np.arange(2 * cluster.n_sites) % 2)).astype(np.int8)
    bal = np.zeros((len(ini), cluster.n_sites), dtype=np.int8)
    rows = np.repeat(np.arange(len(ini)), 4)
    np.add.at(bal, (rows, cls[ini].ravel()), sgn[ini].ravel())
    np.add.at(bal, (rows, cls[fin].ravel()), -sgn[fin].ravel())
    symmetric = ~(bal.any(axis=1))
    counts["cooper_pairs"] = int(cooper.sum())
    counts["same_k_pairs"] = int(same_k.sum())
    counts["no_net"] = int(no_net.sum())
    counts["other_symmetric"] = int((symmetric & ~(cooper | same_k | no_net)).sum())
    counts["accidental"] = int((~symmetric & ~(cooper | same_k | no_net)).sum())
    return counts, int(idx1.size), n_kramers, True


def selection_report(matrices: np.ndarray, cluster: Cluster, tol: float = 1e-10, four_electron: bool = True,
                     bins: int = 40) -> SelectionReport:
    """Two- and four-electron statistics of spin conservation for a field F(k) on the cluster mesh."""
    proc = two_electron_processes(matrices, cluster, tol)
    dn = proc.delta_norm
    stats: dict[str, CategoryStats] = {}
    for i, name in enumerate(CATEGORIES):
        sel = proc.category == i
        d = dn[sel]
        stats[name] = CategoryStats(
            int(sel.sum()), int((d <= tol).sum()), float(d.max(initial=0.0)), float(d.min(initial=np.inf)) if d.size else 0.0
        )
    cooper = proc.category == CATEGORIES.index("cooper")
    n = spin_axes(matrices).reshape(-1, 3)
    kp, _, _ = state_partners(cluster)
    kramers_defect = float(np.abs(n[kp] + n).max(initial=0.0))
    edges = np.linspace(0.0, 4.0, bins + 1)
    hist = {name: np.histogram(dn[proc.category == i], bins=edges)[0].tolist() for i, name in enumerate(CATEGORIES)}
    four, emitters, n_kramers, exact = four_electron_combinations(proc, cluster, tol) if four_electron else ({}, 0, 0, True)
    return SelectionReport(
        n_k=cluster.n_sites,
        tolerance=tol,
        n_trivial=proc.n_trivial,
        two_electron=stats,
        four_electron=four,
        four_electron_emitters=emitters,
        kramers_partner_found=n_kramers,
        four_electron_exact=exact,
        cooper_max_delta=float(dn[cooper].max(initial=0.0)),
        cooper_max_pair_spin=float(np.linalg.norm(proc.spin_before[cooper], axis=1).max(initial=0.0)),
        kramers_max_defect=kramers_defect,
        histogram_edges=edges.tolist(),
        histogram=hist,
    )
