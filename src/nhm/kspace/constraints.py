"""Symmetry constraints on the Bloch-spinor matrices F(k) = f(k)ᵀ (science.md §4, verified and generalised).

Derivation (one atom per primitive cell at q, one band, physics convention P(g)f(x) = f(g⁻¹x); k in the
conventional reciprocal basis, phases 2πi k·x). Let a = {α|t} act on the spatial band as
P(a)φ_k = c_a(k) φ_{αk}, on spin by its BCS lift S(α), and let a q = q + R_a (R_a a lattice vector).
The spin-dependent WFs w_m(x − R) = N^{-1/2} Σ_k e^{−2πik·R} φ_{k,m}, φ_{k,m} = Σ_s F_sm(k) u_s φ_k,
are symmetry-adapted with the double-valued site representation ρ iff P(a) w_m(x) = Σ_m' ρ(a)_{m'm}
w_m'(x − R_a), which is equivalent to

    c_a(k) S(α) F(k) = e^{−2πi (αk)·R_a} F(αk) ρ(a).                                  (1)

science.md §4 omits the factor e^{−2πi(αk)·R_a}; it is 1 for the atom at the origin of a symmorphic
group (bcc, fcc, P3 at 1a), so nothing there changes. With ρ = s ⊗ D½ (s a one-dimensional
single-valued site irrep; every two-dimensional double site representation of the groups used here
is of this form, and others are refused) (1) reads

    F(αk) = λ_a(k) S(α) F(k) S(α)†,     λ_a(k) = c_a(k) e^{2πi (αk)·R_a} / s(a).          (2)

For a in the little co-group G_k (αk ≡ k), c_a(k) is the band's character χ^k(a) and λ_a(k) =
χ^k(a)/χ_ind,s^k(a) with χ_ind,s^k(a) = s(a) e^{−2πik·R_a} the character of the usual band induced from
s. λ is a one-dimensional character of G_k (checked numerically) — ±1 at time-reversal-invariant k,
possibly complex elsewhere (e.g. at K of a hexagonal group), not "±1" in general as science.md says.
F(k) commutes with S(α) where λ = +1 and anticommutes where λ = −1. For a ∉ G_k, c_a(k) is a gauge
choice of the spatial Bloch functions; nhm takes λ_b(k) = λ^Γ(b), the values at Γ, for the coset
representative b chosen for each star member (``KMesh.star_op``). In all 16 bcc one-band types
λ^Γ ≡ 1, which is science.md's gauge "λ = 1 for αk ≠ k"; the general choice makes a constant F exactly
the usual case in every group. Consistency across different a mapping k to the same αk then follows
from the constraints at k, because λ is multiplicative (checked numerically as a residual).

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

The model band (a "Voronoi assembly"). A band type given by one irrep per point of symmetry, e.g.
bcc (GM1+, H1+, P1, N2+), does not say which character the band has on the lines and planes of
symmetry. nhm takes, at every mesh k with a nontrivial little co-group, the subduction of the irrep at
the NEAREST point of symmetry K′ (Cartesian distance; over all star members and lattice translates of
all points of symmetry whose little co-group contains G_k; ties go to the larger little co-group, then
to the order of Bilbao's list): c_h(k) = χ^{K′}(h) e^{2πi(K′−k)·t_h} (continuity of e^{2πik·t_h} χ^k(h)
along a line). Where the subductions from two points differ on a line or plane, the model band
switches branch there, and F(k) is forced to jump (commuting and anticommuting F are disjoint sets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Callable

import numpy as np

from nhm.bands.symmetry import BandSymmetry
from nhm.errors import GroupTheoryError, InputError
from nhm.groups.irreps import little_group
from nhm.groups.kpoints import points_of_symmetry
from nhm.groups.seitz import Vec3, vec_sub
from nhm.groups.site import orbit, site_group
from nhm.groups.spacegroup import SpaceGroup, space_group
from nhm.groups.wyckoff import WyckoffPosition, wyckoff_position
from nhm.kspace.mesh import KMesh
from nhm.kspace.spin import SIGMA_Y

NULL_TOL = 1e-9  # singular values below this span a constraint space
LAMBDA_TOL = 1e-8


# ----------------------------------------------------------------------------- the site representation


@dataclass(frozen=True, eq=False)
class SpinSiteRepresentation:
    """ρ = s ⊗ D½ on a Wyckoff position with one atom per primitive cell.

    ``s``: the one-dimensional single-valued site irrep on the coset representatives (index order of
    ``space_group(n).operations``); ``shift[a]`` = R_a = a q − q (conventional, exact values as floats).
    """

    space_group: int
    wyckoff: str
    point: Vec3
    label: str  # as given / as the classifier names it, e.g. "-E1g@2a"
    single_label: str  # the name of s, e.g. "A1g"
    s: np.ndarray
    shift: np.ndarray


def _site_names(number: int, letter: str, double: bool) -> dict[str, str]:
    """Our rhoN name -> Bilbao's name where known (maximal positions)."""
    from nhm.bandrep.ebr import bilbao_site_irrep_names

    try:
        return dict(bilbao_site_irrep_names(number, letter, double, False))
    except Exception:  # noqa: BLE001 - non-maximal positions or missing tables: keep rhoN
        return {}


