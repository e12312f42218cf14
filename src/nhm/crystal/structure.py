"""Read a crystal structure and standardize it to the BCS setting of its space group.

``read_crystal`` accepts an ``ase.Atoms``, a structure file (anything ``ase.io.read`` reads) or a
chemical symbol (ASE's reference crystal of that element). spglib finds the space group, then
standardizes to the BCS setting (``setting.bcs_hall_number``): the conventional cell of the ITA
standard setting, origin choice 2, hexagonal axes for R groups.

spglib's choice of origin is unique only up to the Euclidean normalizer of the group: hcp Mg comes
out on 2c or 2d, diamond on 8a or 8b, depending on where the input's origin happens to sit. We remove
that arbitrariness by trying every origin shift in the normalizer (at most 8 per group) and keeping
the one whose orbits sort first: lowest Wyckoff letters, then the lightest element on the lowest
letter, then the smallest representative. So hcp Mg is always 2c, diamond 8a, MgB2 Mg 1a + B 2d,
SrTiO3 Sr 1a + Ti 1b + O 3c and NaCl Na 4a + Cl 4b, whatever rigid shift or atom order the input
had. Normalizer elements with a rotation part (e.g. inverting a non-centrosymmetric structure) are
not tried: they change the structure's handedness or orientation, not just the bookkeeping.

Conventions: fractional coordinates are column vectors; lattices are (3, 3) arrays whose *rows* are
the cell vectors in Å (ASE's convention).
"""

from __future__ import annotations

import itertools
import os
import stat
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import ase
import numpy as np
import spglib
from ase.build import bulk
from ase.data import atomic_numbers, chemical_symbols, covalent_radii, reference_states
from ase.geometry import cell_to_cellpar

from nhm.crystal import DEFAULT_SYMPREC
from nhm.crystal.setting import bcs_hall_number, centering_vectors, primitive_transform
from nhm.errors import GroupTheoryError, InputError, NhmWarning

__all__ = ["DEFAULT_SYMPREC", "AtomOrbit", "Crystal", "read_crystal"]

# spglib's C library prints its own diagnostics ("spglib: ssm_get_exact_positions failed.", twenty lines at
# --symprec 1e-300) straight to stderr; nhm reports a failure in one line of its own. SPGLIB_WARNING=ON
# brings them back for debugging.
os.environ.setdefault("SPGLIB_WARNING", "OFF")

MIN_DISTANCE_FRACTION = 0.5
"""Two atoms closer than this fraction of the sum of their covalent radii (ase.data.covalent_radii) overlap:
the structure is refused. The shortest contacts of real solids (H–H in compressed hydrides, multiple bonds)
are above 0.6 of that sum; closer means a site listed twice, a wrong unit (bohr for Å) or a wrong cell."""

CELL_LENGTH_MAX = 1000.0
"""Longest cell vector (Å) of a structure: the largest unit cells known (protein and virus crystals) are a
few hundred Å; a longer one is a typo or a unit error, and nothing nhm computes could use it."""

LATTICE_SCALE_RANGE = (0.5, 2.0)
"""--a relative to ASE's reference lattice constant of the element. Half the lattice constant is an eighth of the
volume (pressures beyond the Earth's core); twice it, eight times the volume, where the atoms no longer bind and
the plane waves (∝ volume) make the run eight times as big: neither is the element's crystal."""

STRUCTURE_FILE_MAX_BYTES = 64 * 2**20
"""Largest structure file read (bytes): a CIF of a few thousand atoms is well under a megabyte; reading a
bigger file (a trajectory, a wrong file) would take minutes before it could be refused."""

_FULL_OCCUPANCY = 0.99  # a CIF site at least this full counts as fully occupied (refined values like 0.995(5))
_GRID = 24  # normalizer shifts of all 230 groups are multiples of 1/8 or 1/3 (checked; <= 8 each)
_DECIMALS = 8  # rounding of fractional coordinates when comparing them
_ZERO_TOL = 1e-8  # a fractional coordinate this close to 1 is 0


