"""Elementary band representations (EBRs) of the 230 space groups.

Candidates are the band representations induced from every (co-)irrep of the site groups of the
maximal Wyckoff positions. A few of them are composite (Bilbao omits them; science.md §2.5). Two band
representations are equivalent when the Wannier functions can be deformed into one another, which is
stronger than equal characters: C222 4k (spinful, with time reversal) has exactly the characters of
2x(2d) at every k, yet it is elementary. So compositeness is decided in real space, with the criterion
of Cano et al. (PRB 97, 035139 (2018)): rho at the maximal point q_a is composite iff
  - rho = Ind_H^{G_qa} sigma, where H is the stabilizer of a line or plane through q_a (a non-maximal
    position q_0 whose closure contains q_a), and
  - on that line or plane lies another maximal point q_b where Ind_H^{G_qb} sigma is reducible:
    the Wannier functions slide from q_a to q_b and split there.
``full_zone_characters`` (characters on every element at every k) remains as a necessary check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cache
from itertools import product

import numpy as np

from nhm.bandrep.basis import symmetry_basis
from nhm.bandrep.induce import BandRepresentation, induction
from nhm.bandrep.smith import smith_normal_form
from nhm.groups.exact import inverse, nullspace
from nhm.groups.irreps import little_group
from nhm.groups.site import SiteGroup, SiteIrrep, site_group
from nhm.groups.spacegroup import SpaceGroup, as_space_group
from nhm.groups.wyckoff import WyckoffPosition

# Generic values of the free coordinates on a component of Fix(h): irrational-looking, far from
# every rational with a small denominator, so that no two distinct exponential sums coincide.
_SAMPLES = (np.array([0.1234567, 0.3141593, 0.2718282]), np.array([0.4142136, 0.1732051, 0.0915633]))


@cache
def fixed_kvectors(g: SpaceGroup) -> tuple[tuple[int, np.ndarray], ...]:
    """Sample k-vectors (conventional reciprocal basis) on every component of every Fix(h).

    Returns pairs ``(h, k)``: h is a coset-representative index and h k = k (mod the reciprocal lattice).
    """
    p = np.array(g.primitive_transform, dtype=object)
    p_inv = np.array(inverse([[Fraction(x) for x in row] for row in p]), dtype=object)
    out: list[tuple[int, np.ndarray]] = []
    for h, op in enumerate(g.operations):
        r_c = np.array(op.rotation, dtype=object)
        r_p = p_inv.dot(r_c).dot(p)  # direct rotation in the primitive basis (integer)
        a = np.array([[int(x) for x in row] for row in (r_p.T - np.eye(3, dtype=int))], dtype=object)
        _, d, v = smith_normal_form(a)  # u a v = d; with k_p = v y:  a k_p in Z^3  <=>  d y in Z^3
        diag = [int(d[i, i]) for i in range(3)]
        ranges = [range(di) if di else range(1) for di in diag]
        for fixed in product(*ranges):
            for sample in _SAMPLES:
                y = np.array(
                    [Fraction(fixed[i], diag[i]) if diag[i] else sample[i] for i in range(3)], dtype=object
                )
                k_p = v.dot(y)
                k_c = np.array(_solve_pt(p, k_p), dtype=float)  # k_p = P^T k_c
                out.append((h, k_c))
    return tuple(out)


def _solve_pt(p, k_p):
    """k_c with k_p = P^T k_c."""
    pt_inv = inverse([[Fraction(p[j][i]) for j in range(3)] for i in range(3)])
    return [sum(float(pt_inv[i][j]) * float(k_p[j]) for j in range(3)) for i in range(3)]


def full_zone_characters(group: SpaceGroup | int, point, site_irrep: SiteIrrep, double: bool) -> np.ndarray:
    """Characters of rho↑G on every (h, k) of :func:`fixed_kvectors` (physics convention)."""
    g = as_space_group(group)
    ind = induction(g, point)
    pairs = fixed_kvectors(g)
    hs = np.array([h for h, _ in pairs])
    ks = np.array([k for _, k in pairs])
    phase = np.exp(-2j * np.pi * np.einsum("ahx,hx->ah", ind.shift[:, hs], ks))
    vals = site_irrep.characters[ind.site_element[:, hs]]
    if double:
        vals = vals * ind.sign[:, hs]
    return np.sum(np.where(ind.fixed[:, hs], phase * vals, 0), axis=0)


def _subgroups(prod: np.ndarray) -> list[frozenset[int]]:
    """All subgroups of a finite group given by its multiplication table (joins of cyclic subgroups; the identity
    at index 0)."""
    n = prod.shape[0]

    def closure(gens) -> frozenset[int]:
        # the products of the set with itself until nothing new appears: a finite group's generated subgroup
        elems = np.zeros(n, dtype=bool)
        elems[0] = True
        elems[list(gens)] = True
        while True:
            idx = np.flatnonzero(elems)
            grown = elems.copy()
            grown[prod[np.ix_(idx, idx)].ravel()] = True
            if grown.sum() == idx.size:
                return frozenset(idx.tolist())
            elems = grown

    cyclic = {closure({i}) for i in range(n)}
    subgroups = set(cyclic)
    frontier = list(subgroups)
    while frontier:
        h = frontier.pop()
        for c in cyclic:
            if c <= h:
                continue
            j = closure(h | c)
            if j not in subgroups:
                subgroups.add(j)
                frontier.append(j)
    return sorted(subgroups, key=len)


_GENERIC = (Fraction(13, 97), Fraction(29, 101), Fraction(41, 103))


@cache
def _site(g: SpaceGroup, point: tuple) -> SiteGroup:
    return site_group(g, point)


@cache
def _maximal_points_near_the_cell(g: SpaceGroup) -> tuple[list[tuple], list[WyckoffPosition], np.ndarray]:
    """The points of every maximal Wyckoff position in the cell and its neighbours (exact, their positions, floats)."""
    candidates, owners = [], []
    for w in g.maximal_positions:
        for p in w.orbit():
            for c in g.centering:
                for shift in product((-1, 0, 1), repeat=3):
                    candidates.append(tuple(p[i] + c[i] + shift[i] for i in range(3)))
                    owners.append(w)
    return candidates, owners, np.array([[float(x) for x in p] for p in candidates])


@cache
def _sliding_paths(g: SpaceGroup, q_a: tuple) -> tuple:
    """Lines and planes through the maximal point q_a: (H at a generic point, [(G_qb, position of q_b), ...])."""
    site_a = induction(g, q_a).site
    prod, _ = site_a._multiplication
    identity = next(i for i, op in enumerate(site_a.operations) if op.rotation == ((1, 0, 0), (0, 1, 0), (0, 0, 1)))
    if identity != 0:  # the closure helper assumes the identity at index 0
        order = [identity] + [i for i in range(site_a.order) if i != identity]
        inv = {old: new for new, old in enumerate(order)}
        prod = np.array([[inv[int(prod[i, j])] for j in order] for i in order])
        ops_a = [site_a.operations[i] for i in order]
    else:
        ops_a = list(site_a.operations)
    candidates, owners, cand = _maximal_points_near_the_cell(g)
    qa = np.array([float(x) for x in q_a])
    out = []
    for h in _subgroups(prod):
        if len(h) == site_a.order:
            continue
        ops = [ops_a[i] for i in h]
        rows = [[Fraction(op.rotation[r][c2] - (r == c2)) for c2 in range(3)] for op in ops for r in range(3)]
        basis = nullspace(rows)
        if not basis:
            continue
        q0 = tuple(q_a[i] + sum((_GENERIC[j] * basis[j][i] for j in range(len(basis))), Fraction(0)) for i in range(3))
        site_h = _site(g, q0)
        if {op.rotation for op in site_h.operations} != {op.rotation for op in ops}:
            continue  # H fixes the line/plane but a generic point of it has a larger stabilizer
        # other maximal points on q_a + span(basis)
        v = np.array([[float(x) for x in b] for b in basis])
        d = cand - qa
        coef, *_ = np.linalg.lstsq(v.T, d.T, rcond=None)
        on = np.linalg.norm(v.T @ coef - d.T, axis=0) < 1e-9
        # every point of q_a + span(basis) is fixed by H (its rotations fix the span, its translations q_a): checked
        # in floats, exact for the small denominators of maximal positions
        rot = np.array([op.rotation for op in ops], dtype=float)
        tra = np.array([[float(x) for x in op.translation] for op in ops])
        pts = cand[on]
        fixed = np.all(np.abs(np.einsum("mij,kj->mki", rot, pts) + tra[:, None, :] - pts[None]) < 1e-9, axis=(0, 2))
        others = []
        for idx, fixed_here in zip(np.nonzero(on)[0], fixed):
            qb = candidates[idx]
            if qb == q_a or not fixed_here:
                continue
            site_b = _site(g, qb)
            if site_b.order > len(h):
                others.append((site_b, owners[idx]))
        if others:
            out.append((site_h, tuple(others)))
    return tuple(out)


def _reducible(chars: np.ndarray, basis) -> bool:
    """More than one (co-)irrep in a representation with these characters."""
    total = 0.0
    for r in basis:
        total += np.vdot(r.characters, chars).real / np.vdot(r.characters, r.characters).real
    return total > 1 + 1e-6


def _slides(g: SpaceGroup, position: WyckoffPosition, rho: SiteIrrep, double: bool, time_reversal: bool):
    """Where the Wannier functions of rho at ``position`` can slide: yields (position b, chars at q_b, G_qb, reducible)."""
    from nhm.groups.site import induced_site_characters

    site_a = induction(g, position.point()).site
    for site_h, others in _sliding_paths(g, position.point()):
        sigmas = site_h.coreps(double) if time_reversal else site_h.irreps(double)
        for sigma in sigmas:
            up = induced_site_characters(site_h, site_a, sigma.characters, double)
            if np.max(np.abs(up - rho.characters)) > 1e-6:
                continue
            for site_b, w_b in others:
                chars_b = induced_site_characters(site_h, site_b, sigma.characters, double)
                basis = site_b.coreps(double) if time_reversal else site_b.irreps(double)
                yield w_b, chars_b, site_b, _reducible(chars_b, basis)


def _vector_key(g: SpaceGroup, point, chars: np.ndarray, double: bool, time_reversal: bool) -> tuple:
    ind = induction(g, point)
    key = []
    for k in g.kpoint_names(double, time_reversal):
        lg = little_group(g, k, double=double)
        key.extend(int(x) for x in lg.decompose(ind.characters(lg, chars), time_reversal=time_reversal))
    return tuple(key)


def composite_flags(g: SpaceGroup, nodes: list[tuple[WyckoffPosition, SiteIrrep]], double: bool, time_reversal: bool) -> list[bool]:
    """Which (maximal position, site irrep) BRs are composite (Cano et al.'s criterion, closed under sliding).

    A BR is composite if its Wannier functions can slide to a maximal point where they split, or can
    slide (irreducibly) to another maximal position whose BR is composite: equivalence is transitive.
    """
    parent = list(range(len(nodes)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    keys = {
        (w.label, _vector_key(g, w.point(), rho.characters, double, time_reversal)): i
        for i, (w, rho) in enumerate(nodes)
    }
    direct = [False] * len(nodes)
    for i, (w, rho) in enumerate(nodes):
        for w_b, chars_b, site_b, reducible in _slides(g, w, rho, double, time_reversal):
            if reducible:
                direct[i] = True
                break
            j = keys.get((w_b.label, _vector_key(g, site_b.point, chars_b, double, time_reversal)))
            if j is not None:
                parent[find(i)] = find(j)
    bad = {find(i) for i in range(len(nodes)) if direct[i]}
    return [find(i) in bad for i in range(len(nodes))]


@dataclass(frozen=True)
class EbrSet:
    space_group: int
    double: bool
    time_reversal: bool
    kpoints: tuple[str, ...]
    band_representations: tuple[BandRepresentation, ...]  # the elementary ones
    composite: tuple[BandRepresentation, ...]  # BRs from maximal positions that are not elementary


def site_representations(position: WyckoffPosition, double: bool, time_reversal: bool) -> tuple[SiteIrrep, ...]:
    """The site irreps (co-reps with time reversal) of a Wyckoff position, in their fixed order."""
    return _site_representations(as_space_group(position.space_group), position, double, time_reversal)


def _site_representations(g: SpaceGroup, position: WyckoffPosition, double: bool, time_reversal: bool) -> tuple[SiteIrrep, ...]:
    site = induction(g, position.point()).site
    return site.coreps(double) if time_reversal else site.irreps(double)


def bilbao_site_irrep_names(group: SpaceGroup | int, letter: str, double: bool, time_reversal: bool) -> dict[str, str]:
    """Bilbao's (Mulliken) names of our site irreps at a maximal position, e.g. ``{"-rho1": "-E1g"}``.

    A name is known where the site irrep induces an EBR that Bilbao lists (matched by its symmetry
    vector at the same Wyckoff position); composite ones and non-maximal positions keep ``rhoN``.
    """
    return _bilbao_site_irrep_names(as_space_group(group), letter, double, time_reversal)


@cache
def _bilbao_site_irrep_names(g: SpaceGroup, letter: str, double: bool, time_reversal: bool) -> dict[str, str]:
    w = g.wyckoff_position(letter)
    if not w.maximal:
        return {}
    brs = _band_representations(g, double, time_reversal, (w,), named=False)
    reps = _site_representations(g, w, double, time_reversal)
    return {rho.name: n for rho, br in zip(reps, brs) if (n := _bilbao_name(g, br)) is not None}


def _bilbao_name(g: SpaceGroup, br: BandRepresentation) -> str | None:
    """Bilbao's site-irrep name of a BR, if Bilbao lists an EBR with this symmetry vector at this position."""
    index, names = _bilbao_ebrs(g, br.double, br.time_reversal)
    v = [0] * len(index)
    for labels in br.multiplicities.values():
        for lbl, m in labels.items():
            if lbl in index:
                v[index[lbl]] += m
    return names.get((br.wyckoff, tuple(v)))


@cache
def _bilbao_ebrs(g: SpaceGroup, double: bool, time_reversal: bool) -> tuple[dict[str, int], dict[tuple, str]]:
    """Bilbao's EBR table of one setting as ``(position of each label, {(position, vector): site-irrep name})``
    (the first EBR Bilbao lists wins)."""
    ref = g.bcs_ebrs(double, time_reversal)
    names: dict[tuple, str] = {}
    for e in ref.ebrs:
        names.setdefault((e.wyckoff, e.vector), e.name.split("↑")[0])
    return {lbl: i for i, lbl in enumerate(ref.labels)}, names


def site_irrep_label(group: SpaceGroup | int, letter: str, rho_name: str, double: bool, time_reversal: bool) -> str:
    """``"A1g"`` where Bilbao names it, else our ``"rhoN"``."""
    return bilbao_site_irrep_names(group, letter, double, time_reversal).get(rho_name, rho_name)


def band_representations(
    group: SpaceGroup | int,
    *,
    double: bool = False,
    time_reversal: bool = False,
    positions: tuple[WyckoffPosition, ...] | None = None,
    named: bool = True,
) -> tuple[BandRepresentation, ...]:
    """Band representations from every site (co-)irrep of the given positions (default: maximal ones).

    ``site_irrep`` carries Bilbao's name where one is known (``named``), else ``rhoN``.
    """
    g = as_space_group(group)
    return _band_representations(g, double, time_reversal, g.maximal_positions if positions is None else positions, named)


def _band_representations(
    g: SpaceGroup, double: bool, time_reversal: bool, positions: tuple[WyckoffPosition, ...], named: bool
) -> tuple[BandRepresentation, ...]:
    basis = symmetry_basis(g, double, time_reversal)
    out = []
    for w in positions:
        reps = _site_representations(g, w, double, time_reversal)
        ind = induction(g, w.point())
        chi = ind.symmetry_characters(basis, np.array([rho.characters for rho in reps]))
        vectors = basis.multiplicities(chi)
        for i, rho in enumerate(reps):
            name = rho.name
            if w.maximal and named:
                name = _bilbao_site_irrep_names(g, w.letter, double, time_reversal).get(rho.name, rho.name)
            out.append(
                BandRepresentation(
                    g.number, w.label, w.site_symmetry, name, rho.dimension * len(ind.orbit), double, time_reversal,
                    basis.as_dict(vectors[i]), {k: chi[i, c] for k, c in zip(basis.kpoints, basis.columns)},
                )
            )
    return tuple(out)


@cache
def _composite_table() -> dict[tuple[int, bool, bool], set[tuple[str, str]]]:
    """The shipped table of composite BRs from maximal positions (scripts/make_composite_table.py)."""
    from importlib import resources

    raw = json.loads(resources.files("nhm").joinpath("data/composite_brs.json").read_text())
    table: dict[tuple[int, bool, bool], set[tuple[str, str]]] = {}
    for entry in raw["composite"]:
        key = (entry["space_group"], entry["double"], entry["time_reversal"])
        table.setdefault(key, set()).add((entry["wyckoff"], entry["irreps"]))
    return table


def elementary_band_representations(
    group: SpaceGroup | int, *, double: bool = False, time_reversal: bool = False, derive: bool = False
) -> EbrSet:
    """The EBRs of ``group`` (a :class:`SpaceGroup` or its number; BCS setting, BCS labels).

    Composite BRs are taken from the shipped table, which ``scripts/make_composite_table.py``
    generates with :func:`composite_flags`; ``derive=True`` applies that criterion here instead.
    """
    return _elementary_band_representations(as_space_group(group), double, time_reversal, derive)


@cache
def _elementary_band_representations(g: SpaceGroup, double: bool, time_reversal: bool, derive: bool) -> EbrSet:
    maximal = g.maximal_positions
    brs = _band_representations(g, double, time_reversal, maximal, named=False)
    if derive:
        nodes = [(w, rho) for w in maximal for rho in _site_representations(g, w, double, time_reversal)]
        flags = composite_flags(g, nodes, double, time_reversal)
    else:
        known = _composite_table().get((g.number, double, time_reversal), set())
        flags = [bool(known) and (br.wyckoff, br.irreps_text) in known for br in brs]
    elementary = [br for br, f in zip(brs, flags) if not f]
    composite = [br for br, f in zip(brs, flags) if f]

    def named(br: BandRepresentation) -> BandRepresentation:
        return replace(br, site_irrep=_bilbao_name(g, br) or br.site_irrep)

    return EbrSet(
        g.number, double, time_reversal, g.kpoint_names(double, time_reversal),
        tuple(named(b) for b in elementary), tuple(composite),
    )


def band_representation(
    group: SpaceGroup | int, wyckoff: str, site_irrep: str, *, double: bool = False, time_reversal: bool = False
) -> BandRepresentation:
    """The band representation induced from a named site irrep (Bilbao's ``"A1g"`` or our ``"rho1"``)."""
    from nhm.errors import InputError

    g = as_space_group(group)
    w = g.wyckoff_position(wyckoff)
    reps = _site_representations(g, w, double, time_reversal)
    brs = _band_representations(g, double, time_reversal, (w,), named=True)
    for rho, br in zip(reps, brs):
        if site_irrep in (rho.name, br.site_irrep):
            return br
    names = ", ".join(br.site_irrep for br in brs)
    raise InputError(f"site {w.label} of space group {g.number} has no site irrep {site_irrep!r} (it has {names})")