def spin_site_representation(space_group_number: int, wyckoff: WyckoffPosition | str, name: str) -> SpinSiteRepresentation:
    """Resolve a site-representation name for spin-dependent WFs to ρ = s ⊗ D½.

    ``name`` may be a double-valued name as the classifier prints it (``"-E1g@2a"``, ``"-1E+-2E@1a"``,
    ``"-rho1"``) or a one-dimensional single-valued site irrep (``"A1g"``, ``"rho1"``), which then is s.
    Raises InputError if the position has more than one atom per primitive cell, if the name is
    unknown, or if ρ is not s ⊗ D½ for a one-dimensional s.
    """
    g = space_group(space_group_number)
    w = wyckoff_position(g.number, wyckoff) if isinstance(wyckoff, str) else wyckoff
    q = w.point()
    pts, _ = orbit(g, q)
    if len(pts) != 1:
        raise InputError(
            f"k-space magnetism is built for one atom per primitive cell (seed §4.1); Wyckoff position "
            f"{w.label} of space group {g.number} has {len(pts)}"
        )
    site, s_site, single_label, label = one_dim_site_irrep(g, w, name)
    if sorted(site.coset_indices) != list(range(g.order)):
        raise GroupTheoryError("site group of a one-atom orbit must contain every rotation")
    pos = {i: n for n, i in enumerate(site.coset_indices)}
    order = [pos[i] for i in range(g.order)]
    shift = np.array([[float(x) for x in vec_sub(op.apply(q), q)] for op in g.operations])
    return SpinSiteRepresentation(g.number, w.label, q, label, single_label, s_site[order], shift)


