"""Smith normal form of integer matrices, with the unimodular transforms (exact Python integers).

Kept rather than hsnf (PyPI; spgrep depends on it): on nhm's matrices (the 920 EBR matrices, the
rotations' R_p^T - 1) both are right and agree, but hsnf computes in int64 without overflow checks and
took 2.6 times as long (benchmarks/compare_smith.py, issue 22).
"""

from __future__ import annotations

import numpy as np


def smith_normal_form(a) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(u, d, v)`` with ``u @ a @ v == d``; u, v unimodular, d diagonal with d_i | d_{i+1}, d_i >= 0.

    Entries are Python ints (object arrays) so that no overflow can occur.
    """
    m = [[int(x) for x in row] for row in np.asarray(a, dtype=object)]
    rows, cols = len(m), (len(m[0]) if m else 0)
    u = [[int(i == j) for j in range(rows)] for i in range(rows)]
    v = [[int(i == j) for j in range(cols)] for i in range(cols)]

    def swap_rows(x, i, j):
        x[i], x[j] = x[j], x[i]

    def swap_cols(x, i, j):
        for row in x:
            row[i], row[j] = row[j], row[i]

    def add_row(x, src, dst, f):  # row dst += f * row src
        x[dst] = [b + f * a for a, b in zip(x[src], x[dst])]

    def add_col(x, src, dst, f):
        for row in x:
            row[dst] += f * row[src]

    t = 0
    while t < min(rows, cols):
        # pivot: smallest non-zero |entry| in the remaining block
        best = None
        for i in range(t, rows):
            for j in range(t, cols):
                if m[i][j] and (best is None or abs(m[i][j]) < abs(m[best[0]][best[1]])):
                    best = (i, j)
        if best is None:
            break
        swap_rows(m, t, best[0]), swap_rows(u, t, best[0])
        swap_cols(m, t, best[1]), swap_cols(v, t, best[1])
        done = False
        while not done:
            done = True
            for i in range(t + 1, rows):
                q = m[i][t] // m[t][t]
                if q:
                    add_row(m, t, i, -q), add_row(u, t, i, -q)
                if m[i][t]:
                    swap_rows(m, t, i), swap_rows(u, t, i)
                    done = False
            for j in range(t + 1, cols):
                q = m[t][j] // m[t][t]
                if q:
                    add_col(m, t, j, -q), add_col(v, t, j, -q)
                if m[t][j]:
                    swap_cols(m, t, j), swap_cols(v, t, j)
                    done = False
            if done:
                # divisibility: the pivot must divide every remaining entry
                for i in range(t + 1, rows):
                    for j in range(t + 1, cols):
                        if m[i][j] % m[t][t]:
                            add_row(m, i, t, 1), add_row(u, i, t, 1)
                            done = False
                            break
                    if not done:
                        break
        if m[t][t] < 0:
            m[t] = [-x for x in m[t]]
            u[t] = [-x for x in u[t]]
        t += 1
    obj = lambda x: np.array(x, dtype=object).reshape(len(x), -1) if x else np.zeros((0, 0), dtype=object)  # noqa: E731
    return obj(u), obj(m), obj(v)


def smith_diagonal(a) -> list[int]:
    """The invariant factors (diagonal of the Smith form), zeros included up to min(rows, cols)."""
    _, d, _ = smith_normal_form(a)
    return [int(d[i, i]) for i in range(min(d.shape))]
