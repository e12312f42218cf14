"""Smith normal form: nhm's own (nhm.bandrep.smith, exact Python integers) against hsnf (PyPI, numpy int64).

On the matrices nhm decomposes: the EBR matrices of all 920 settings (symmetry indicators) and the
3x3 matrices R_p^T - 1 of every rotation of every group (the fixed k-vectors of the composite
criterion). For each implementation: is ``u a v = d`` exactly, d diagonal with d_i | d_(i+1) and
d_i >= 0, u and v unimodular (|det| = 1, exactly); do the invariant factors agree; the largest entry
of the transforms (hsnf computes in int64 and does not check for overflow); and the time.

    .venv/bin/python benchmarks/compare_smith.py
"""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np


def exact_det(m) -> int:
    """Determinant of an integer matrix, exactly (fraction-free Gaussian elimination)."""
    a = [[Fraction(int(x)) for x in row] for row in m]
    n, det = len(a), Fraction(1)
    for c in range(n):
        p = next((r for r in range(c, n) if a[r][c] != 0), None)
        if p is None:
            return 0
        if p != c:
            a[c], a[p] = a[p], a[c]
            det = -det
        det *= a[c][c]
        for r in range(c + 1, n):
            f = a[r][c] / a[c][c]
            a[r] = [x - f * y for x, y in zip(a[r], a[c])]
    return int(det)


def check(a: np.ndarray, u, d, v) -> list[str]:
    """What is wrong with ``u a v = d`` as a Smith normal form of ``a`` (exact, Python integers)."""
    ao, uo, do, vo = (np.array(x, dtype=object) for x in (a, u, d, v))
    problems = []
    if not (uo.dot(ao).dot(vo) == do).all():
        problems.append("u a v != d")
    off = do.copy()
    for i in range(min(do.shape)):
        off[i, i] = 0
    if (off != 0).any():
        problems.append("d not diagonal")
    diag = [int(do[i, i]) for i in range(min(do.shape))]
    if any(x < 0 for x in diag) or any(diag[i + 1] % diag[i] for i in range(len(diag) - 1) if diag[i]):
        problems.append("invariant factors not >= 0 and dividing")
    if any(diag[i] == 0 and diag[i + 1] != 0 for i in range(len(diag) - 1)):
        problems.append("zeros not last")
    for name, m in (("u", uo), ("v", vo)):
        if m.size and abs(exact_det(m)) != 1:
            problems.append(f"{name} not unimodular")
    return problems


def matrices() -> list[tuple[str, np.ndarray]]:
    from nhm.bandrep.decompose import ebr_matrix
    from nhm.groups.exact import inverse
    from nhm.groups.spacegroup import space_group

    out = []
    for n in range(1, 231):
        for double in (False, True):
            for tr in (False, True):
                out.append((f"EBR {n} {'double' if double else 'single'}{' TR' if tr else ''}", ebr_matrix(n, double, tr)))
    for n in range(1, 231):
        g = space_group(n)
        p = np.array(g.primitive_transform, dtype=object)
        p_inv = np.array(inverse([[Fraction(x) for x in row] for row in p]), dtype=object)
        for h, op in enumerate(g.operations):
            r_p = p_inv.dot(np.array(op.rotation, dtype=object)).dot(p)
            out.append((f"R_p^T - 1 {n} op {h}", np.array([[int(x) for x in row] for row in (r_p.T - np.eye(3, dtype=int))])))
    return out


def main() -> None:
    import hsnf

    from nhm.bandrep.smith import smith_normal_form

    mats = matrices()
    ebr = [m for name, m in mats if name.startswith("EBR")]
    print(f"{len(ebr)} EBR matrices (largest {max(m.shape for m in ebr)}), {len(mats) - len(ebr)} 3x3 rotation matrices")
    results = {}
    for label, run in (
        ("nhm.bandrep.smith", lambda a: smith_normal_form(a)),
        ("hsnf 0.4 (int64)", lambda a: (lambda d, l, r: (l, d, r))(*hsnf.smith_normal_form(a))),
    ):
        t0 = time.process_time()
        out = [run(a) for _, a in mats]
        t_all = time.process_time() - t0
        t0 = time.process_time()
        for a in ebr:
            run(a)
        t_ebr = time.process_time() - t0
        bad = [(name, p) for (name, a), (u, d, v) in zip(mats, out) if (p := check(a, u, d, v))]
        biggest = max(max((abs(int(x)) for x in np.asarray(m, dtype=object).ravel()), default=0) for u, d, v in out for m in (u, v))
        results[label] = [tuple(int(d[i, i]) for i in range(min(d.shape))) for _, d, _ in out]
        print(f"{label:20s} {t_all:6.2f} s CPU all, {t_ebr:6.2f} s the EBR matrices; wrong: {len(bad)}; largest transform entry {biggest}")
        for name, p in bad[:5]:
            print(f"    {name}: {', '.join(p)}")
    a, b = results.values()
    print(f"invariant factors agree on {sum(x == y for x, y in zip(a, b))} of {len(a)} matrices")


if __name__ == "__main__":
    main()