@dataclass(frozen=True)
class AtomOrbit:
    """One Wyckoff orbit of atoms of one element in the BCS conventional cell.

    ``multiplicity`` is the ITA multiplicity: the number of atoms of the orbit in the conventional
    cell (centring translations included). ``site_symmetry`` is the oriented site-symmetry symbol as
    spglib writes it (e.g. ``"m-3m"``, ``"-6m2"``, ``".3m"``). ``representative`` is one atom of the
    orbit in fractional coordinates of the BCS conventional cell, each in [0, 1): the
    lexicographically smallest one.
    """

    element: str
    wyckoff_letter: str
    multiplicity: int
    site_symmetry: str
    representative: tuple[float, float, float]

    @property
    def label(self) -> str:
        """Multiplicity and letter, e.g. ``"2a"``."""
        return f"{self.multiplicity}{self.wyckoff_letter}"


@dataclass(frozen=True, eq=False)
class Crystal:
    """A crystal structure with its space group, standardized to the BCS setting.

    ``lattice`` (rows = conventional cell vectors a, b, c in Å), ``positions`` (fractional in that
    cell) and ``numbers`` (atomic numbers) are spglib's standardized, symmetry-idealized
    conventional cell. spglib also *rotates* it to the standard Cartesian orientation (e.g. a along
    x, b in the xy plane), so ``lattice`` is in general not parallel to ``atoms.cell``.

    The map from the input structure (spglib's convention, composed over our origin choice):

    * fractional coordinates: ``x_std = transformation_matrix @ x_in + origin_shift`` (mod lattice
      translations of the conventional cell);
    * cell vectors, columns: ``(a_s b_s c_s) = std_rotation_matrix (a b c) transformation_matrix^-1``,
      i.e. with rows ``lattice ≈ inv(P).T @ atoms.cell @ std_rotation_matrix.T`` (equal up to the
      idealization).

    ``orbits`` are sorted by Wyckoff letter, then atomic number. Arrays are read-only.
    """

    atoms: ase.Atoms
    space_group: int
    international: str
    hall_number: int
    lattice: np.ndarray
    positions: np.ndarray
    numbers: np.ndarray
    transformation_matrix: np.ndarray
    origin_shift: np.ndarray
    orbits: tuple[AtomOrbit, ...]
    symprec: float
    std_rotation_matrix: np.ndarray

    def conventional_atoms(self) -> ase.Atoms:
        """The BCS conventional cell as a periodic ``ase.Atoms`` (a new object)."""
        return ase.Atoms(
            numbers=self.numbers.copy(),
            scaled_positions=self.positions.copy(),
            cell=self.lattice.copy(),
            pbc=True,
        )

    def primitive_atoms(self) -> ase.Atoms:
        """The BCS primitive cell, ``a_p = a_c P`` with ``P = setting.primitive_transform``.

        Positions are ``x_p = P^-1 x_c`` folded into [0, 1); atoms that the centring makes
        coincide are kept once. Same Cartesian orientation as ``lattice``.
        """
        p = np.array(primitive_transform(self.space_group), dtype=float)
        cell = p.T @ self.lattice  # row j = sum_i P[i, j] a_i
        frac = _reduce(self.positions @ np.linalg.inv(p).T)
        keep: list[int] = []
        for i in range(len(frac)):
            if not any(
                self.numbers[i] == self.numbers[j] and _same_point(frac[i], frac[j]) for j in keep
            ):
                keep.append(i)
        n_centering = len(centering_vectors(self.space_group))
        if len(keep) * n_centering != len(frac):
            raise GroupTheoryError(
                f"primitive cell of space group {self.space_group}: {len(keep)} atoms from "
                f"{len(frac)} in the conventional cell with {n_centering} centring vectors"
            )
        return ase.Atoms(
            numbers=self.numbers[keep], scaled_positions=frac[keep], cell=cell, pbc=True
        )

    def summary(self) -> dict[str, Any]:
        """JSON-ready description: group, BCS conventional cell (Å, degrees) and Wyckoff orbits."""
        a, b, c, alpha, beta, gamma = cell_to_cellpar(self.lattice)
        return {
            "formula": self.atoms.get_chemical_formula(mode="metal"),
            "space_group": self.space_group,
            "international": self.international,
            "hall_number": self.hall_number,
            "setting": "BCS (ITA standard, origin choice 2, hexagonal axes for R)",
            "symprec": self.symprec,
            "cell_parameters": {
                "a": float(a),
                "b": float(b),
                "c": float(c),
                "alpha": float(alpha),
                "beta": float(beta),
                "gamma": float(gamma),
            },
            "lattice": self.lattice.tolist(),
            "atoms_in_conventional_cell": len(self.numbers),
            "orbits": [
                {
                    "element": o.element,
                    "wyckoff": o.label,
                    "site_symmetry": o.site_symmetry,
                    "representative": list(o.representative),
                }
                for o in self.orbits
            ],
        }


