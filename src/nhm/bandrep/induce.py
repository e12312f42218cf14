"""Band representations induced from a site of any Wyckoff position.

For h in G_k, the Wyckoff orbit {q_alpha} (q_alpha = g_alpha q_1 exactly) and a site representation
rho of G_{q_1}, in the physics convention (science.md §2):

    chi^k(h) = sum_alpha [h q_alpha - q_alpha = t_alpha in L] exp(-2 pi i k.t_alpha)
               chi_rho(g_alpha^-1 {E|-t_alpha} h g_alpha)

Everything except k and rho (which alpha are fixed by h, t_alpha, the site element and the sign of its
SU(2) lift) is computed once per site with exact integer arithmetic; each k and rho is then a numpy
contraction, and all maximal k-vectors at once one contraction (:meth:`Induction.symmetry_characters`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property
from math import lcm

import numpy as np

from nhm.bandrep.basis import SymmetryBasis
from nhm.errors import GroupTheoryError
from nhm.groups.irreps import LittleGroup, little_group
from nhm.groups.seitz import Vec3
from nhm.groups.site import SiteGroup, SiteIrrep, orbit, site_group
from nhm.groups.spacegroup import DENOMINATOR, SpaceGroup, as_space_group


@dataclass(frozen=True, eq=False)
class Induction:
    """The k- and rho-independent part of inducing from the site ``point``."""

    space_group: SpaceGroup
    point: Vec3
    site: SiteGroup
    orbit: tuple[Vec3, ...]  # one representative per orbit point in the primitive cell
    fixed: np.ndarray  # (n_alpha, n_ops) bool: h q_alpha = q_alpha + lattice vector
    shift: np.ndarray  # (n_alpha, n_ops, 3) that lattice vector t_alpha (floats, exact values)
    site_element: np.ndarray  # (n_alpha, n_ops) index into site.operations
    sign: np.ndarray  # (n_alpha, n_ops) lift sign of the site element

    def characters(self, lg: LittleGroup, site_characters: np.ndarray) -> np.ndarray:
        """Characters of the induced representation on ``lg.indices`` (physics convention).

        ``site_characters`` may be one character vector or a stack of them (one row per site rep).
        """
        idx = list(lg.indices)
        kf = np.array([float(x) for x in lg.k])
        phase = np.where(self.fixed[:, idx], np.exp(-2j * np.pi * (self.shift[:, idx] @ kf)), 0)
        if lg.double:
            phase = phase * self.sign[:, idx]
        vals = np.asarray(site_characters)[..., self.site_element[:, idx]]
        return np.sum(vals * phase, axis=-2)

    def symmetry_characters(self, basis: SymmetryBasis, site_characters: np.ndarray) -> np.ndarray:
        """Characters of the induced representation on all columns of ``basis`` (every maximal k at once).

        ``site_characters``: one character vector or a stack of them; ``basis.multiplicities`` of the
        result is the symmetry vector.
        """
        ops = basis.operations
        phase = np.where(self.fixed[:, ops], np.exp(-2j * np.pi * np.einsum("ahx,hx->ah", self.shift[:, ops], basis.kvectors)), 0)
        if basis.double:
            phase = phase * self.sign[:, ops]
        vals = np.asarray(site_characters)[..., self.site_element[:, ops]]
        return np.sum(vals * phase, axis=-2)


def induction(group: SpaceGroup | int, point: Vec3) -> Induction:
    """What inducing from the site ``point`` (exact, conventional) of ``group`` needs, cached per group and point."""
    return _induction(as_space_group(group), point)


@cache
def _induction(g: SpaceGroup, point: Vec3) -> Induction:
    site = site_group(g, point)
    points, gops = orbit(g, point)
    n_alpha, n_ops = len(points), g.order
    if n_alpha * site.order != n_ops:
        raise GroupTheoryError(f"orbit of {point} in SG {g.number}: {n_alpha} points x {site.order} != {n_ops}")
    den = lcm(DENOMINATOR, *(x.denominator for p in points for x in p))
    q = np.array([[int(x * den) for x in p] for p in points], dtype=np.int64)
    diff = np.einsum("hij,aj->ahi", g.rotations, q) + g.translations_int[None] * (den // DENOMINATOR) - q[:, None, :]
    fixed = g.lattice_mask(diff, den)
    shift = diff / den

    # for each fixed (alpha, h): the site element g_alpha^-1 {E|-t_alpha} h g_alpha, told by its rotation,
    # and the sign of its lift against the site group's canonical lift
    alpha = g.rotation_indices(np.array([op.rotation for op in gops]))  # g_alpha among the coset representatives
    ra, ra_inv = g.rotations[alpha], g.rotations[g.inverse_index[alpha]]
    fa, fh = np.nonzero(fixed)
    in_site = np.full(g.order, -1)
    in_site[list(site.coset_indices)] = np.arange(site.order)
    n = in_site[g.rotation_indices(np.einsum("pij,pjk,pkl->pil", ra_inv[fa], g.rotations[fh], ra[fa]))]
    if (n < 0).any():
        raise GroupTheoryError(f"orbit of {point} in SG {g.number}: a conjugated element is not in the site group")
    ua = g.lifts[alpha]
    elem_u = np.einsum("pji,pjk,pkl->pil", ua[fa].conj(), g.lifts[fh], ua[fa])
    site_u = np.array([op.su2 for op in site.operations])
    s = np.einsum("pij,pij->p", elem_u, site_u[n].conj()).real / 2  # tr(U V^+) / 2 = ±1
    site_elem = np.zeros((n_alpha, n_ops), dtype=int)
    sign = np.ones((n_alpha, n_ops), dtype=int)
    site_elem[fa, fh] = n
    sign[fa, fh] = np.where(s > 0, 1, -1)
    return Induction(g, point, site, points, fixed, shift, site_elem, sign)


@dataclass(frozen=True)
class BandRepresentation:
    """A band representation rho↑G with its decomposition at the maximal k-vectors.

    ``multiplicities[k_name][label]`` counts irreps (or co-reps with time reversal) in BCS labels.
    """

    space_group: int
    wyckoff: str  # "2a", or the site coordinates when not a tabulated representative
    site_symmetry: str
    site_irrep: str
    dimension: int  # number of bands = dim(rho) x orbit points in the primitive cell
    double: bool
    time_reversal: bool
    multiplicities: dict[str, dict[str, int]] = field(compare=False)
    characters: dict[str, np.ndarray] = field(compare=False, repr=False)

    @cached_property
    def irreps_text(self) -> str:
        parts = []
        for k, mult in self.multiplicities.items():
            for label, m in mult.items():
                parts.append(f"{m}{label}" if m > 1 else label)
        return " ".join(parts)


def induce(
    group: SpaceGroup | int,
    point: Vec3,
    site_irrep: SiteIrrep,
    kpoints: tuple[str, ...],
    *,
    double: bool,
    time_reversal: bool,
    wyckoff: str = "",
    site_symmetry: str = "",
) -> BandRepresentation:
    """Induce ``site_irrep`` of the site group of ``point`` and decompose at the named k-vectors."""
    g = as_space_group(group)
    ind = _induction(g, point)
    mult: dict[str, dict[str, int]] = {}
    chars: dict[str, np.ndarray] = {}
    for name in kpoints:
        lg = little_group(g, name, double=double)
        chi = ind.characters(lg, site_irrep.characters)
        m = lg.decompose(chi, time_reversal=time_reversal)
        basis = lg.coreps if time_reversal else lg.irreps
        mult[name] = {r.label: int(x) for r, x in zip(basis, m) if x}
        chars[name] = chi
    return BandRepresentation(
        g.number,
        wyckoff or ",".join(str(x) for x in point),
        site_symmetry,
        site_irrep.name,
        site_irrep.dimension * len(ind.orbit),
        double,
        time_reversal,
        mult,
        chars,
    )
