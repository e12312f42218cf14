"""Projective irreps of a finite group given by its multiplication table and a factor system.

Little groups (:mod:`nhm.groups.irreps`, factor system ``sign(a, b) exp(-2 pi i k.delta(a, b))``)
and site groups (:mod:`nhm.groups.site`, the lift signs) both get their irreps here: from spgrep's
projective-irrep kernel, every result validated (sum of squared dimensions equals the order,
orthonormal characters, ``D(a) D(b) = omega(a, b) D(ab)``) and recomputed with spgrep's randomized
method if the default method fails, and, if that fails too, by splitting the projective regular
representation (science.md §2.4 lists spgrep's known failures).
"""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np

from nhm.errors import GroupTheoryError

__all__ = ["projective_irreps"]


def _validate(mats: list[np.ndarray], omega: np.ndarray, prod: np.ndarray) -> bool:
    n = omega.shape[0]
    if sum(m.shape[1] ** 2 for m in mats) != n:
        return False
    chars = np.array([np.trace(m, axis1=1, axis2=2) for m in mats])
    gram = chars.conj() @ chars.T / n
    if np.max(np.abs(gram - np.eye(len(mats)))) > 1e-6:
        return False
    for m in mats:
        lhs = np.einsum("iab,jbc->ijac", m, m)
        rhs = omega[:, :, None, None] * m[prod]
        if np.max(np.abs(lhs - rhs)) > 1e-6:
            return False
    return True


def _regular_split_irreps(omega: np.ndarray, prod: np.ndarray, seed: int = 0) -> list[np.ndarray]:
    """All irreps with factor system omega, by splitting the projective regular representation.

    ``L(g) e_h = omega(g, h) e_{gh}``. A group average ``X = sum_g L(g) M L(g)^+`` of a random
    Hermitian M commutes with L, so its eigenspaces are L-invariant and, for generic M, irreducible.
    """
    n = omega.shape[0]
    reg = np.zeros((n, n, n), dtype=complex)
    for g in range(n):
        reg[g, prod[g], np.arange(n)] = omega[g]
    rng = np.random.default_rng(seed)
    found: list[np.ndarray] = []
    chars_found: list[np.ndarray] = []
    for _ in range(8):
        m = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
        m = m + m.conj().T
        x = np.einsum("gab,bc,gdc->ad", reg, m, reg.conj())
        w, v = np.linalg.eigh(x)
        start = 0
        while start < n:
            stop = start + 1
            while stop < n and abs(w[stop] - w[start]) < 1e-6 * max(1.0, abs(w[start])):
                stop += 1
            basis = v[:, start:stop]
            start = stop
            d = np.einsum("ia,gij,jb->gab", basis.conj(), reg, basis)
            chi = np.trace(d, axis1=1, axis2=2)
            if abs(np.vdot(chi, chi).real / n - 1) > 1e-6:
                continue  # reducible: an accidental degeneracy; another random M will split it
            if not any(np.max(np.abs(chi - c)) < 1e-6 for c in chars_found):
                found.append(d)
                chars_found.append(chi)
        if sum(f.shape[1] ** 2 for f in found) == n:
            break
    return found


def _neto(rotations: np.ndarray, omega: np.ndarray, prod: np.ndarray) -> list[np.ndarray]:
    """spgrep's ``enumerate_unitary_irreps(rotations, omega, method="Neto")``, the same matrices and the
    same failures, without what it recomputes: its Cayley table is ``prod`` (the rotations multiply as
    the group does) and the chain of subgroups depends on the rotations alone (cached). Its
    Frobenius-Schur check is kept: where it raises (W of SG 24 and 73) the randomized method is used,
    as after spgrep's own call."""
    from spgrep._constants import ATOL
    from spgrep.rep.irreps import frobenius_schur_indicator
    from spgrep.symmetry.enumerate import enumerate_unitary_irreps_from_solvable_group_chain, purify_irrep_value

    chain = _chain_generators(np.asarray(rotations, dtype=np.int64).tobytes(), len(rotations))
    irreps = enumerate_unitary_irreps_from_solvable_group_chain(prod, omega, chain)
    for irrep in irreps:
        purify_irrep_value(irrep, atol=ATOL)  # in place
    for irrep in irreps:
        frobenius_schur_indicator(irrep)
    return irreps


@cache
def _chain_generators(rotations: bytes, order: int) -> list[int]:
    from spgrep.symmetry.pointgroup import get_pointgroup_chain_generators

    return get_pointgroup_chain_generators(np.frombuffer(rotations, dtype=np.int64).reshape(order, 3, 3))


_IRREP_CACHE: dict[bytes, list[np.ndarray]] = {}


def projective_irreps(rotations: np.ndarray, omega: np.ndarray, prod: np.ndarray) -> list[np.ndarray]:
    """All unitary irreps of a finite group with the factor system ``omega``, as matrices.

    The group is given by its elements' ``rotations`` ((n, 3, 3) integers, what spgrep builds its
    chain from), its multiplication table ``prod`` (``g_i g_j = g_prod[i, j]``) and
    ``omega[i, j]`` with ``D(g_i) D(g_j) = omega[i, j] D(g_i g_j)``. Returns one ``(n, d, d)`` array
    per irrep, validated (see the module docstring). Memoized on the rotations and the factor system:
    many little groups and site groups share them.
    """
    key = rotations.astype(np.int8).tobytes() + (np.round(omega, 9) + 0.0).astype(np.complex128).tobytes()
    if key not in _IRREP_CACHE:
        _IRREP_CACHE[key] = _compute_irreps(rotations, omega, prod)
    return _IRREP_CACHE[key]


def _compute_irreps(rotations: np.ndarray, omega: np.ndarray, prod: np.ndarray) -> list[np.ndarray]:
    """spgrep's irreps, validated; our regular-representation split where spgrep fails."""
    from spgrep.symmetry.enumerate import enumerate_unitary_irreps

    for method in ("Neto", "random"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if method == "Neto":
                    mats = _neto(rotations, omega, prod)
                else:
                    mats, _ = enumerate_unitary_irreps(rotations, factor_system=omega, method=method)
        except Exception:  # noqa: BLE001 - spgrep raises assorted errors on its failures
            continue
        if _validate(mats, omega, prod):
            return mats
    mats = _regular_split_irreps(omega, prod)
    if _validate(mats, omega, prod):
        return mats
    raise GroupTheoryError("no valid set of irreps found (spgrep and the regular-representation split failed)")
