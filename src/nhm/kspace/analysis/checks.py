"""Spin axes n_m(k), spin frames O(k), the checks they must pass, and the forced jumps of F(k).

n_m(k) = ⟨χ_{k,m}|σ|χ_{k,m}⟩ for the columns χ_{k,m} of F(k) (m = 0 is +½, m = 1 is −½; n_1 = −n_0); the
spin frame O(k) ∈ SO(3) is defined by F σ_j F† = Σ_i O_ij σ_i, so n_0(k) = O(k) ẑ. Both are blind to
the overall (spatial) phase of F.

Checks, and what they really are (derived here; a correction to the naive form):

- Kramers partners: n_{−m}(−k) = −n_m(k), equivalently n_m(−k) = n_m(k) (the axis field is even). Follows
  from F(−k) = σ_y F(k)* σ_y for every unitary F.
- Symmetry: F(αk) = λ S F(k) S† gives **O(αk) = R O(k) Rᵀ** (R the proper rotation of α, Cartesian),
  for every α. The spin *axis* n_0 = O ẑ obeys n(αk) = R n(k) only for the α whose R maps ẑ to ±ẑ
  (rotations about z and two-fold axes ⊥ z; for the latter n_0(αk) = −R n_0(k), the partner spinor
  takes its place). That is every operation of P3 (seed Fig. 1b), but not a three-fold axis of a cubic
  group: for cubic groups "n(αk) = R n(k)" is false even for a constant F = 1 (n = ẑ everywhere). The
  sign λ = ±1 does not enter at all (it is an overall phase of F).
- Continuity: away from the forced jumps neighbouring F differ by O(|b|).

Jumps. A bond (k, k+b) of the finite-difference stencil is a *jump* if the phase-free distance
d_P = min_θ ‖F(k+b) − e^{iθ} F(k)‖ (Frobenius; ≤ 2, the value 2 means orthogonal in the sense
tr F†F′ = 0) exceeds ``JUMP_THRESHOLD``. A jump is *forced* if some operation h leaves both k and k+b
invariant with different λ_h: then one F commutes and the other anticommutes with S(h) (or, for
complex λ, they lie in different eigenspaces of F ↦ S F S†), two disjoint sets at distance d_P = 2.
Jumps are grouped by the symmetry element on which the bond's midpoint lies (its little co-group:
a plane, a line or a point) and by the Voronoi cells (nearest points of symmetry) of the two ends.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from nhm.kspace.constraints.characters import characters_everywhere
from nhm.kspace.construction.field import SpinorField
from nhm.kspace.spin import cartesian_rotation, rotation_of_su2


JUMP_THRESHOLD = 1.0  # d_P of a jump; smooth bonds have d_P = O(|b| |∇F|), forced jumps d_P = 2


def spin_axes(field: SpinorField) -> np.ndarray:
    """(N, 2, 3) n_m(k) in the Cartesian frame of the BCS lifts; at R2 points ⟨σ⟩ of the columns of the
    fixed Bloch spinors Ψ_K (``SpinorField.spin_axes``; length < 1 where d > 1)."""
    return field.spin_axes


def spin_frames(field: SpinorField) -> np.ndarray:
    """(N, 3, 3) O(k) with F σ_j F† = Σ_i O_ij σ_i (NaN at R2 points: no F, no frame)."""
    return rotation_of_su2(field.f)


def proper_rotations(field: SpinorField) -> np.ndarray:
    """(order, 3, 3) Cartesian proper parts det(R)·A R A⁻¹ of the coset representatives."""
    g = field.mesh.group
    lat = field.mesh.lattice
    return np.array([round(np.linalg.det(r)) * cartesian_rotation(r, lat) for r in g.rotations])


@dataclass(frozen=True)
class FieldChecks:
    """Maximal violations; all should be at round-off (≲ 1e-12) except ``continuity_max`` (O(|b|))."""

    kramers: float  # max |n_{−m}(−k) + n_m(k)| (R2 points included, with the axes of their Bloch spinors)
    axis_even: float  # max |n_m(−k) − n_m(k)|
    frame_covariance: float  # max ‖O(αk) − R O(k) Rᵀ‖ over all α and k where F is defined
    axis_covariance: float  # max |n(αk) ∓ R n(k)| over the α with R ẑ = ±ẑ
    axis_covariance_ops: int  # how many coset representatives that is
    lifts_match_frame: float  # max ‖O(S(α)) − R(α)‖: the frame is the one of the BCS lifts
    continuity_max: float  # largest d_P over the bonds that are not jumps
    continuity_mean: float


def check_field(field: SpinorField) -> FieldChecks:
    mesh = field.mesh
    n = spin_axes(field)
    o = spin_frames(field)
    rot = proper_rotations(field)
    kramers = float(np.max(np.abs(n[mesh.minus][:, ::-1] + n)))
    even = float(np.max(np.abs(n[mesh.minus] - n)))
    lifts = mesh.group.lifts
    lift_rot = rotation_of_su2(lifts)
    match = float(np.max(np.abs(lift_rot - rot)))
    cov = 0.0
    ax = 0.0
    n_ax = 0
    ok = field.defined  # R2 stars are closed under the group: frames compared where F is defined
    for i, r in enumerate(rot):
        t = mesh.image[i]
        cov = max(cov, float(np.max(np.abs(o[t][ok] - r @ o[ok] @ r.T), initial=0.0)))
        rz = r[:, 2]
        if abs(abs(rz[2]) - 1) < 1e-9:
            n_ax += 1
            sign = 1 if rz[2] > 0 else -1
            # sign −1: S maps e_m to (a phase times) e_{−m}, so the column m at αk is the rotated −m
            src = n if sign == 1 else n[:, ::-1]
            ax = max(ax, float(np.max(np.abs(n[t] - np.einsum("ij,kmj->kmi", r, src)))))
    dp = field.bond_distances[1]
    smooth = dp[dp <= JUMP_THRESHOLD]
    return FieldChecks(
        kramers, even, cov, ax, n_ax, match,
        float(smooth.max(initial=0.0)), float(smooth.mean()) if smooth.size else 0.0,
    )


@dataclass(frozen=True)
class JumpGroup:
    """Jump bonds whose midpoints lie on one kind of symmetry element between two Voronoi cells."""

    element: str  # "plane", "line", "point" or "general position"
    cogroup_order: int  # order of the midpoint's little co-group
    normal_or_direction: tuple[float, float, float]  # plane normal / line direction (Cartesian, one member)
    cells: tuple[str, str]  # Voronoi cells of the two ends (sorted)
    bonds: int
    forced: int  # of which have disjoint constraint sets at the two ends
    mean_distance: float  # mean d_P
    lambda_change: str = ""  # a forced bond's example: an operation of both ends' little co-groups and λ at each end


@dataclass(frozen=True)
class JumpReport:
    bonds: int  # undirected bonds of the stencil
    jumps: int  # of which are jumps (d_P > JUMP_THRESHOLD)
    forced: int  # of which are forced (disjoint constraint sets at the ends)
    phase_only: int  # bonds with plain distance > threshold but d_P ≤ threshold (spatial-phase jumps)
    axis_jumps: int  # bonds where the spin axis n_0 turns by more than 60°
    groups: tuple[JumpGroup, ...]
    r2_bonds: int = 0  # undirected bonds touching an R2 point (F undefined there: not classified)

    @property
    def fraction(self) -> float:
        return self.jumps / self.bonds if self.bonds else 0.0

    def as_dict(self) -> dict:
        return {
            "bonds": self.bonds,
            "jumps": self.jumps,
            "fraction": self.fraction,
            "forced": self.forced,
            "phase_only_jumps": self.phase_only,
            "spin_axis_jumps": self.axis_jumps,
            "threshold": JUMP_THRESHOLD,
            "bonds_touching_r2_points": self.r2_bonds,
            "surfaces": [g.__dict__ | {"normal_or_direction": list(g.normal_or_direction), "cells": list(g.cells)} for g in self.groups],
        }


def _fixed_space(rots_cart: np.ndarray) -> tuple[int, np.ndarray]:
    """Dimension and basis (columns) of the common fixed space of the Cartesian k-space actions."""
    a = np.vstack([r - np.eye(3) for r in rots_cart]) if len(rots_cart) else np.zeros((1, 3))
    _, sv, vt = np.linalg.svd(a)
    sv = np.concatenate([sv, np.zeros(3 - len(sv))])
    basis = vt[sv < 1e-8].T
    return basis.shape[1], basis


def _short(z: complex) -> str:
    """λ as ±1, ±i or a+bi (3 decimals)."""
    for v, t in ((1, "+1"), (-1, "−1"), (1j, "+i"), (-1j, "−i")):
        if abs(z - v) < 1e-6:
            return t
    return f"{z.real:.3f}{z.imag:+.3f}i"


def jump_report(field: SpinorField) -> JumpReport:
    mesh = field.mesh
    g = mesh.group
    steps, _, table = mesh.neighbours
    plain, proj, axis = field.bond_distances
    half = np.array([tuple(s) > tuple(-s) for s in steps])  # count each undirected bond once
    lam = characters_everywhere(field.characters)
    k_rot = np.array([np.linalg.inv(r).T for r in g.rotations.astype(float)])  # k → R^-T k (conventional)
    conv = np.array([[float(x) for x in row] for row in mesh.p_to_conv])
    to_cart = mesh.k_to_cart @ np.linalg.inv(conv)
    cell = field.characters.cell
    groups: Counter = Counter()
    forced_in: Counter = Counter()
    dist_sum: Counter = Counter()
    meta: dict = {}
    change: dict = {}
    total_forced = 0
    kk, bb = np.nonzero((proj > JUMP_THRESHOLD) & half[None, :])
    div = np.array(mesh.divisions)
    for k, b in zip(kk, bb):
        k2 = table[k, b]
        common = mesh.cogroup_mask[:, k] & mesh.cogroup_mask[:, k2]
        diff = np.abs(lam[k] - lam[k2])[common]
        forced = bool(np.any(diff > 1e-6))
        mid_p = [Fraction(int(2 * j + s), int(2 * n)) for j, s, n in zip(mesh.indices[k], steps[b], div)]
        mid_c = tuple(sum((mesh.p_to_conv[i][a] * mid_p[a] for a in range(3)), Fraction(0)) for i in range(3))
        cog = g.little_cogroup(mid_c)  # type: ignore[arg-type]
        rc = np.array([to_cart @ k_rot[i] @ np.linalg.inv(to_cart) for i in cog])
        dim, basis = _fixed_space(rc)
        element = {0: "point", 1: "line", 2: "plane", 3: "general position"}[dim]
        if dim == 1:
            vecd = basis[:, 0]
        elif dim == 2:
            vecd = np.cross(basis[:, 0], basis[:, 1])
        else:
            vecd = np.zeros(3)
        vecd = vecd / (np.linalg.norm(vecd) or 1.0)
        vecd = np.abs(vecd)  # one representative direction of the family (sign conventions aside)
        key = (element, len(cog), tuple(sorted((str(cell[k]), str(cell[k2])))), tuple(np.round(np.sort(vecd)[::-1], 3)))
        groups[key] += 1
        forced_in[key] += int(forced)
        dist_sum[key] += float(proj[k, b])
        meta.setdefault(key, tuple(float(x) for x in np.round(vecd, 4)))
        if forced and key not in change:
            h = int(np.nonzero(common)[0][int(np.argmax(diff))])
            change[key] = f"{g.operations[h]}: λ = {_short(lam[k][h])} → {_short(lam[k2][h])}"
        total_forced += int(forced)
    out = tuple(
        JumpGroup(key[0], key[1], meta[key], key[2], cnt, forced_in[key], dist_sum[key] / cnt, change.get(key, ""))  # type: ignore[arg-type]
        for key, cnt in sorted(groups.items(), key=lambda kv: -kv[1])
    )
    n_bonds = int(half.sum()) * mesh.size
    phase_only = int(np.sum(((plain > JUMP_THRESHOLD) & (proj <= JUMP_THRESHOLD))[:, half]))
    axis_j = int(np.sum((axis > 1.0)[:, half]))  # NaN (R2 bonds) compares False
    r2b = int(np.sum((~field.defined[:, None] | ~field.defined[table])[:, half]))
    return JumpReport(n_bonds, len(kk), total_forced, phase_only, axis_j, out, r2b)
