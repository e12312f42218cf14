"""Spin-½ algebra and the Cartesian frame in which the BCS SU(2) lifts are rotations.

``SIGMA[i]`` are the Pauli matrices σ_x, σ_y, σ_z. An SU(2) matrix U rotates spin vectors by the SO(3)
matrix O(U) with ``U σ_j U† = Σ_i O_ij σ_i`` (so ``⟨Uχ|σ|Uχ⟩ = O ⟨χ|σ|χ⟩``).

The BCS lift of an operation {R|t} is an SU(2) rotation of the proper part ``det(R)·R`` only in a
definite Cartesian frame (science.md §2.2): the plain frame (a ∥ x, b ∥ y, c ∥ z) for the orthorhombic,
tetragonal and cubic groups, and for the trigonal and hexagonal groups the *left-handed* frame
a1 = (0, 1, 0), a2 = (√3/2, −1/2, 0), a3 = (0, 0, c/a). All spin vectors n_m(k) of nhm are in that frame.
Monoclinic and triclinic groups (1–15) are refused: their lift frame is not fixed by symmetry and is
not tested.
"""

from __future__ import annotations

import numpy as np

from nhm.errors import InputError

SIGMA = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=complex)
SIGMA_Y = SIGMA[1]

# default axis ratios (b/a, c/a) when the user gives no lattice: only the metric of the mesh (Voronoi
# distances and finite-difference weights) depends on them, never the symmetry
DEFAULT_RATIOS = {"orthorhombic": (1.2, 1.45), "tetragonal": (1.0, 1.5), "hexagonal": (1.0, 1.6), "cubic": (1.0, 1.0)}


def crystal_family(space_group: int) -> str:
    """triclinic, monoclinic, orthorhombic, tetragonal, hexagonal (trigonal included) or cubic."""
    n = int(space_group)
    if n <= 2:
        return "triclinic"
    if n <= 15:
        return "monoclinic"
    if n <= 74:
        return "orthorhombic"
    if n <= 142:
        return "tetragonal"
    if n <= 194:
        return "hexagonal"
    return "cubic"


def lift_frame_lattice(space_group: int, b_over_a: float | None = None, c_over_a: float | None = None) -> np.ndarray:
    """Conventional lattice vectors as COLUMNS, in units of a, in the Cartesian frame of the BCS lifts."""
    family = crystal_family(space_group)
    if family in ("triclinic", "monoclinic"):
        raise InputError(
            f"k-space magnetism needs the Cartesian frame of the BCS spin lifts, which nhm knows for space "
            f"groups 16–230 only; space group {space_group} is {family}"
        )
    b0, c0 = DEFAULT_RATIOS[family]
    b = b0 if b_over_a is None else float(b_over_a)
    c = c0 if c_over_a is None else float(c_over_a)
    if family == "hexagonal":
        return np.array([[0.0, np.sqrt(3) / 2, 0.0], [1.0, -0.5, 0.0], [0.0, 0.0, c]])
    if family == "cubic":
        return np.eye(3)
    if family == "tetragonal":
        return np.diag([1.0, 1.0, c])
    return np.diag([1.0, b, c])


def rotation_of_su2(u: np.ndarray) -> np.ndarray:
    """SO(3) matrices O(U) (..., 3, 3) with U σ_j U† = Σ_i O_ij σ_i; the overall phase of U drops out."""
    u = np.asarray(u)
    return 0.5 * np.real(np.einsum("iab,...bc,jcd,...ed->...ij", SIGMA, u, SIGMA, u.conj()))


def cartesian_rotation(rotation: np.ndarray, lattice: np.ndarray) -> np.ndarray:
    """The Cartesian matrix A R A⁻¹ of a rotation R acting on conventional fractional coordinates."""
    return lattice @ np.asarray(rotation, dtype=float) @ np.linalg.inv(lattice)


def polar_unitary(x: np.ndarray) -> np.ndarray:
    """Unitary polar factor U V† of a stack of square matrices X = U Σ V† (the unitary nearest to X).

    2×2 stacks use the closed form U = (X + e^{iφ} adj(X)†)/(σ₁ + σ₂), e^{iφ} = det X/|det X|,
    σ₁ + σ₂ = (tr X†X + 2|det X|)^{1/2} (because P + det P·P⁻¹ = tr P for a positive 2×2 P); it is
    vectorized and ~20× faster than an SVD. X must be invertible there (the callers guarantee it).
    """
    x = np.asarray(x)
    if x.shape[-2:] != (2, 2):
        u, _, vh = np.linalg.svd(x)
        return u @ vh
    a, b, c, d = x[..., 0, 0], x[..., 0, 1], x[..., 1, 0], x[..., 1, 1]
    det = a * d - b * c
    mod = np.abs(det)
    ph = np.where(mod > 0, det / np.where(mod > 0, mod, 1.0), 1.0)
    norm = np.sqrt(np.abs(a) ** 2 + np.abs(b) ** 2 + np.abs(c) ** 2 + np.abs(d) ** 2 + 2 * mod)
    # adj X = [[d, −b], [−c, a]], so adj(X)† = [[d*, −c*], [−b*, a*]]
    out = np.empty(x.shape, dtype=complex)
    out[..., 0, 0] = a + ph * d.conj()
    out[..., 0, 1] = b - ph * c.conj()
    out[..., 1, 0] = c - ph * b.conj()
    out[..., 1, 1] = d + ph * a.conj()
    return out / norm[..., None, None]


def time_reverse(f: np.ndarray) -> np.ndarray:
    """σ_y F* σ_y for a stack of 2×2 matrices: F(−k) of a time-reversal-adapted field (science.md §4).

    Written out, σ_y [[a, b], [c, d]]* σ_y = [[d*, −c*], [−b*, a*]] (no matrix products: this is hot).
    """
    f = np.asarray(f)
    out = np.empty(f.shape, dtype=complex)
    out[..., 0, 0] = f[..., 1, 1].conj()
    out[..., 0, 1] = -f[..., 1, 0].conj()
    out[..., 1, 0] = -f[..., 0, 1].conj()
    out[..., 1, 1] = f[..., 0, 0].conj()
    return out


def spin_vectors(f: np.ndarray) -> np.ndarray:
    """n_m = ⟨χ_m|σ|χ_m⟩ for the columns χ_m of F: array (..., 2, 3), m = 0 is +½, m = 1 is −½."""
    return np.real(np.einsum("...sm,isr,...rm->...mi", f.conj(), SIGMA, f))
