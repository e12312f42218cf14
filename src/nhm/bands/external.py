"""Band structures computed by the user's own DFT code, read through the PyPI program ``irrep``.

Supported codes (irrep 3.2.0's readers): Quantum ESPRESSO (``"espresso"``, the ``prefix`` of
``prefix.save``), VASP (``"vasp"``, a WAVECAR; the POSCAR is looked for next to it), ABINIT
(``"abinit"``, a WFK file), Wannier90 (``"wannier90"``, the seedname: ``seedname.win``,
``seedname.eig`` and the ``UNK*`` files; needs ``ecut_eV``) and GPAW (``"gpaw"``, a ``.gpw`` written
with ``mode="all"``). Only GPAW has been tested on real files (tests/test_external.py); the other
readers are irrep's own and are called with the arguments its documentation asks for.

irrep is used only to *read* energies and plane-wave coefficients. The irreps are nhm's own
(:func:`nhm.bands.bloch.levels_from_plane_waves`): irrep 3.2.0's labels swap complex-conjugate
pairs at some points (H1/H2 at H of P6_3/mmc; see :mod:`nhm.bands.bloch` and tests/test_dft.py).

What is supported:

* **Spinless bands only** (no spin–orbit coupling): nhm classifies single-valued irreps. A spinor
  calculation is refused with an InputError. Of a collinear spin-polarized calculation one channel
  is read (``spin_channel``), which is meaningful only if it is non-magnetic.
* **Any primitive cell of the crystal**: the cell of the calculation may differ from the BCS
  primitive cell by an integer unimodular change of basis and an origin shift. nhm finds both with
  spglib (:func:`nhm.crystal.read_crystal` on the calculation's own cell and atoms): fractional
  coordinates map as ``x_p = M x + s``, so ``k_p = M^-T k``, ``G_p = M^-T G`` and the coefficients
  pick up the phase ``exp(-2 pi i (k_p + G_p).s)``. A supercell (or a centred conventional cell) is
  refused with an InputError: its k-points fold and the little groups are not those of the tables.
* **The points of symmetry must be among the k-points of the file**, exactly (modulo reciprocal
  lattice vectors) as Bilbao's maximal k-vectors, not another member of their star. A
  self-consistent run on a mesh rarely has them all; run a non-self-consistent calculation at the
  k-points that the InputError lists (in the calculation's reciprocal basis).

Energies are absolute (the file's zero), in eV; ``fermi_level_eV`` is the file's Fermi level, or
None where the format has none (a VASP WAVECAR).
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nhm.bands.bloch import BlochLevel, levels_from_plane_waves
from nhm.errors import GroupTheoryError, InputError, NhmError

if TYPE_CHECKING:
    from nhm.crystal import Crystal

__all__ = ["CODES", "ExternalBands", "parse_from_dft", "read_external", "require_irrep"]

CODES = ("espresso", "vasp", "abinit", "wannier90", "gpaw")
_ALIASES = {"qe": "espresso", "quantum-espresso": "espresso", "quantumespresso": "espresso", "pw": "espresso", "w90": "wannier90"}
_K_TOL = 1e-5  # k-points in files are written with ~6-8 digits
_INT_TOL = 1e-4  # how far M = P^-1 T may be from an integer matrix (spglib's T is exact up to symprec)


@dataclass(frozen=True)
class ExternalBands:
    """Levels at the points of symmetry read from an external DFT calculation.

    ``levels``: ``{BCS name: [BlochLevel, ...]}`` (absolute energies, eV, ascending), in the order of
    ``points_of_symmetry``. ``fermi_level_eV``: from the file, None if it has none. ``crystal``: the
    structure of the calculation in nhm's BCS setting. ``k_points``: ``{name: k}`` as written in the
    file (the calculation's reciprocal basis). ``transformation`` (M) and ``origin_shift`` (s):
    ``x_BCS-primitive = M x_file + s``.
    """

    code: str
    path: str
    crystal: Crystal
    levels: dict[str, list[BlochLevel]]
    fermi_level_eV: float | None
    k_points: dict[str, tuple[float, float, float]]
    transformation: np.ndarray = field(repr=False)
    origin_shift: np.ndarray = field(repr=False)


def require_irrep() -> Any:
    """irrep's ``BandStructure`` class; an InputError naming the optional extra if irrep is missing.

    irrep (which pulls pymatgen and more) is an optional dependency: ``pip install 'nhm[readers]'``.
    """
    try:
        from irrep.bandstructure import BandStructure
    except ImportError as exc:
        raise InputError(
            "reading another code's DFT output (--from-dft) needs the optional package irrep, which is not "
            f"installed or does not import ({type(exc).__name__}: {exc}): pip install 'nhm[readers]'"
        ) from None
    return BandStructure


def normalize_code(code: str) -> str:
    """irrep's name of a DFT code ("qe" -> "espresso"); InputError for an unknown one."""
    c = str(code).strip().lower()
    c = _ALIASES.get(c, c)
    if c not in CODES:
        raise InputError(f"unknown DFT code {code!r}: nhm reads {', '.join(CODES)} (also 'qe' for Quantum ESPRESSO)")
    return c


def parse_from_dft(spec: str) -> tuple[str, str]:
    """Split the CLI value ``CODE:PATH`` (e.g. ``qe:./out/nb``) into (irrep code, path)."""
    code, sep, path = str(spec).partition(":")
    if not sep or not path:
        raise InputError(f"--from-dft expects CODE:PATH (CODE one of {', '.join(CODES)}), got {spec!r}")
    _refuse_special_file(path)
    return normalize_code(code), path


def _refuse_special_file(path: str) -> None:
    """A FIFO, device or socket as the DFT output would block the reader (or be consumed by its first read)."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing (or a prefix such as QE's): the reader names what it lacks
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise InputError(f"--from-dft {path}: not a regular file or directory (a pipe or a device): save the calculation to a file")


def _cell_map(crystal: Crystal) -> tuple[np.ndarray, np.ndarray]:
    """(M, s) with ``x_p = M x_in + s`` from the input cell of ``crystal`` to its BCS primitive cell."""
    from nhm.crystal.setting import primitive_transform

    p_inv = np.linalg.inv(np.array(primitive_transform(crystal.space_group), dtype=float))
    m = p_inv @ np.asarray(crystal.transformation_matrix, dtype=float)
    mi = np.rint(m)
    if np.max(np.abs(m - mi)) > _INT_TOL or round(abs(np.linalg.det(mi))) != 1:
        raise InputError(
            "the cell of the calculation is not a primitive cell of the crystal (a supercell or a centred "
            f"conventional cell: x_BCS-primitive = M x with M = {np.round(m, 4).tolist()}); nhm needs the "
            "calculation in a primitive cell, best the BCS one (nhm crystal --primitive)"
        )
    s = p_inv @ np.asarray(crystal.origin_shift, dtype=float)
    return mi.astype(int), s


def _crystal_of_file(lattice: Any, positions: Any, typat: Any, symprec: float) -> Crystal:
    """nhm's Crystal of the calculation's own cell (types that are not atomic numbers are renumbered)."""
    import ase

    from nhm.crystal import read_crystal

    t = np.asarray(typat).ravel()
    try:
        numbers = t.astype(int)
        ok = np.all(numbers == t) and np.all((numbers >= 1) & (numbers <= 118))
    except (TypeError, ValueError):
        ok = False
    if not ok:  # e.g. species names or indices of species: only which atoms are alike matters here
        _, numbers = np.unique(t.astype(str), return_inverse=True)
        numbers = numbers + 1
    atoms = ase.Atoms(numbers=numbers, cell=np.asarray(lattice, dtype=float), scaled_positions=np.asarray(positions, dtype=float), pbc=True)
    return read_crystal(atoms, symprec=symprec)


def _irrep_arguments(code: str, path: str, ecut_eV: float | None, spin_channel: str | None) -> tuple[str, dict[str, Any]]:
    """The BandStructure.from_<code> method and its arguments (files are checked first)."""
    p = Path(path)
    common: dict[str, Any] = {
        "Ecut": ecut_eV,
        "spin_channel": spin_channel,
        "irreps": False,  # irrep reads; nhm labels
        "EF": 0.0,  # keep absolute energies (irrep subtracts EF from them)
        "verbosity": 0,
    }
    if code == "espresso":
        if not Path(f"{path}.save").is_dir() and not p.is_dir():
            raise InputError(f"no Quantum ESPRESSO output {path}.save/ (give the prefix with its outdir, e.g. out/nb)")
        prefix = path[: -len(".save")] if path.endswith(".save") else path
        return "from_espresso", {**common, "prefix": prefix}
    if code == "wannier90":
        if not Path(f"{path}.win").is_file():
            raise InputError(f"no Wannier90 input {path}.win (give the seedname, with .win, .eig and UNK files)")
        if ecut_eV is None:
            raise InputError("Wannier90 UNK files do not record a plane-wave cutoff: give ecut_eV (--ecut)")
        return "from_wannier90", {**common, "prefix": path, "spinor": False}
    if not p.is_file():
        raise InputError(f"no such file: {path}")
    if code == "vasp":
        poscar = p.parent / "POSCAR"
        if not poscar.is_file():
            raise InputError(f"irrep needs the POSCAR next to the WAVECAR: {poscar} is missing")
        return "from_vasp", {**common, "fWAV": str(p), "fPOS": str(poscar), "spinor": False}
    if code == "abinit":
        return "from_abinit", {**common, "fWFK": str(p)}
    # gpaw: irrep wants a calculator; magmom must be given or irrep asks GPAW for magnetic moments,
    # which silently reruns an SCF (tests/test_dft.py)
    from gpaw import GPAW

    calc = GPAW(str(p), txt=None)
    if ecut_eV is None:
        params = calc.parameters  # a dict in old GPAW, an object (mode=PW(ecut=...)) in 26.x
        mode = params.get("mode", {}) if isinstance(params, dict) else getattr(params, "mode", None)
        ecut_eV = mode.get("ecut") if isinstance(mode, dict) else getattr(mode, "ecut", None)
        if ecut_eV is None:
            raise InputError(f"{path} is not a plane-wave GPAW calculation (no mode.ecut); nhm needs plane waves")
    return "from_gpaw", {
        **common,
        "Ecut": float(ecut_eV),
        "calculator_gpaw": calc,
        "magmom": np.zeros(len(calc.atoms)),
        "spinor": False,
    }


def read_external(
    code: str,
    path: str | os.PathLike[str],
    *,
    space_group: int | None = None,
    structure: str | os.PathLike[str] | Any | None = None,
    points: Sequence[str] | None = None,
    nbands: int | None = None,
    ecut_eV: float | None = None,
    spin_channel: str | None = None,
    symprec: float | None = None,
) -> ExternalBands:
    """Levels and nhm's irreps at the points of symmetry of an external DFT calculation.

    ``code``: one of :data:`CODES` (or "qe"); ``path``: as described in the module docstring.
    ``space_group``: if given, the calculation's structure must have it (a check). ``structure``:
    optional structure (file, element or ase.Atoms) whose nhm Crystal is returned instead of the
    calculation's (e.g. for the chemical symbols, which some codes do not write); it must have the
    same space group. ``points``: BCS names to read (default: every point of symmetry). ``nbands``:
    analyse the lowest ``nbands`` bands (default all; the topmost bands of a calculation are often
    unconverged, so set it when the highest group fails to decompose). ``ecut_eV``: plane-wave
    cutoff for the traces (default the file's; mandatory for Wannier90). ``spin_channel``: "up" or
    "dw" of a collinear spin-polarized run. ``symprec`` (Å): spglib's tolerance (default
    :data:`nhm.crystal.DEFAULT_SYMPREC`), for the calculation's cell and ``structure``.

    Raises InputError for an unknown code, an unreadable file, a spinor calculation, a supercell,
    or points of symmetry missing from the calculation.
    """
    from nhm.crystal import read_crystal
    from nhm.crystal import DEFAULT_SYMPREC
    from nhm.groups.irreps import normalize_k_name
    from nhm.groups.kpoints import points_of_symmetry

    BandStructure = require_irrep()
    symprec = DEFAULT_SYMPREC if symprec is None else symprec
    code = normalize_code(code)
    path = os.fspath(path)
    method, kwargs = _irrep_arguments(code, path, ecut_eV, spin_channel)
    state: dict[str, Any] = {}

    class _Reader(BandStructure):  # a subclass per call: intercepts irrep's k-point selection
        @classmethod
        def get_check_mpgrid(cls, *, parser: Any, spacegroup: Any, kplist: Any, EF_in: Any, NK: int, **kw: Any):  # type: ignore[override]
            # irrep calls this after reading the header and before any wave function: the place to
            # refuse spinors, find the cell map and keep only the k-points at points of symmetry
            state["fermi"] = None if EF_in is None else float(EF_in)
            if spacegroup.spinor:
                raise InputError(
                    f"{path} holds spinor wave functions (spin–orbit coupling); nhm classifies spinless bands: "
                    "run the calculation without spin–orbit coupling"
                )
            crystal = _crystal_of_file(spacegroup.real_lattice, spacegroup.positions, spacegroup.typat, symprec)
            m, s = _cell_map(crystal)
            state.update(crystal=crystal, m=m, s=s)
            table = {p.name: p for p in points_of_symmetry(crystal.space_group)}
            names = list(table) if points is None else [normalize_k_name(x) for x in points]
            for n in names:
                if n not in table:
                    raise InputError(f"space group {crystal.space_group} has no point of symmetry {n!r} (it has {', '.join(table)})")
            m_inv_t = np.rint(np.linalg.inv(m)).astype(int).T
            file_k = {ik: np.asarray(parser.get_kpt_coord(ik), dtype=float) for ik in (range(NK) if kplist is None else kplist)}
            found: dict[str, int] = {}
            for n in names:
                kp = np.array([float(x) for x in table[n].primitive])
                for ik, k in file_k.items():
                    d = m_inv_t @ k - kp
                    if np.max(np.abs(d - np.rint(d))) < _K_TOL:
                        found[n] = ik
                        break
            missing = [n for n in names if n not in found]
            if missing:
                m_t = m.T  # k_file = M^T k_p
                want = "; ".join(
                    f"{n} = ({', '.join(f'{x:.6g}' for x in m_t @ np.array([float(v) for v in table[n].primitive]))})"
                    for n in missing
                )
                raise InputError(
                    f"the calculation in {path} has no k-point at the point(s) of symmetry {', '.join(missing)} "
                    f"of space group {crystal.space_group}. Add these k-points (reciprocal basis of the "
                    f"calculation's cell, modulo reciprocal lattice vectors) in a non-self-consistent run: {want}"
                )
            state["found"] = found
            state["k"] = {n: tuple(float(x) for x in file_k[ik]) for n, ik in found.items()}
            order = sorted(set(found.values()))
            state["order"] = order
            return super().get_check_mpgrid(parser=parser, spacegroup=spacegroup, kplist=np.array(order), EF_in=EF_in, NK=NK, **kw)

    try:
        with contextlib.redirect_stdout(io.StringIO()):  # irrep prints as it reads
            bs = getattr(_Reader, method)(**kwargs)
    except NhmError:
        raise
    except Exception as exc:  # irrep's readers raise anything from AssertionError to struct.error
        raise InputError(f"irrep could not read the {code} calculation {path}: {type(exc).__name__}: {exc}") from exc

    crystal: Crystal = state["crystal"]
    sg = crystal.space_group
    if space_group is not None and int(space_group) != sg:
        raise InputError(f"the calculation in {path} has space group {sg} ({crystal.international}), not {space_group}")
    m, s = state["m"], state["s"]
    m_inv_t = np.rint(np.linalg.inv(m)).astype(int).T
    kpoints = {ik: kp for ik, kp in zip(state["order"], bs.kpoints)}
    levels: dict[str, list[BlochLevel]] = {}
    for name, ik in state["found"].items():
        kp = kpoints[ik]
        if kp.WF.shape[2] != 1:  # irrep's VASP reader cannot tell; a WAVECAR with spinors lands here
            raise InputError(f"{path} holds spinor wave functions; nhm classifies spinless bands")
        k_p = m_inv_t @ np.asarray(kp.k, dtype=float)
        g_p = np.asarray(kp.ig[:, :3], dtype=int) @ m_inv_t.T  # rows: G_p = M^-T G
        coef = kp.WF[:, :, 0] * np.exp(-2j * np.pi * ((k_p + g_p) @ s))[None, :]
        try:
            levels[name] = levels_from_plane_waves(sg, name, k_p, np.asarray(kp.Energy_raw, dtype=float), g_p, coef, nbands=nbands)
        except GroupTheoryError as exc:
            raise InputError(
                f"the states at {name} in {path} do not decompose into irreps of space group {sg} ({exc}); "
                "are the topmost bands unconverged (try nbands), or is the structure not the one computed?"
            ) from exc
    if structure is not None:
        other = structure if hasattr(structure, "space_group") and hasattr(structure, "orbits") else read_crystal(structure, symprec=symprec)
        if other.space_group != sg:
            raise InputError(f"the structure has space group {other.space_group}, the calculation in {path} {sg}")
        crystal = other
    return ExternalBands(
        code=code,
        path=path,
        crystal=crystal,
        levels=levels,
        fermi_level_eV=state["fermi"],
        k_points=state["k"],
        transformation=m,
        origin_shift=s,
    )