def one_dim_site_irrep(g: SpaceGroup, w: WyckoffPosition, name: str):
    """``(site group, s, single_label, label)``: the real one-dimensional single-valued site irrep s (its
    values on ``site.operations``) with ρ = s ⊗ D½ for the site representation ``name`` of the spin-dependent
    WFs on ``w`` (a double-valued name as the classifier prints it, or s itself). InputError otherwise."""
    q = w.point()
    site = site_group(g, q)
    single = site.irreps(False)
    double = site.irreps(True)
    names1 = _site_names(g.number, w.letter, False)
    names2 = _site_names(g.number, w.letter, True)
    text = name.split("@")[0].strip()
    tr_s = np.array([np.trace(op.su2) for op in site.operations])

    def lookup(nm: str, reps, names) -> np.ndarray | None:
        for r in reps:
            if nm in (r.name, names.get(r.name)):
                return r.characters
        return None

    parts = [p for p in text.replace("⊕", "+").split("+") if p]
    chi_rho = None
    if parts and all(p.startswith("-") for p in parts):
        found = [lookup(p, double, names2) for p in parts]
        if all(f is not None for f in found):
            chi_rho = sum(found)  # type: ignore[arg-type]
    elif len(parts) == 1:
        chi_s = lookup(parts[0], single, names1)
        if chi_s is not None:
            if abs(chi_s[0] - 1) > 1e-9:
                raise InputError(f"site irrep {parts[0]} of {w.label} is {round(chi_s[0].real)}-dimensional; s must be one-dimensional")
            chi_rho = chi_s * tr_s
    if chi_rho is None:
        known = [names2.get(r.name, r.name) for r in double] + [names1.get(r.name, r.name) for r in single]
        raise InputError(f"{name!r} is not a site representation of {w.label} in space group {g.number} (known: {', '.join(known)})")
    if abs(chi_rho[0] - 2) > 1e-9:
        raise InputError(f"spin-dependent WFs need a two-dimensional double-valued site representation; {name!r} has dimension {chi_rho[0].real:g}")
    matches = [r for r in single if abs(r.characters[0] - 1) < 1e-9 and np.allclose(r.characters * tr_s, chi_rho, atol=1e-6)]
    if not matches:
        raise InputError(
            f"{name!r} is not of the form s ⊗ D½ with a one-dimensional site irrep s; nhm's k-space "
            "construction needs that form (science.md §4)"
        )
    matches.sort(key=lambda r: np.max(np.abs(r.characters.imag)))  # a real s if there is one
    s = matches[0]
    if np.max(np.abs(s.characters.imag)) > 1e-9:
        raise InputError(f"{name!r} needs a complex s; time reversal then pairs it, not supported")
    label = name if "@" in name else f"{name}@{w.label}"
    return site, s.characters.astype(complex), names1.get(s.name, s.name), label


# ----------------------------------------------------------------------------- the band's characters λ


@dataclass(frozen=True, eq=False)
class BandCharacters:
    """λ_h(k) (eq. 2) on the little co-group of every star representative with a nontrivial one.

    ``lam[m]`` is aligned with ``ops[m]`` (coset-representative indices h ∈ G_k, identity included);
    ``lam_gamma`` is λ^Γ on all coset representatives (the gauge for αk ≠ k); ``cell[m]`` the name of
    the point of symmetry whose Voronoi cell contains mesh point m (model bands; "" otherwise);
    ``source[m]`` where the character at representative m came from; ``r2_points[m]`` the
    :class:`nhm.kspace.embedding.R2Point` of representative m where the band's level is multi-dimensional
    (reading R2: no F(k) and no λ there; only :func:`tight_binding_characters` with ``reading="R2"``
    fills it); ``r2_spinors`` the band's fixed Bloch spinors at every mesh point of those stars
    (:class:`nhm.kspace.embedding.R2Spinors`), which the F(k) construction needs for such a band.
    """

    mesh: KMesh
    site: SpinSiteRepresentation
    band_text: str
    ops: dict[int, np.ndarray]
    lam: dict[int, np.ndarray]
    lam_gamma: np.ndarray
    cell: np.ndarray
    source: dict[int, str] = field(default_factory=dict)
    character_residual: float = 0.0  # how far λ is from a character of G_k (max over k)
    r2_points: dict = field(default_factory=dict)  # representative -> R2Point (reading R2), see above
    r2_spinors: object | None = None  # nhm.kspace.embedding.R2Spinors (reading R2), see above

    @cached_property
    def sign_pairs(self) -> dict[tuple[int, complex], int]:
        """Distinct (operation, λ) pairs over the whole mesh (every star member, conjugated ops)."""
        return _all_pairs(self)


def _all_pairs(bc: BandCharacters) -> dict[tuple[int, complex], int]:
    g = bc.mesh.group
    table, _, _ = g.multiplication
    inv = g.inverse_index
    out: dict[tuple[int, complex], int] = {}
    for m, hs in bc.ops.items():
        for b in range(g.order):
            conj = table[b, table[hs, inv[b]]]
            for h2, lam in zip(conj, bc.lam[m]):
                key = (int(h2), complex(np.round(lam, 9)))
                out[key] = out.get(key, 0) + 1
    return out


def _cogroup_ops(mesh: KMesh, m: int) -> np.ndarray:
    return np.nonzero(mesh.cogroup_mask[:, m])[0]