def read_crystal(
    source: str | os.PathLike[str] | ase.Atoms,
    *,
    a: float | None = None,
    symprec: float = DEFAULT_SYMPREC,
    angle_tolerance: float = -1.0,
) -> Crystal:
    """Read a structure, find its space group and standardize it to the BCS setting.

    ``source``: an ``ase.Atoms``; a path to a structure file (any format ``ase.io.read`` reads,
    its last image if there are several); or a chemical symbol such as ``"Nb"`` (exact
    capitalization), meaning ASE's reference crystal of that element (``ase.build.bulk``). An
    existing file takes precedence over a symbol. ``a`` (Å) replaces the reference lattice
    parameter of an element (ASE's ``a``: cubic edge, hexagonal ``a`` with c/a kept, rhombohedral
    edge); it is refused for files and Atoms. ``symprec`` (Å) and ``angle_tolerance`` (degrees,
    -1 = spglib's default) are spglib's tolerances. The default symprec, 1e-3 Å, reads coordinates
    typed with four digits (0.3333, 0.6667) as the special positions they mean (MgB2 as P6/mmm, not
    Cmmm as at 1e-5 Å); the structure computed is spglib's symmetrized one. A CIF with partial or
    mixed occupancies (disorder) is refused: nhm computes ordered crystals only.

    Raises ``InputError`` (one readable message) for anything that is not a periodic 3D crystal
    whose symmetry spglib can find.
    """
    if isinstance(symprec, bool) or not isinstance(symprec, int | float) or not (np.isfinite(symprec) and symprec > 0):
        raise InputError(f"symprec (--symprec) must be a positive length in Å, got {symprec!r}")
    atoms, name = _load_atoms(source, a)
    _check_periodic(atoms, name)
    _check_distances(atoms, f"'{name}'", hint=" (--a is the lattice constant in Å)" if a is not None else "")
    cell = (atoms.cell[:], atoms.get_scaled_positions(wrap=False), atoms.numbers)

    first = _dataset(cell, name, symprec, angle_tolerance)
    number = int(_get(first, "number"))
    hall = bcs_hall_number(number)
    ds1 = _dataset(cell, name, symprec, angle_tolerance, hall)
    _check_same_group(ds1, number, hall, name)

    # Try each origin of the normalizer on the standardized cell; keep the one that sorts first.
    lattice1 = np.asarray(_get(ds1, "std_lattice"), dtype=float)
    positions1 = np.asarray(_get(ds1, "std_positions"), dtype=float)
    types1 = np.asarray(_get(ds1, "std_types"), dtype=int)
    best: tuple[tuple, np.ndarray, Any, tuple[AtomOrbit, ...]] | None = None
    for t in _normalizer_shifts(hall):
        ds2 = _dataset((lattice1, positions1 + t, types1), name, symprec, angle_tolerance, hall)
        _check_same_group(ds2, number, hall, name)
        orbits = _orbits(ds2)
        keys = [_orbit_key(o) for o in orbits]
        key = (tuple(k[:2] for k in keys), tuple(keys))  # letters first, then elements
        if best is None or key < best[0]:
            best = (key, t, ds2, orbits)
    assert best is not None  # the zero shift is always a candidate
    _, t, ds2, orbits = best

    # Compose the two standardizations: x1 = P1 x + p1, x2 = P2 (x1 + t) + p2.
    p1 = np.asarray(_get(ds1, "transformation_matrix"), dtype=float)
    p2 = np.asarray(_get(ds2, "transformation_matrix"), dtype=float)
    o1 = np.asarray(_get(ds1, "origin_shift"), dtype=float)
    o2 = np.asarray(_get(ds2, "origin_shift"), dtype=float)
    r1 = np.asarray(_get(ds1, "std_rotation_matrix"), dtype=float)
    r2 = np.asarray(_get(ds2, "std_rotation_matrix"), dtype=float)

    return Crystal(
        atoms=atoms,
        space_group=number,
        international=str(_get(ds2, "international")),
        hall_number=hall,
        lattice=_frozen(np.asarray(_get(ds2, "std_lattice"), dtype=float)),
        positions=_frozen(_reduce(np.asarray(_get(ds2, "std_positions"), dtype=float))),
        numbers=_frozen(np.asarray(_get(ds2, "std_types"), dtype=int)),
        transformation_matrix=_frozen(p2 @ p1),
        origin_shift=_frozen(_reduce(p2 @ (o1 + t) + o2)),
        orbits=orbits,
        symprec=float(symprec),
        std_rotation_matrix=_frozen(r2 @ r1),
    )


