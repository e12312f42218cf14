"""The real constraint spaces V_k of F(k), and the k-independent solution (science.md §4).

F(k) obeys the linear conditions of eq. (2) of :mod:`nhm.kspace.constraints.characters` and time reversal.
Time reversal T = −iσ_y K with the spatial gauge φ_{−k} = φ_k* and T w_m = Σ_m' τ_{m'm} w_m', τ = −iσ_y
(T w_↑ = w_↓, T w_↓ = −w_↑; ρτ = τρ* holds for ρ = s ⊗ D½ with real s) gives

    F(−k) = σ_y F(k)* σ_y.                                                                (3)

science.md allows "up to a diagonal phase matrix": by Schur's lemma τ is fixed up to a global phase
when D½ is irreducible on the site group (cubic, tetragonal, hexagonal with 2-fold axes), so only a
global phase remains, absorbed into F. At time-reversal-invariant k, (3) forces F(k) ∈ SU(2)·{±1} = SU(2);
e.g. at N of bcc F(N) = ±iσ_z, not σ_z (σ_z violates (3): σ_y σ_z* σ_y = −σ_z). With inversion,
(2) gives F(−k) = F(k), so F(k) ∈ SU(2) at every k.

Constraint spaces. At a star representative k: the linear conditions λ_h S_h F S_h† = F (h ∈ G_k) and,
if −k lies in the star of k (reached by b), the antilinear condition λ^Γ(b) S_b F S_b† = σ_y F* σ_y.
Written on x = (Re vec F, Im vec F) ∈ R⁸ they are real-linear; their null space V_k is closed under the
unitary polar factor (proved in the docstring of :func:`constraint_spaces`), so a unitary F ∈ V_k is the
polar factor of any invertible element of V_k.

The real-linear algebra the constraint modules share lives here: x = (Re vec F, Im vec F), complex-linear and
antilinear maps as real matrices (:func:`real_linear`, :func:`real_antilinear`) and the null-space tolerance
NULL_TOL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nhm.errors import InputError
from nhm.kspace.constraints.characters import BandCharacters, characters_everywhere
from nhm.kspace.mesh import KMesh
from nhm.kspace.spin import SIGMA_Y


NULL_TOL = 1e-9  # singular values below this span a constraint space
LAMBDA_TOL = 1e-8


# ----------------------------------------------------------------------------- real-linear algebra on C⁴ ≅ R⁸


def real_linear(c: np.ndarray) -> np.ndarray:
    """8×8 real matrix of x ↦ C x on C⁴ ≅ R⁸ (x = (Re, Im))."""
    return np.block([[c.real, -c.imag], [c.imag, c.real]])


def real_antilinear(c: np.ndarray) -> np.ndarray:
    """8×8 real matrix of x ↦ C x̄."""
    return np.block([[c.real, c.imag], [c.imag, -c.real]])


def _conj_action(u: np.ndarray) -> np.ndarray:
    """vec(U F U†) = (Ū ⊗ U) vec F (column-major vec)."""
    return np.kron(u.conj(), u)


SIGMA_Y_ACTION = np.kron(SIGMA_Y.T, SIGMA_Y)  # vec(σ_y X σ_y) = (σ_yᵀ ⊗ σ_y) vec X


def vec(f: np.ndarray) -> np.ndarray:
    """Real 8-vectors (..., 8) of 2×2 matrices (..., 2, 2): column-major vec, then (Re, Im)."""
    v = np.swapaxes(f, -1, -2).reshape(*f.shape[:-2], 4)
    return np.concatenate([v.real, v.imag], axis=-1)


def unvec(x: np.ndarray) -> np.ndarray:
    v = x[..., :4] + 1j * x[..., 4:]
    return np.swapaxes(v.reshape(*x.shape[:-1], 2, 2), -1, -2)


def _null_space(rows: list[np.ndarray]) -> np.ndarray:
    if not rows:
        return np.eye(8)
    a = np.vstack(rows)
    _, sv, vt = np.linalg.svd(a)
    sv = np.concatenate([sv, np.zeros(8 - len(sv))])
    return vt[sv < NULL_TOL].T


# ----------------------------------------------------------------------------- constraint spaces


def _check_time_inversion(chars: BandCharacters) -> None:
    """A time-reversal-invariant band has λ_h(−k) = λ_h(k)* on G_k (G_−k = G_k). Refuse others, naming k."""
    mesh = chars.mesh
    lam = characters_everywhere(chars)
    bad = np.max(np.abs(lam[mesh.minus] - lam.conj()), axis=1)
    if bad.max() > LAMBDA_TOL:
        m = int(np.argmax(bad))
        names = {str(chars.cell[i]) for i in (m, int(mesh.minus[m])) if chars.cell[i]}
        kc = ", ".join(str(x) for x in mesh.k_conventional(m))
        near = f" (near {', '.join(sorted(names))})" if names else ""
        raise InputError(
            f"the band {chars.band_text} is not invariant under time inversion: its characters at k = ({kc}) "
            f"(conventional) and at −k are not complex conjugates{near}; "
            "choose the time-reversed partner irrep at −k (e.g. the same label at a point XA = −X)"
        )


def _has_invertible(q: np.ndarray, rng: np.random.Generator) -> bool:
    """Does the real span of q (8 × d) contain an invertible 2×2 matrix? (A random element is invertible
    with probability 1 if any is: det is a polynomial that vanishes identically or almost nowhere.)"""
    return q.shape[1] > 0 and any(abs(np.linalg.det(unvec(q @ rng.normal(size=q.shape[1])))) > 1e-6 for _ in range(4))


@dataclass(frozen=True, eq=False)
class ConstraintSpaces:
    """Orthonormal bases Q_k (8 × d_k) of the real constraint spaces V_k at the primary representatives.

    ``projector[i]`` = Q Qᵀ for ``reps[i]``; ``lam_star[m]`` is λ^Γ of ``star_op[m]`` (the gauge used to
    propagate F over a star).
    """

    characters: BandCharacters
    reps: np.ndarray
    bases: tuple[np.ndarray, ...]
    projector: np.ndarray  # (n_reps, 8, 8)
    lam_star: np.ndarray  # (N,)

    @property
    def mesh(self) -> KMesh:
        return self.characters.mesh


def constraint_spaces(chars: BandCharacters) -> ConstraintSpaces:
    """Null spaces V_k of the linear and antilinear constraints at every primary star representative.

    Polar closure: if F ∈ V_k is invertible, so is its unitary polar factor F(F†F)^{-1/2} ∈ V_k. For a
    linear condition λ U F U† = F, F†F commutes with U and so does any function of it; for the
    antilinear one F = W F̄ W† (W = σ_y Ū, unitary), F†F = W (F†F)‾ W† and the real function (·)^{-1/2}
    preserves that. Raises InputError if some V_k has no invertible element (the band is not compatible
    with the site representation there; the message names k and the source of its character).
    Representatives of R2 stars (``chars.r2_points``, reading R2) are left out: F is not defined there
    and their Bloch spinors (``chars.r2_spinors``, required) are fixed.
    """
    mesh = chars.mesh
    if chars.r2_points and chars.r2_spinors is None:
        where = "; ".join(f"({', '.join(str(x) for x in mesh.k_conventional(m))}), d = {p.d}" for m, p in sorted(chars.r2_points.items()))
        raise InputError(
            f"the band {chars.band_text} has R2 points on the mesh (conventional k: {where}): there its Bloch "
            "spinors are 2d×2 isometries (nhm.kspace.constraints.r2), not F(k), and the characters do not carry them "
            "(r2_spinors; tight_binding_characters(..., reading='R2') computes them)"
        )
    g = mesh.group
    lifts = g.lifts
    reps = mesh.representatives[mesh.primary[mesh.representatives]]
    reps = np.array([m for m in reps if int(m) not in chars.r2_points], dtype=int)  # R2 points are not variables
    _check_time_inversion(chars)
    bases = []
    rng = np.random.default_rng(1)
    for m in reps:
        m = int(m)
        rows = []
        for h, lam in zip(chars.ops.get(m, ()), chars.lam.get(m, ())):
            rows.append(real_linear(lam * _conj_action(lifts[h]) - np.eye(4)))
        if mesh.partner_rep[m] == m:  # −k in the star of k
            mk = int(mesh.minus[m])
            b = int(mesh.star_op[mk])
            rows.append(real_linear(chars.lam_gamma[b] * _conj_action(lifts[b])) - real_antilinear(SIGMA_Y_ACTION))
        q = _null_space(rows)
        if not _has_invertible(q, rng):
            where = chars.source.get(m, "")
            kc = ", ".join(str(x) for x in mesh.k_conventional(m))
            n_lin = len(chars.ops.get(m, ()))
            if mesh.partner_rep[m] == m and _has_invertible(_null_space(rows[:n_lin]), rng):
                raise InputError(
                    f"the band {chars.band_text} is not invariant under time inversion at k = ({kc}) "
                    f"(conventional){f', character from {where}' if where else ''}: −k is in the star of k and "
                    "the band's irrep there is not its own time-reversed partner (in the co-representation "
                    "it sticks to another irrep), so no F(k) satisfies both symmetry and time inversion"
                )
            raise InputError(
                f"no unitary F(k) satisfies the symmetry constraints at k = ({kc}) "
                f"(conventional){f', character from {where}' if where else ''}: the band {chars.band_text} does not "
                f"admit spin-dependent WFs with {chars.site.label}"
            )
        bases.append(q)
    proj = np.array([q @ q.T for q in bases])
    lam_star = chars.lam_gamma[mesh.star_op]
    return ConstraintSpaces(chars, reps, tuple(bases), proj, lam_star)


@dataclass(frozen=True)
class KIndependence:
    """Does a constant unitary F0 satisfy every constraint on the mesh?  ``f0`` is one (SU(2)) if so."""

    possible: bool
    dimension: int  # real dimension of the solution space of the stacked linear system
    f0: np.ndarray | None
    conflicting: tuple[int, ...]  # operations that carry both λ = +1 and λ = −1 somewhere on the mesh


def k_independent(chars: BandCharacters) -> KIndependence:
    """Solve the stacked linear system λ S_h F0 S_h† = F0 over every (h, λ) on the mesh (all star members).

    Time reversal adds nothing: F0 is fixed up to a phase, and the phase that makes det F0 = 1 makes
    σ_y F0* σ_y = F0. A constant F0 exists iff the band is usual (test U) with a site irrep s′ whose
    s′ ⊗ D½ ≅ ρ; checked on the 16 bcc one-band types in the tests.
    """
    lifts = chars.mesh.group.lifts
    pairs = chars.sign_pairs
    rows = [real_linear(lam * _conj_action(lifts[h]) - np.eye(4)) for (h, lam) in pairs]
    by_op: dict[int, set] = {}
    for h, lam in pairs:
        by_op.setdefault(h, set()).add(lam)
    conflicting = tuple(sorted(h for h, v in by_op.items() if len(v) > 1))
    # Γ's own constraints (all operations with λ^Γ) also bind a constant field
    rows += [real_linear(l * _conj_action(lifts[h]) - np.eye(4)) for h, l in enumerate(chars.lam_gamma)]
    q = _null_space(rows)
    f0 = None
    rng = np.random.default_rng(2)
    for _ in range(6 if q.shape[1] else 0):
        f = unvec(q @ rng.normal(size=q.shape[1]))
        if abs(np.linalg.det(f)) > 1e-6:
            u, _, vh = np.linalg.svd(f)
            f = u @ vh
            f = f / np.sqrt(np.linalg.det(f))
            f0 = f
            break
    return KIndependence(f0 is not None, q.shape[1], f0, conflicting)