def _check_character(g: SpaceGroup, hs: np.ndarray, lam: np.ndarray) -> float:
    """max |λ(a)λ(b) − λ(ab)| over the little co-group (rotation products)."""
    table, _, _ = g.multiplication
    pos = np.full(g.order, -1)
    pos[hs] = np.arange(len(hs))
    prod = pos[table[np.ix_(hs, hs)]]
    if np.any(prod < 0):
        raise GroupTheoryError("little co-group does not close")
    return float(np.max(np.abs(lam[:, None] * lam[None, :] - lam[prod])))


def band_characters(
    mesh: KMesh,
    site: SpinSiteRepresentation,
    band_text: str,
    spatial_character: Callable[[int, np.ndarray], np.ndarray],
    cell: np.ndarray | None = None,
    source: dict[int, str] | None = None,
    r2_points: dict | None = None,
) -> BandCharacters:
    """λ from the band's spatial characters ``spatial_character(m, hs)`` = c_h(k_m) (physics convention,
    the coset representatives ``hs`` of G_k at mesh point m, k_m as stored: primitive coordinates in [0, 1)).

    Representatives in ``r2_points`` (reading R2) get no λ. If Γ is one of them, λ^Γ (the star gauge) is
    not defined by the band and is set to 1 (a gauge choice, recorded in ``source[0]``)."""
    g = mesh.group
    s = site.s
    r2_points = r2_points or {}
    source = dict(source or {})
    if 0 in r2_points:
        lam_gamma = np.ones(g.order, dtype=complex)
        source[0] = "R2 point: λ^Γ set to 1 (gauge choice)"
    else:
        lam_gamma = spatial_character(0, np.arange(g.order)) / s  # k = 0: no phase
    ops: dict[int, np.ndarray] = {}
    lam: dict[int, np.ndarray] = {}
    worst = _check_character(g, np.arange(g.order), lam_gamma)
    for m in mesh.representatives:
        hs = _cogroup_ops(mesh, int(m))
        if len(hs) == 1 or int(m) in r2_points:
            continue
        kc = np.array([float(x) for x in mesh.k_conventional(int(m))])
        c = spatial_character(int(m), hs)
        val = c * np.exp(2j * np.pi * site.shift[hs] @ kc) / s[hs]
        worst = max(worst, _check_character(g, hs, val), float(np.max(np.abs(np.abs(val) - 1))))
        ops[int(m)] = hs
        lam[int(m)] = val
    if worst > 1e-6:
        raise GroupTheoryError(f"the band's λ is not a character of the little co-groups (residual {worst:.2e})")
    return BandCharacters(
        mesh, site, band_text, ops, lam, lam_gamma,
        cell if cell is not None else np.full(mesh.size, "", dtype=object), source, worst, dict(r2_points),
    )


# ----------------------------------------------------------------------------- the model band (Voronoi assembly)


@dataclass(frozen=True)
class _Candidate:
    name: str
    k: Vec3  # exact conventional coordinates (star member + lattice translate)
    member: int  # coset representative b with K' = b K (+ G)
    mask: int  # little co-group as a bit mask over coset representatives
    order: int
    rank: int  # position of the point in Bilbao's list


def _rinv_t(rot) -> np.ndarray:
    r = np.array(rot, dtype=float)
    return np.rint(np.linalg.inv(r).T).astype(int)


