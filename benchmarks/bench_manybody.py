"""Benchmark: nhm's momentum-sector ED against QuSpin on the Hubbard ring, and the NHM ΔE pipeline.

    .venv/bin/python benchmarks/bench_manybody.py                  # Hubbard ring L = 8, 10, 12 vs QuSpin
    .venv/bin/python benchmarks/bench_manybody.py --texture12      # + the full 12-site ΔE with the texture (minutes)

Same Hamiltonian for both codes: H = −t Σ_iσ (c†_iσ c_{i+1σ} + h.c.) + U Σ_i n_i↑ n_i↓ on a ring of L sites,
half filling, S_z = 0, t = 1, U = 4. Both diagonalize the momentum blocks K = 0 … π (K and −K are
equivalent by time reversal, so both skip −K) for the lowest eigenvalue (ARPACK, which='SA', tol = 0)
and report the ground energy. nhm works in Bloch modes (momentum blocks are a filter on bit strings),
QuSpin in real space with translation-orbit representatives. If QuSpin is not installed, a
straightforward scipy real-space ED of the S_z sector (no momentum blocks) is the comparison instead.

Each timing is the minimum over ``--repeat`` runs (the machine may be shared); each run is a fresh
child process, which also reports its peak resident memory.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time
from itertools import combinations

import numpy as np


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def nhm_hubbard(L: int, U: float) -> dict:
    from nhm.manybody.condensation import ModelSpec, build_hamiltonian, make_model
    from nhm.manybody.ed import compile_operator, diagonalize
    from nhm.manybody.wannier_basis import identity_field

    t0 = time.perf_counter()
    model = make_model(ModelSpec(lattice="chain", sites=L, U=U, field="identity"))
    ham = build_hamiltonian(model, identity_field(model.cluster))
    op = compile_operator(ham.bloch_reference, ham.labels)
    spec = diagonalize(op, ham.labels, L, n_eig=1, kramers_pairs=True, up_values=[L // 2], keep_ground=False)
    return {"E0": spec.ground_energy, "seconds": time.perf_counter() - t0, "blocks": len(spec.sectors),
            "dim": spec.max_dimension, "nnz": spec.max_nnz, "peak_MiB": _peak_mib()}


def quspin_hubbard(L: int, U: float) -> dict:
    from quspin.basis import spinful_fermion_basis_1d
    from quspin.operators import hamiltonian

    t0 = time.perf_counter()
    hop_right = [[-1.0, i, (i + 1) % L] for i in range(L)]
    hop_left = [[1.0, i, (i + 1) % L] for i in range(L)]
    onsite = [[U, i, i] for i in range(L)]
    static = [["+-|", hop_left], ["-+|", hop_right], ["|+-", hop_left], ["|-+", hop_right], ["n|n", onsite]]
    energies, dim, nnz = [], 0, 0
    for k in range(L // 2 + 1):
        basis = spinful_fermion_basis_1d(L, Nf=(L // 2, L // 2), kblock=k, a=1)
        h = hamiltonian(static, [], basis=basis, dtype=np.complex128, check_symm=False, check_herm=False, check_pcon=False)
        energies.append(float(h.eigsh(k=1, which="SA", return_eigenvectors=False)[0]))
        dim = max(dim, basis.Ns)
        nnz = max(nnz, h.tocsr().nnz)
    return {"E0": min(energies), "seconds": time.perf_counter() - t0, "blocks": L // 2 + 1, "dim": dim, "nnz": nnz,
            "peak_MiB": _peak_mib()}


def scipy_hubbard(L: int, U: float) -> dict:
    """Plain real-space ED of the S_z = 0 sector: H = H_↑ ⊗ 1 + 1 ⊗ H_↓ + U·(double occupancy)."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    t0 = time.perf_counter()
    states = np.array([sum(1 << i for i in c) for c in combinations(range(L), L // 2)], dtype=np.int64)
    index = {int(s): i for i, s in enumerate(states)}
    rows, cols, vals = [], [], []
    for i, s in enumerate(states):
        for a in range(L):
            b = (a + 1) % L
            for x, y in ((a, b), (b, a)):
                if (s >> x) & 1 and not (s >> y) & 1:
                    lo, hi = min(x, y), max(x, y)
                    between = bin(int(s) & (((1 << hi) - 1) ^ ((1 << (lo + 1)) - 1))).count("1")
                    rows.append(index[int(s ^ (1 << x) ^ (1 << y))])
                    cols.append(i)
                    vals.append(-1.0 * (-1) ** between)
    h1 = sp.csr_matrix((vals, (rows, cols)), shape=(len(states),) * 2)
    eye = sp.identity(len(states), format="csr")
    double = np.bitwise_count(np.bitwise_and.outer(states, states)).astype(float).ravel()
    h = sp.kron(h1, eye, format="csr") + sp.kron(eye, h1, format="csr") + sp.diags(U * double)
    e0 = float(spla.eigsh(h, k=1, which="SA", return_eigenvectors=False)[0])
    return {"E0": e0, "seconds": time.perf_counter() - t0, "blocks": 1, "dim": h.shape[0], "nnz": h.nnz,
            "peak_MiB": _peak_mib()}


def texture_delta_e(L: int, lattice: str = "chain") -> dict:
    from nhm.manybody.condensation import ModelSpec, run

    t0 = time.perf_counter()
    res = run(ModelSpec(lattice=lattice, sites=L, U=4.0, field="texture", strength=1.0))
    return {"seconds": time.perf_counter() - t0, "peak_MiB": _peak_mib(), "delta_E": res.delta_E, "E0_H": res.E0_H,
            "E0_H_prime": res.E0_H_prime, "Hz": res.Hz_expectation_in_G_prime, "residual": res.spectrum_invariance_residual,
            "dim": res.sector_dimension_max, "nnz": res.nnz_max, "parts": res.seconds}


def _child(fn, args, queue) -> None:
    queue.put(fn(*args))


def isolated(fn, *args) -> dict:
    """Run fn(*args) in a fresh process (clean timing and peak memory)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def best_of(repeat: int, fn, *args) -> dict:
    runs = [isolated(fn, *args) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["seconds"])
    best["peak_MiB"] = max(r["peak_MiB"] for r in runs)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="8,10,12", help="ring lengths L (comma-separated)")
    ap.add_argument("--U", type=float, default=4.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--texture-sizes", default="6,8,10", help="ΔE pipeline (texture field) timings for these N")
    ap.add_argument("--texture12", action="store_true", help="also the full 12-site ΔE with the texture (minutes)")
    args = ap.parse_args()

    try:
        import quspin  # noqa: F401

        other, other_name = quspin_hubbard, "QuSpin " + __import__("quspin").__version__
    except ImportError:
        other, other_name = scipy_hubbard, "plain scipy real-space ED (QuSpin not installed)"
    print(f"Hubbard ring, half filling, S_z = 0, U = {args.U:g} t: nhm (momentum blocks) vs {other_name}")
    print(f"{'L':>3} {'code':>8} {'E0 / t':>16} {'seconds':>8} {'blocks':>6} {'max dim':>8} {'max nnz':>10} {'peak MiB':>9}")
    for L in (int(x) for x in args.sizes.split(",")):
        a = best_of(args.repeat, nhm_hubbard, L, args.U)
        b = best_of(args.repeat, other, L, args.U)
        for name, r in (("nhm", a), ("other", b)):
            print(f"{L:>3} {name:>8} {r['E0']:>16.10f} {r['seconds']:>8.2f} {r['blocks']:>6} {r['dim']:>8} {r['nnz']:>10} "
                  f"{r['peak_MiB']:>9.0f}")
        assert abs(a["E0"] - b["E0"]) < 1e-8, "the two codes disagree"
        print(f"    time ratio nhm / other = {a['seconds'] / b['seconds']:.2f}  (|ΔE0| = {abs(a['E0'] - b['E0']):.1e})")

    print("\nNHM pipeline (chain, U = 4t, texture λ = 1): E0(H), E0(H′), ⟨G′|H_z|G′⟩, invariance residual")
    sizes = [int(x) for x in args.texture_sizes.split(",") if x] + ([12] if args.texture12 else [])
    for L in sizes:
        r = isolated(texture_delta_e, L)
        parts = ", ".join(f"{k} {v:.1f}" for k, v in r["parts"].items())
        print(f"N = {L:>2}: ΔE = {r['delta_E']:+.6f} t, ⟨H_z⟩ = {r['Hz']:+.6f} t, residual {r['residual']:.1e}, "
              f"max sector {r['dim']} (nnz {r['nnz']}), {r['seconds']:.1f} s, peak {r['peak_MiB']:.0f} MiB  [{parts}]")


if __name__ == "__main__":
    main()
