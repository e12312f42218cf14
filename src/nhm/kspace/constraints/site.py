"""The site representation of the spin-dependent WFs: ρ = s ⊗ D½ on a Wyckoff position.

:class:`SpinSiteRepresentation` is ρ on a position with one atom per primitive cell (s on the coset
representatives, the shifts R_a = a q − q); :class:`OrbitSite` is its induced form ρ(a) = Π_k(a) ⊗ S(α) on the μ
atoms of one orbit (bands of μ branches, docs/theory.md §6). Names are resolved as the classifier prints them
(``"-E1g@2a"``, ``"-1E+-2E@1a"``) or as the one-dimensional single-valued site irrep s itself; a ρ that is not
s ⊗ D½ with a real one-dimensional s is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nhm.errors import GroupTheoryError, InputError
from nhm.groups.seitz import Vec3, vec_sub
from nhm.groups.site import orbit, reduce_mod_lattice, site_group
from nhm.groups.spacegroup import SpaceGroup, space_group
from nhm.groups.wyckoff import WyckoffPosition, wyckoff_position


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


# ----------------------------------------------------------------------------- the induced representation on an orbit of μ atoms


@dataclass(frozen=True, eq=False)
class OrbitSite:
    """ρ(a) = Π_k(a) ⊗ S(α) on the μ atoms ρ_j of one Wyckoff orbit (conventional coordinates).

    ``perm[a, j]`` = j′ and ``shift[a, j]`` = R with a ρ_j = ρ_{j′} + R (R a lattice vector);
    ``s[a, j]`` = s(g_{j′}⁻¹{1|−R} a g_j), the site irrep s of atom 1 on the element that a induces there.
    Π_k(a)_{j′ j} = s[a, j] e^{−2πi k·R} with k the image point αk as the mesh holds it."""

    space_group: int
    wyckoff: str
    label: str
    single_label: str
    points: np.ndarray
    perm: np.ndarray
    shift: np.ndarray
    s: np.ndarray

    @property
    def mu(self) -> int:
        return int(self.points.shape[0])

    def pi(self, a: int, k_conventional: np.ndarray) -> np.ndarray:
        mu = self.mu
        out = np.zeros((mu, mu), dtype=complex)
        ph = np.exp(-2j * np.pi * (self.shift[a] @ np.asarray(k_conventional, dtype=float)))
        out[self.perm[a], np.arange(mu)] = self.s[a] * ph
        return out

    def rho(self, a: int, k_conventional: np.ndarray, lift: np.ndarray) -> np.ndarray:
        return np.kron(self.pi(a, k_conventional), lift)


def orbit_site_representation(number: int, wyckoff: str, name: str) -> OrbitSite:
    """The induced representation of the spin-dependent WFs ``name`` (e.g. ``"-E1@2c"``: ρ = s ⊗ D½ at atom 1,
    s one-dimensional and real) on every atom of the orbit of Wyckoff position ``wyckoff``."""
    g = space_group(number)
    w = wyckoff_position(number, wyckoff.lstrip("0123456789")) if isinstance(wyckoff, str) else wyckoff
    site, s_site, single_label, label = one_dim_site_irrep(g, w, name)
    pts, gj = orbit(g, w.point())
    keys = [reduce_mod_lattice(g, p) for p in pts]
    pos = {i: n for n, i in enumerate(site.coset_indices)}
    rot = [np.array(op.rotation, dtype=int) for op in gj]
    mu = len(pts)
    perm = np.zeros((g.order, mu), dtype=int)
    shift = np.zeros((g.order, mu, 3))
    s = np.zeros((g.order, mu), dtype=complex)
    for a, op in enumerate(g.operations):
        ra = np.array(op.rotation, dtype=int)
        for j, p in enumerate(pts):
            img = op.apply(p)
            jj = keys.index(reduce_mod_lattice(g, img))
            r = vec_sub(img, pts[jj])
            if not g.is_lattice_vector(r):
                raise AssertionError("orbit image is not a lattice translate")  # reduce_mod_lattice guarantees it
            h = np.rint(np.linalg.inv(rot[jj]) @ ra @ rot[j]).astype(int)
            perm[a, j] = jj
            shift[a, j] = [float(x) for x in r]
            s[a, j] = s_site[pos[g.index_of_rotation(h)]]
    return OrbitSite(number, w.label, label, single_label, np.array([[float(x) for x in p] for p in pts]), perm, shift, s)