def _candidates(mesh: KMesh) -> tuple[list[_Candidate], np.ndarray]:
    g = mesh.group
    conv_to_p = np.array(mesh.p_to_conv, dtype=object)
    # primitive reciprocal basis vectors in conventional coordinates are the columns of p_to_conv
    trans = np.array(np.meshgrid(*(range(-2, 3),) * 3, indexing="ij")).reshape(3, -1).T
    out: list[_Candidate] = []
    for rank, pt in enumerate(points_of_symmetry(g.number)):
        members: list[tuple[Vec3, int]] = []
        for b, op in enumerate(g.operations):
            r = _rinv_t(op.rotation)
            kb = tuple(sum((int(r[i][j]) * pt.conventional[j] for j in range(3)), Fraction(0)) for i in range(3))
            if any(g.is_reciprocal_lattice_vector(vec_sub(kb, other)) for other, _ in members):
                continue
            members.append((kb, b))  # type: ignore[arg-type]
        for kb, b in members:
            cog = g.little_cogroup(kb)
            mask = sum(1 << int(i) for i in cog)
            for t in trans:
                gvec = tuple(sum((conv_to_p[i][a] * int(t[a]) for a in range(3)), Fraction(0)) for i in range(3))
                kk = tuple(x + y for x, y in zip(kb, gvec))
                out.append(_Candidate(pt.name, kk, b, mask, len(cog), rank))  # type: ignore[arg-type]
    p_to_conv_f = np.array([[float(x) for x in row] for row in mesh.p_to_conv])
    conv_to_cart = mesh.k_to_cart @ np.linalg.inv(p_to_conv_f)
    cart = np.array([[float(x) for x in c.k] for c in out]) @ conv_to_cart.T
    return out, cart


def voronoi_cells(mesh: KMesh) -> np.ndarray:
    """(N,) name of the nearest point of symmetry of every mesh point (its Voronoi cell; ties go to the
    larger little co-group, then to Bilbao's order), for reports."""
    cands, cart = _candidates(mesh)
    orders = np.array([c.order for c in cands])
    ranks = np.array([c.rank for c in cands])
    cell = np.empty(mesh.size, dtype=object)
    for m in mesh.representatives:
        d = np.round(np.linalg.norm(cart - mesh.k_cartesian[int(m)], axis=1), 9)
        cell[mesh.star_rep == m] = cands[int(np.lexsort((ranks, -orders, d))[0])].name
    return cell


def model_band_characters(mesh: KMesh, band: BandSymmetry, site: SpinSiteRepresentation) -> BandCharacters:
    """λ of the model band (Voronoi assembly of the irreps at the points of symmetry; module docstring).

    Raises InputError unless the band has one one-dimensional irrep at every point of symmetry.
    """
    g = mesh.group
    if band.space_group != g.number:
        raise InputError(f"the band is of space group {band.space_group}, the mesh of {g.number}")
    chars: dict[str, tuple[dict[int, complex], np.ndarray]] = {}
    for name, labels in band.irreps.items():
        if len(labels) != 1 or band.dimension(name) != 1:
            raise InputError(
                f"k-space magnetism is built for a single branch (μ = 1, seed §4.1): the band has {'+'.join(labels)} at {name}"
            )
        lg = little_group(g.number, name)
        ir = lg.irrep(labels[0])
        chars[name] = ({int(i): complex(c) for i, c in zip(lg.indices, ir.characters)}, np.array([float(x) for x in lg.k]))
    cands, cart = _candidates(mesh)
    masks = np.array([c.mask for c in cands], dtype=np.int64)
    orders = np.array([c.order for c in cands])
    ranks = np.array([c.rank for c in cands])
    table, _, _ = g.multiplication
    n_ops = g.order
    bits = (1 << np.arange(n_ops)).astype(np.int64)
    cell = voronoi_cells(mesh)
    chosen: dict[int, _Candidate] = {}
    for m in mesh.representatives:
        m = int(m)
        if mesh.cogroup_order[m] == 1:
            continue
        mask_m = int(np.sum(bits[mesh.cogroup_mask[:, m]]))
        d = np.linalg.norm(cart - mesh.k_cartesian[m], axis=1)
        ok = (masks & mask_m) == mask_m
        dd = np.where(ok, np.round(d, 9), np.inf)
        best = int(np.lexsort((ranks, -orders, dd))[0])
        if not np.isfinite(dd[best]):
            raise GroupTheoryError(f"no point of symmetry contains the little co-group of mesh point {m}")
        chosen[m] = cands[best]

    def spatial(m: int, hs: np.ndarray) -> np.ndarray:
        cand = chosen[m]
        chi, k0 = chars[cand.name]
        kprime = np.array([float(x) for x in cand.k])
        kc = np.array([float(x) for x in mesh.k_conventional(m)])
        idx, delta, _ = g.conjugates(cand.member, hs)  # b^-1 h b = {E|Δ} ops[idx]
        d_k = np.array([chi[int(j)] for j in idx]) * np.exp(-2j * np.pi * delta @ k0)
        t = g.translations[hs]
        return d_k * np.exp(2j * np.pi * t @ (kprime - kc))

    source = {m: f"{c.name} at ({', '.join(str(x) for x in c.k)})" for m, c in chosen.items()}
    return band_characters(mesh, site, band.text(), spatial, cell=cell, source=source)


