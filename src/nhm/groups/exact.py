"""Exact rational linear algebra on small matrices (lists of Fractions): row reduction and what follows."""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence


def row_reduce(rows: Sequence[Sequence[Fraction]]) -> tuple[list[list[Fraction]], list[int]]:
    """Reduced row-echelon form and pivot columns (exact)."""
    m = [[Fraction(x) for x in row] for row in rows]
    ncol = len(m[0]) if m else 0
    pivots: list[int] = []
    r = 0
    for c in range(ncol):
        p = next((i for i in range(r, len(m)) if m[i][c] != 0), None)
        if p is None:
            continue
        m[r], m[p] = m[p], m[r]
        m[r] = [x / m[r][c] for x in m[r]]
        for i in range(len(m)):
            if i != r and m[i][c] != 0:
                f = m[i][c]
                m[i] = [x - f * y for x, y in zip(m[i], m[r])]
        pivots.append(c)
        r += 1
    return m, pivots


def nullspace(rows: Sequence[Sequence[Fraction]], ncol: int = 3) -> list[list[Fraction]]:
    """A basis of {x : rows x = 0}."""
    m, pivots = row_reduce(rows) if rows else ([], [])
    basis = []
    for f in (c for c in range(ncol) if c not in pivots):
        v = [Fraction(0)] * ncol
        v[f] = Fraction(1)
        for i, pc in enumerate(pivots):
            v[pc] = -m[i][f]
        basis.append(v)
    return basis


def solvable(a: Sequence[Sequence[Fraction]], b: Sequence[Fraction]) -> bool:
    """Whether a x = b has a solution."""
    if not a or not a[0]:
        return all(x == 0 for x in b)
    m, pivots = row_reduce([list(row) + [bi] for row, bi in zip(a, b)])
    return len(a[0]) not in pivots  # inconsistent iff the augmented column is a pivot


def inverse(m: Sequence[Sequence[Fraction]]) -> list[list[Fraction]]:
    """Inverse of a square matrix."""
    n = len(m)
    aug = [list(row) + [Fraction(int(i == j)) for j in range(n)] for i, row in enumerate(m)]
    r, pivots = row_reduce(aug)
    if pivots[:n] != list(range(n)):
        raise ZeroDivisionError("singular matrix")
    return [row[n:] for row in r]
