"""Seitz operations {R|t} with exact fractional translations and an SU(2) lift.

Action on direct (fractional, conventional) coordinates: ``x -> R x + t``; composition
``{R1|t1}{R2|t2} = {R1 R2 | R1 t2 + t1}``. On spinors the operation acts by its lift ``U`` (a 2x2
SU(2) matrix of the proper part of R); the double group is {(g, ±U)}, so lifts compose explicitly and a
product's lift may be minus the canonical lift of its rotation (that sign is what double-valued
characters see).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

Vec3 = tuple[Fraction, Fraction, Fraction]
Mat3 = tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]

ZERO: Vec3 = (Fraction(0), Fraction(0), Fraction(0))


def mat_vec(r: Mat3, v: Vec3) -> Vec3:
    return tuple(sum((r[i][j] * v[j] for j in range(3)), Fraction(0)) for i in range(3))  # type: ignore[return-value]


def vec_add(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def vec_sub(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def dot(a: Vec3, b: Vec3) -> Fraction:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def is_integer_vector(v: Vec3) -> bool:
    return all(x.denominator == 1 for x in v)


def as_fraction_vector(v, denominator: int = 48) -> Vec3:
    """Exact vector from ints, Fractions, strings or floats (floats snapped to ``1/denominator``)."""
    out = []
    for x in v:
        if isinstance(x, float | np.floating):
            out.append(Fraction(float(x)).limit_denominator(denominator))
        else:
            out.append(Fraction(x))
    return tuple(out)  # type: ignore[return-value]


@dataclass(frozen=True)
class SeitzOp:
    """A space-group operation ``{R|t}`` and its SU(2) lift ``su2`` (identity when spinless)."""

    rotation: Mat3
    translation: Vec3
    su2: np.ndarray = field(default_factory=lambda: np.eye(2, dtype=complex), compare=False)

    def __matmul__(self, other: SeitzOp) -> SeitzOp:
        r = tuple(
            tuple(sum(self.rotation[i][k] * other.rotation[k][j] for k in range(3)) for j in range(3))
            for i in range(3)
        )
        t = vec_add(mat_vec(self.rotation, other.translation), self.translation)
        return SeitzOp(r, t, self.su2 @ other.su2)  # type: ignore[arg-type]

    def apply(self, x: Vec3) -> Vec3:
        return vec_add(mat_vec(self.rotation, x), self.translation)

    @property
    def rotation_array(self) -> np.ndarray:
        return np.array(self.rotation, dtype=int)

    @property
    def determinant(self) -> int:
        return int(round(np.linalg.det(self.rotation_array)))

    def inverse(self) -> SeitzOp:
        rinv = np.rint(np.linalg.inv(self.rotation_array)).astype(int)
        r = tuple(tuple(int(x) for x in row) for row in rinv)
        t = mat_vec(r, self.translation)  # type: ignore[arg-type]
        return SeitzOp(r, (-t[0], -t[1], -t[2]), self.su2.conj().T)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return seitz_symbol(self)


def _axis_and_order(r: np.ndarray) -> tuple[int, np.ndarray | None]:
    det = round(np.linalg.det(r))
    proper = r * det
    tr = int(round(np.trace(proper)))
    order = {3: 1, -1: 2, 0: 3, 1: 4, 2: 6}[tr]
    if order == 1:
        return 1, None
    w, v = np.linalg.eig(proper.astype(float))
    axis = np.real(v[:, np.argmin(abs(w - 1))])
    axis = axis / np.max(np.abs(axis))
    return order, np.rint(axis * 6) / 6


def seitz_symbol(op: SeitzOp) -> str:
    """A readable Seitz symbol such as ``{4+_001|1/4,1/4,1/4}`` (axis in direct lattice coordinates)."""
    r = op.rotation_array
    det = round(np.linalg.det(r))
    order, axis = _axis_and_order(r)
    if order == 1:
        name = "1" if det == 1 else "-1"
    else:
        if order == 2 and det == -1:
            name = "m"
        else:
            name = f"{'-' if det == -1 else ''}{order}"
        assert axis is not None
        ax = axis / min(abs(a) for a in axis if abs(a) > 1e-9)
        ax = ax if ax[np.argmax(np.abs(ax) > 1e-9)] > 0 else -ax
        if order > 2:
            # sense of rotation: + if (axis, v, R v) is right-handed for a v off the axis
            v = next(e for e in np.eye(3) if np.linalg.norm(np.cross(e, ax)) > 1e-9)
            name = name.replace(str(order), f"{order}{'+' if np.linalg.det(np.array([ax, v, (r * det) @ v])) > 0 else '-'}")
        name += "_" + "".join(str(int(round(a))) if abs(a - round(a)) < 1e-9 else f"{a:g}" for a in ax)
    t = ",".join(str(x) for x in op.translation)
    return "{" + name + "|" + t + "}"