# ----------------------------------------------------------------------------- constraint spaces


def _real_linear(c: np.ndarray) -> np.ndarray:
    """8×8 real matrix of x ↦ C x on C⁴ ≅ R⁸ (x = (Re, Im))."""
    return np.block([[c.real, -c.imag], [c.imag, c.real]])


def _real_antilinear(c: np.ndarray) -> np.ndarray:
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
            "spinors are 2d×2 isometries (nhm.kspace.embedding), not F(k), and the characters do not carry them "
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
            rows.append(_real_linear(lam * _conj_action(lifts[h]) - np.eye(4)))
        if mesh.partner_rep[m] == m:  # −k in the star of k
            mk = int(mesh.minus[m])
            b = int(mesh.star_op[mk])
            rows.append(_real_linear(chars.lam_gamma[b] * _conj_action(lifts[b])) - _real_antilinear(SIGMA_Y_ACTION))
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
    rows = [_real_linear(lam * _conj_action(lifts[h]) - np.eye(4)) for (h, lam) in pairs]
    by_op: dict[int, set] = {}
    for h, lam in pairs:
        by_op.setdefault(h, set()).add(lam)
    conflicting = tuple(sorted(h for h, v in by_op.items() if len(v) > 1))
    # Γ's own constraints (all operations with λ^Γ) also bind a constant field
    rows += [_real_linear(l * _conj_action(lifts[h]) - np.eye(4)) for h, l in enumerate(chars.lam_gamma)]
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


def characters_everywhere(chars: BandCharacters) -> np.ndarray:
    """(N, order) λ_h(k) at every mesh point for h ∈ G_k (0 elsewhere), from the representatives.

    λ is carried along each star as a class function: λ_{b h b⁻¹}(b k) = λ_h(k).
    """
    mesh = chars.mesh
    g = mesh.group
    table, _, _ = g.multiplication
    inv = g.inverse_index
    out = np.zeros((mesh.size, g.order), dtype=complex)
    lam_rep = np.ones((mesh.size, g.order), dtype=complex)
    for m, hs in chars.ops.items():
        lam_rep[m, hs] = chars.lam[m]
    for i in range(g.order):
        pts = np.nonzero(mesh.cogroup_mask[i])[0]
        b = mesh.star_op[pts]
        h = table[inv[b], table[i, b]]  # b⁻¹ i b ∈ G_rep
        out[pts, i] = lam_rep[mesh.star_rep[pts], h]
    return out


# ----------------------------------------------------------------------------- a band of a tight-binding model


def model_band_symmetry(model, band_index: int, allow_degenerate: bool = False) -> BandSymmetry:
    """The irreps of the energy-ordered band ``band_index`` of a tight-binding model at the points of
    symmetry (``model``: :class:`nhm.bands.tightbinding.TightBindingModel`). InputError if the state is
    degenerate there (then the band is not a single branch), unless ``allow_degenerate`` (reading R2:
    the label is then that of the multi-dimensional level the band lies in)."""
    if not 0 <= band_index < model.size:
        raise InputError(f"band index {band_index} out of range (the model has {model.size} bands)")
    irreps: dict[str, tuple[str, ...]] = {}
    for name, levels in model.levels_at_points().items():  # ascending; one degenerate group shares its energy
        lv = [x for x in levels for _ in range(x.dimension)][band_index]
        states = sum(x.dimension for x in levels if x.energy == lv.energy)
        if states > 1 and not allow_degenerate:
            raise InputError(
                f"band {band_index} is degenerate at {name} ({states} states): not a single branch (reading R2: its "
                "spinors there are a 2d×2 isometry, nhm.kspace.embedding.r2_points_on_mesh; tight_binding_characters(..., "
                "reading='R2') builds the F(k) field around them)"
            )
        irreps[name] = (lv.irrep,)
    return BandSymmetry(model.space_group, irreps)