# --- input -------------------------------------------------------------------------------------


def _load_atoms(source: str | os.PathLike[str] | ase.Atoms, a: float | None) -> tuple[ase.Atoms, str]:
    if isinstance(source, ase.Atoms):
        _refuse_a(a, "an Atoms object")
        return source, source.get_chemical_formula() or "Atoms"
    if isinstance(source, os.PathLike):
        path = Path(source)
        if not _exists(path):
            raise InputError(f"cannot read a crystal structure from '{path}': no such file")
        _refuse_a(a, f"the file '{path}'")
        return _read_file(path), str(path)
    if not isinstance(source, str):
        raise InputError(
            f"expected an element symbol, a structure file or ase.Atoms, got {type(source).__name__}"
        )
    if not source.strip():
        raise InputError("no structure given: pass an element symbol or a structure file")
    if _exists(Path(source)):
        _refuse_a(a, f"the file '{source}'")
        return _read_file(Path(source)), source
    if source in atomic_numbers and source != "X":
        return _element_crystal(source, a), source
    raise InputError(f"'{source}' is neither a chemical element nor a readable structure file")


def _exists(path: Path) -> bool:
    """Whether anything is at ``path`` (a name too long for the file system is not a file: no OSError)."""
    try:
        return os.path.lexists(path) and path.exists()
    except OSError:
        return False


def _refuse_a(a: float | None, what: str) -> None:
    if a is not None:
        raise InputError(
            f"the lattice constant a= (--a) sets the size of an element's reference crystal; it does not apply to {what}"
        )


_SPECIAL_FILES = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _check_regular_file(path: Path) -> None:
    """A structure is read from a regular file only: a FIFO or a device could block the read forever (ASE
    opens a file twice: once to guess its format), and could not be read twice."""
    try:
        st = path.stat()
    except OSError as exc:
        raise InputError(f"cannot read a crystal structure from '{path}': {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"cannot read a crystal structure from '{path}': it is a directory")
    for test, kind in _SPECIAL_FILES:
        if test(st.st_mode):
            raise InputError(f"cannot read a crystal structure from '{path}': it is {kind}, not a regular file "
                             "(save the structure to a file and pass that)")
    if st.st_size > STRUCTURE_FILE_MAX_BYTES:
        raise InputError(f"'{path}' is {st.st_size / 2**20:.0f} MiB, more than the {STRUCTURE_FILE_MAX_BYTES // 2**20} MiB "
                         "a structure file of any crystal nhm computes takes: is it the right file?")
    if not os.access(path, os.R_OK):
        raise InputError(f"cannot read a crystal structure from '{path}': permission denied")


def _read_file(path: Path) -> ase.Atoms:
    _check_regular_file(path)
    block = _cif_block(path)
    _check_cif_cell(block, path)  # before ASE, which trips over a zero length (and takes |a| of a negative one)
    try:
        import ase.io  # lazily: half a second to import, needed only for files

        with warnings.catch_warnings(record=True) as caught:  # ASE's complaints: one line each, below
            warnings.simplefilter("always")
            atoms = ase.io.read(path)
    except Exception as exc:  # ASE raises anything from AssertionError to StopIteration on bad files
        raise InputError(f"cannot read a crystal structure from '{path}': {_short_reason(exc)}") from None
    seen: list[str] = []
    for w in caught:  # what the reader noticed about a file it could read (numpy's float chatter dropped)
        text = " ".join(str(w.message).split())
        if issubclass(w.category, UserWarning) and text not in seen and len(seen) < 3:
            seen.append(text)
            warnings.warn(f"reading '{path}': {text}", NhmWarning, stacklevel=3)
    if isinstance(atoms, list):  # defensive: read() without index returns one image
        atoms = atoms[-1]
    if len(atoms) == 0:
        raise InputError(f"cannot read a crystal structure from '{path}': the file contains no atoms")
    _refuse_disorder(atoms, path)
    _check_cif_sites(block, path)  # after the disorder check: mixed sites share a position by design
    return atoms


def _cif_block(path: Path):
    """The CIF block ASE reads (the last one with atoms), or None if ``path`` is no CIF."""
    from ase.io.cif import parse_cif
    from ase.io.formats import filetype

    try:
        if filetype(str(path), guess=False) != "cif":
            return None
        with open(path, "rb") as f, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ASE's complaints about the file come once, from its reader (_read_file)
            blocks = [b for b in parse_cif(f) if b.has_structure()]
    except Exception:  # noqa: BLE001 - not parseable as CIF here: ASE's own reader decides (and says why)
        return None
    return blocks[-1] if blocks else None


def _check_cif_cell(block, path: Path) -> None:
    """A CIF's cell as written: every length positive, every angle strictly between 0° and 180° (ASE builds
    the cell from |a|, so ``_cell_length_a -4.05`` would otherwise pass as 4.05)."""
    cellpar = None if block is None else block.get_cellpar()
    if cellpar is None:
        return
    for tag, value in zip(block.cell_tags, cellpar):
        try:
            value = float(value)
        except (TypeError, ValueError):
            continue  # not a number: ASE's reader says so
        limits = (0.0, CELL_LENGTH_MAX) if "length" in tag else (0.0, 180.0)
        if not (np.isfinite(value) and limits[0] < value < limits[1]):
            what = ("a cell angle lies strictly between 0° and 180°" if "angle" in tag else "a cell length must be positive (Å)"
                    if value <= 0 else f"longer than {CELL_LENGTH_MAX:g} Å, the largest cells of real crystals are a few hundred Å")
            raise InputError(f"'{path}' has {tag} {value:g}: {what}")


def _check_cif_sites(block, path: Path) -> None:
    """Sites a CIF lists on top of each other are refused: ASE merges sites that coincide, so a fifth atom
    typed over another would silently give the four-atom crystal."""
    if block is None:
        return
    try:
        listed = block.get_unsymmetrized_structure()
    except Exception:  # noqa: BLE001 - sites ASE could place anyway
        return
    if not abs(np.linalg.det(listed.cell[:])) > 1e-6:  # no 3D cell: refused as such once the crystal is checked
        return
    listed.pbc = True
    labels = block.get("_atom_site_label")
    names = [str(x) for x in labels] if labels is not None and len(labels) == len(listed) else None
    _check_distances(listed, f"'{path}'", names, listed_sites=True)


def _refuse_disorder(atoms: ase.Atoms, path: Path) -> None:
    """InputError for partial or mixed site occupancies (ASE keeps one species per site silently).

    ASE's CIF reader records ``_atom_site_occupancy`` as ``atoms.info["occupancy"]``: for each site
    (tag) the species on it and their occupancies. A site counts as ordered if it holds one species
    with occupancy of at least ``_FULL_OCCUPANCY``.
    """
    occupancy = atoms.info.get("occupancy")
    if not isinstance(occupancy, dict):
        return
    disordered: list[str] = []
    for species in occupancy.values():
        if not isinstance(species, dict) or not species:
            continue
        try:
            values = {str(el): float(x) for el, x in species.items()}
        except (TypeError, ValueError):
            continue
        if len(values) > 1 or min(values.values()) < _FULL_OCCUPANCY:
            text = " + ".join(f"{el} {x:g}" for el, x in sorted(values.items()))
            if text not in disordered:
                disordered.append(text)
    if disordered:
        shown = "; ".join(disordered[:4]) + (f"; {len(disordered) - 4} more" if len(disordered) > 4 else "")
        raise InputError(
            f"'{path}' describes a disordered crystal (sites with partial or mixed occupancy: {shown}); "
            "nhm computes ordered crystals only: choose the atom on every site (an ordered model, a supercell "
            "if needed) and pass that structure"
        )


def _short_reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    if not text:
        return f"malformed or unrecognized content ({type(exc).__name__})"
    reason = text[0]
    return reason if len(reason) <= 200 else reason[:197] + "..."


def _check_lattice_constant(symbol: str, a: float | None, ref: dict | None) -> None:
    """--a within :data:`LATTICE_SCALE_RANGE` of ASE's reference lattice constant of the element."""
    reference = (ref or {}).get("a")
    if a is None or not reference:
        return
    low, high = LATTICE_SCALE_RANGE
    if not low * reference <= a <= high * reference:
        raise InputError(
            f"--a {a:g} Å is {a / reference:.3g} times the lattice constant of {symbol}'s reference crystal ({reference:g} Å), outside "
            f"[{low:g}, {high:g}]×: the atoms would {'overlap' if a < reference else 'not bind'}; to compute such a cell "
            "deliberately, write it as a structure file"
        )


def _element_crystal(symbol: str, a: float | None) -> ase.Atoms:
    if a is not None and not (np.isfinite(a) and a > 0):
        raise InputError(f"lattice constant a must be a positive length in Å, got {a!r}")
    ref = reference_states[atomic_numbers[symbol]]
    _check_lattice_constant(symbol, a, ref)
    kind = ref.get("symmetry") if ref else None
    try:
        return bulk(symbol, a=a)
    except (ValueError, KeyError, TypeError, NotImplementedError):
        described = f"its reference state is '{kind}'" if kind else "ASE has no reference structure for it"
        raise InputError(
            f"cannot build a crystal for element '{symbol}': {described}, which ASE cannot build as "
            f"a bulk crystal; pass a structure file (CIF, POSCAR, ...) instead"
        ) from None


def _check_periodic(atoms: ase.Atoms, name: str) -> None:
    if len(atoms) == 0:
        raise InputError(f"'{name}' contains no atoms")
    if not np.all(atoms.pbc):
        raise InputError(
            f"'{name}' is not periodic in 3D (pbc={atoms.pbc.tolist()}); a crystal needs a full "
            f"unit cell with periodic boundary conditions"
        )
    if not (np.all(np.isfinite(atoms.cell[:])) and np.all(np.isfinite(atoms.positions))):
        raise InputError(f"'{name}' has a cell or atom positions that are not finite numbers (NaN or infinite)")
    with np.errstate(over="ignore"):  # a cell of 1e200 Å: its length is inf, and refused below
        lengths = np.linalg.norm(atoms.cell[:], axis=1)
    if lengths.max() > CELL_LENGTH_MAX:
        raise InputError(f"'{name}' has a cell vector {lengths.max():.3g} Å long, more than {CELL_LENGTH_MAX:g} Å: "
                         "the largest cells of real crystals are a few hundred Å (a unit error?)")
    volume = abs(np.linalg.det(atoms.cell[:]))
    if not volume > 1e-6:
        raise InputError(f"'{name}' has no 3D unit cell (cell volume {volume:.3g} Å^3)")


def _check_distances(atoms: ase.Atoms, name: str, labels: list[str] | None = None, *, listed_sites: bool = False,
                     hint: str = "") -> None:
    """InputError if two atoms (or an atom and a periodic image of itself or of another) are closer than
    :data:`MIN_DISTANCE_FRACTION` of the sum of their covalent radii.

    Distances are taken in the Minkowski-reduced cell, whose 27 neighbouring translations hold the nearest
    image of every pair (three dimensions), so the cost is n² · 27 whatever the cell's shape or size.
    """
    from ase.geometry import minkowski_reduce

    if not np.all(np.abs(atoms.cell[:]) < 10 * CELL_LENGTH_MAX):  # refused as too long elsewhere; no overflow here
        return
    cell, _ = minkowski_reduce(np.asarray(atoms.cell[:], dtype=float))
    frac = np.linalg.solve(cell.T, np.asarray(atoms.positions, dtype=float).T).T
    radii = MIN_DISTANCE_FRACTION * covalent_radii[atoms.numbers]
    shifts = np.array(list(itertools.product((-1, 0, 1), repeat=3)), dtype=float)
    for i in range(len(atoms)):
        d = frac[i:] - frac[i]
        d -= np.round(d)
        vectors = (d[:, None, :] + shifts[None, :, :]) @ cell  # (n - i, 27, 3)
        dist = np.linalg.norm(vectors, axis=2)
        dist[0, 13] = np.inf  # the atom itself (shift 0, 0, 0)
        limit = radii[i] + radii[i:]
        close = np.argwhere(dist < limit[:, None])
        if len(close):
            j = i + int(close[0][0])
            _refuse_overlap(atoms, name, labels, i, j, float(dist[close[0][0]].min()), float(limit[j - i]), listed_sites, hint)


def _refuse_overlap(atoms, name, labels, i, j, distance, limit, listed_sites, hint) -> None:
    def who(k: int) -> str:
        return labels[k] if labels else f"{atoms[k].symbol} (atom {k + 1})"

    if i == j:
        what = f"{who(i)} is {distance:.3g} Å from its own periodic image (the shortest lattice vector)"
    else:
        what = f"{who(i)} and {who(j)} are {distance:.3g} Å apart"
    why = "a site listed twice, or a wrong cell or unit" if listed_sites else "overlapping atoms (a wrong cell or unit?)"
    raise InputError(
        f"{name}: {what}, closer than {MIN_DISTANCE_FRACTION:g} × the sum of their covalent radii ({limit:.3g} Å): {why}{hint}"
    )


# --- symmetry ----------------------------------------------------------------------------------


def _get(dataset: Any, name: str) -> Any:
    """spglib >= 2.5 returns a dataclass; older versions a dict."""
    return dataset[name] if isinstance(dataset, dict) else getattr(dataset, name)


def _dataset(cell: tuple, name: str, symprec: float, angle_tolerance: float, hall: int = 0) -> Any:
    reason = ""
    try:
        with warnings.catch_warnings():
            # spglib 2.x warns on every call while its old (return-None) error handling is active
            warnings.simplefilter("ignore", DeprecationWarning)
            dataset = spglib.get_symmetry_dataset(
                cell, symprec=symprec, angle_tolerance=angle_tolerance, hall_number=hall
            )
    except spglib.SpglibError as exc:
        dataset, reason = None, f" ({_short_reason(exc)})"
    if dataset is None:
        hint = (
            "try a larger symprec (--symprec 1e-2, in Å)"
            if symprec < 1e-2
            else "check for overlapping atoms, or try a different symprec (--symprec)"
        )
        raise InputError(
            f"spglib found no space group for '{name}' at symprec={symprec:g} Å{reason}: atoms may "
            f"overlap or lie too far from symmetric positions for this tolerance; {hint}"
        )
    return dataset


def _check_same_group(dataset: Any, number: int, hall: int, name: str) -> None:
    if int(_get(dataset, "number")) != number or int(_get(dataset, "hall_number")) != hall:
        raise InputError(
            f"the symmetry of '{name}' is ambiguous at this tolerance (space group {number} at "
            f"first, {_get(dataset, 'number')} after standardizing); try a smaller or larger symprec (--symprec)"
        )


@cache
def _normalizer_shifts(hall: int) -> tuple[np.ndarray, ...]:
    """Origin shifts t (conventional fractional) with t G t^-1 = G, modulo the centred lattice.

    Only shifts perpendicular to the polar (free) axes: a continuous shift along a polar axis maps
    every Wyckoff position to itself. The zero shift comes first.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        sym = spglib.get_symmetry_from_database(hall)
        number = spglib.get_spacegroup_type(hall).number
    rotations = np.unique(np.asarray(sym["rotations"], dtype=int), axis=0)
    centering = np.array([[int(x * _GRID) for x in c] for c in centering_vectors(number)])
    stacked = np.concatenate([np.eye(3, dtype=int) - r for r in rotations])
    free = [i for i in range(3) if not stacked[:, i].any()]
    if 3 - np.linalg.matrix_rank(stacked) != len(free):
        raise GroupTheoryError(f"Hall number {hall}: polar directions are not along cell axes")

    ranges = [[0] if i in free else range(_GRID) for i in range(3)]
    grid = np.array(list(itertools.product(*ranges)), dtype=int)  # t = grid / _GRID
    moved = np.einsum("nij,gj->gni", stacked.reshape(-1, 3, 3), grid)  # (I - R) t, times _GRID
    # (I - R) t must be a centred-lattice vector for every R
    diff = moved[:, :, None, :] - centering[None, None, :, :]
    ok = np.all(np.any(np.all(diff % _GRID == 0, axis=3), axis=2), axis=1)

    shifts: list[np.ndarray] = []
    seen: set[tuple[int, ...]] = set()
    for k in grid[ok]:
        key = min(tuple((k - c) % _GRID) for c in centering)
        if key not in seen:
            seen.add(key)
            shifts.append(np.array(key, dtype=float) / _GRID)
    return tuple(shifts)


def _orbits(dataset: Any) -> tuple[AtomOrbit, ...]:
    """Wyckoff orbits of the standardized cell of ``dataset``, sorted (letter, Z, representative)."""
    wyckoffs = list(_get(dataset, "wyckoffs"))
    sites = list(_get(dataset, "site_symmetry_symbols"))
    equivalent = np.asarray(_get(dataset, "equivalent_atoms"))
    to_primitive = np.asarray(_get(dataset, "mapping_to_primitive"))
    std_to_primitive = np.asarray(_get(dataset, "std_mapping_to_primitive"))
    std_positions = _reduce(np.asarray(_get(dataset, "std_positions"), dtype=float))
    std_types = np.asarray(_get(dataset, "std_types"), dtype=int)

    # an input atom for each primitive-cell atom, hence for each standardized atom
    input_of_primitive = {int(p): i for i, p in enumerate(to_primitive)}
    members: dict[int, list[int]] = {}
    for j, p in enumerate(std_to_primitive):
        members.setdefault(int(equivalent[input_of_primitive[int(p)]]), []).append(j)

    orbits = []
    for orbit_atom, js in members.items():
        first = min(js, key=lambda j: tuple(np.round(std_positions[j], _DECIMALS)))
        x, y, z = (float(v) + 0.0 for v in std_positions[first])  # + 0.0: no -0.0
        orbits.append(
            AtomOrbit(
                element=chemical_symbols[int(std_types[js[0]])],
                wyckoff_letter=str(wyckoffs[orbit_atom]),
                multiplicity=len(js),
                site_symmetry=str(sites[orbit_atom]),
                representative=(x, y, z),
            )
        )
    return tuple(sorted(orbits, key=_orbit_key))


def _orbit_key(orbit: AtomOrbit) -> tuple:
    # ITA letters run a..z, then A (group 47 has 27 positions)
    letter = orbit.wyckoff_letter
    rep = tuple(np.round(orbit.representative, _DECIMALS))
    return (letter.isupper(), letter, atomic_numbers[orbit.element], rep)


# --- small helpers -----------------------------------------------------------------------------


def _reduce(frac: np.ndarray) -> np.ndarray:
    """Fractional coordinates into [0, 1), with values within _ZERO_TOL of 1 set to 0."""
    out = frac - np.floor(frac)
    out[np.abs(out - 1.0) < _ZERO_TOL] = 0.0
    return out


def _same_point(x: np.ndarray, y: np.ndarray, tol: float = 1e-6) -> bool:
    d = x - y
    return bool(np.all(np.abs(d - np.round(d)) < tol))


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array)  # own copy
    array.setflags(write=False)
    return array