def tight_binding_characters(
    mesh: KMesh, model, band_index: int, site: SpinSiteRepresentation, gap_tol: float = 1e-6, reading: str = "R1",
) -> BandCharacters:
    """λ from the Bloch states of band ``band_index`` of a tight-binding model at every mesh k with a
    nontrivial little co-group: c_h(k) = ⟨ψ_k|P(h)|ψ_k⟩ (physics convention). InputError where the
    state is degenerate (within ``gap_tol`` eV): the energy-ordered band is not defined there.

    ``reading="R2"``: where the state is degenerate because its level is one multi-dimensional irrep of
    the little group, the representative is collected as an R2 point with its isometry
    (:func:`nhm.kspace.embedding.r2_points_on_mesh`, listed in ``BandCharacters.r2_points``) instead;
    other degeneracies (crossings) and site representations absent from D ⊗ D½ still raise InputError.
    The Bloch spinors of those stars are attached as ``BandCharacters.r2_spinors``.
    """
    if model.space_group != mesh.space_group:
        raise InputError(f"the model is of space group {model.space_group}, the mesh of {mesh.space_group}")
    if reading not in ("R1", "R2"):
        raise InputError(f"reading must be R1 or R2, not {reading!r}")
    r2: dict = {}
    if reading == "R2":
        from nhm.kspace.embedding import r2_points_on_mesh

        r2 = r2_points_on_mesh(mesh, model, band_index, site, gap_tol)
    band = model_band_symmetry(model, band_index, allow_degenerate=reading == "R2")

    def spatial(m: int, hs: np.ndarray) -> np.ndarray:
        kc = np.array([float(x) for x in mesh.k_conventional(m)])
        e, v = model.bands(kc)
        gaps = np.abs(np.delete(e, band_index) - e[band_index])
        if gaps.size and gaps.min() < gap_tol:
            raise InputError(f"band {band_index} is degenerate at k = {tuple(mesh.k_conventional(m))} (conventional): choose a mesh avoiding the crossing")
        psi = v[:, band_index]
        return np.array([psi.conj() @ model.symmetry_matrix(int(h), kc) @ psi for h in hs])

    chars = band_characters(mesh, site, band.text(), spatial, cell=voronoi_cells(mesh), source={}, r2_points=r2)
    if r2:
        from dataclasses import replace

        from nhm.kspace.embedding import r2_spinors_on_mesh

        chars = replace(chars, r2_spinors=r2_spinors_on_mesh(mesh, model, band_index, site, r2, gap_tol))
    return chars


def tight_binding_overlaps(mesh: KMesh, model, band_index: int) -> np.ndarray:
    """|M_kb| = |⟨u_k|u_{k+b}⟩| of band ``band_index`` on the stencil of the mesh, (N, n_b).

    Orbitals are orthonormal and centred on the atoms, so the cell-periodic overlap is the overlap of the
    eigenvectors (for one atom per primitive cell the Bloch-sum convention only adds a global phase per k,
    which |·| removes). Across a crossing where the energy-ordered band switches branch |M| drops to ~0.
    """
    if model.space_group != mesh.space_group:
        raise InputError(f"the model is of space group {model.space_group}, the mesh of {mesh.space_group}")
    p_to_conv = np.array([[float(x) for x in row] for row in mesh.p_to_conv])
    k_conv = mesh.k_primitive @ p_to_conv.T
    _, vecs = np.linalg.eigh(model.hamiltonian(k_conv))
    if not 0 <= band_index < vecs.shape[-1]:
        raise InputError(f"band index {band_index} out of range (the model has {vecs.shape[-1]} bands)")
    c = vecs[:, :, band_index]
    _, _, table = mesh.neighbours
    return np.abs(np.einsum("ki,kni->kn", c.conj(), c[table]))
