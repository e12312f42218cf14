"""The group-theory commands as one pipeline for the command line and for Python: ``nhm classify`` (Krüger's
tests on a band given by its irreps), ``nhm irreps`` (the character table of a little group) and ``nhm ebr``
(elementary band representations, or those of chosen positions).

Each returns plain data with its JSON document (``as_dict``); :mod:`nhm.cli.groups` and :mod:`nhm.cli.show`
print them, :func:`nhm.api.classify`, :func:`nhm.api.irreps` and :func:`nhm.api.ebr` wrap them. Everything heavy
is imported inside the functions, so that the small commands start fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from nhm.crystal import DEFAULT_SYMPREC
from nhm.errors import InputError
from nhm.report.hooks import QUIET, Hooks

__all__ = ["ClassifyRun", "EbrTable", "IrrepTable", "classify_band", "ebr_table", "irrep_table"]


# --- nhm classify -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassifyRun:
    """Krüger's tests on one band: ``results`` (one :class:`nhm.wannier.krueger.Classification` per reading tried),
    the band (:class:`nhm.bands.symmetry.BandSymmetry`), its space group, and the crystal it came from (or None)."""

    space_group: int
    band: Any
    results: tuple[Any, ...]
    crystal: Any = None
    structure: str | None = None

    def as_dict(self) -> dict[str, Any] | list[dict[str, Any]]:
        """The JSON of ``nhm classify --json``: one document per reading (a list for two readings)."""
        out = [{"space_group": self.space_group, "band": self.band.text(), **c.as_dict()} for c in self.results]
        return out[0] if len(out) == 1 else out


def _centres(n: int, wyckoff: Sequence[str] | None, structure_orbits) -> tuple:
    from nhm.groups.wyckoff import wyckoff_position

    if wyckoff:
        letters = [w.strip() for item in wyckoff for w in item.split(",") if w.strip()]
        return tuple(wyckoff_position(n, w) for w in letters)
    if structure_orbits:
        return tuple(wyckoff_position(n, o.wyckoff_letter) for o in structure_orbits)
    raise InputError("give the Wannier centres: --wyckoff LETTER (repeatable) or --structure FILE")


def _r1_not_applicable(reason: str) -> str:
    """The note that reading R1 was tried and does not apply (e.g. a 3-dimensional level where the band has one
    branch): the verdict is then reading R2's, which a user of the default --reading both must be told."""
    return f"reading R1 does not apply ({reason.split(' (use reading R2)')[0]}); the verdict is reading R2's"


def classify_band(
    band: str,
    *,
    group: int | str | None = None,
    wyckoff: str | Sequence[str] | None = None,
    structure: Any = None,
    reading: str = "both",
    kramers: bool = False,
    wfs_per_atom: int = 1,
    symprec: float = DEFAULT_SYMPREC,
    hooks: Hooks = QUIET,
) -> ClassifyRun:
    """Krüger's tests on ``band`` (``nhm classify``; the options are its options, the same checks in the same order)."""
    from nhm.bands.symmetry import parse_band
    from nhm.crystal.setting import check_space_group_number
    from nhm.validate import positive_finite, positive_int
    from nhm.wannier.krueger import classify as run_classify

    positive_int("--wfs-per-atom", wfs_per_atom)
    positive_finite("--symprec", symprec)
    orbits = None
    crystal = None
    if structure is not None:
        from nhm.crystal import read_crystal
        from nhm.crystal.caveats import symmetry_note

        crystal = read_crystal(structure, symprec=symprec)
        note = symmetry_note(crystal)
        if note:
            hooks.warn(note)
        if group is not None and check_space_group_number(group) != crystal.space_group:
            raise InputError(f"--group {group} contradicts the structure, whose space group is {crystal.space_group}")
        n = crystal.space_group
        orbits = crystal.orbits
    elif group is not None:
        n = check_space_group_number(group)
    else:
        raise InputError("give --group N or --structure FILE")
    if reading not in ("R1", "R2", "both"):
        raise InputError(f"--reading must be R1, R2 or both, got {reading!r}")
    centres = _centres(n, [wyckoff] if isinstance(wyckoff, str) else wyckoff, orbits)
    b = parse_band(band, n)
    readings = ("R1", "R2") if reading == "both" else (reading,)
    results = []
    r1_note = None
    for r in readings:
        try:
            results.append(run_classify(b, centres, reading=r, kramers=kramers, wfs_per_atom=wfs_per_atom))  # type: ignore[arg-type]
        except InputError as exc:
            if reading != "both" or r != "R1":
                raise
            r1_note = _r1_not_applicable(str(exc))
    if r1_note is not None:  # said, not swallowed: the verdict that follows is reading R2's alone
        hooks.warn(r1_note)
        results = [replace(c, notes=(r1_note, *c.notes)) for c in results]
    label = structure if isinstance(structure, str) or structure is None else structure.get_chemical_formula()
    return ClassifyRun(n, b, tuple(results), crystal, label)


# --- nhm irreps ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IrrepTable:
    """The character table of the little group of k (``nhm irreps``): ``little_group`` (:class:`nhm.groups.irreps.
    LittleGroup`), ``operations`` (Seitz symbols), ``representations`` (irreps, or co-representations with time
    reversal) and their ``characters`` in ``convention`` (``bcs``: as Bilbao prints them, complex conjugates of
    ``physics``)."""

    space_group: int
    little_group: Any
    double: bool
    time_reversal: bool
    convention: str
    operations: tuple[str, ...]
    representations: tuple[Any, ...]
    characters: tuple[tuple[complex, ...], ...] = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The JSON of ``nhm irreps --json``."""
        lg = self.little_group
        return {
            "space_group": self.space_group,
            "k_name": lg.name,
            "k_conventional": [str(x) for x in lg.k],
            "double": self.double,
            "time_reversal": self.time_reversal,
            "convention": self.convention,
            "operations": list(self.operations),
            "irreps": [
                {
                    "label": r.label,
                    "dimension": r.dimension,
                    **({"kind": r.kind} if self.time_reversal else {"herring": r.herring}),
                    "characters": [[float(c.real), float(c.imag)] for c in chars],
                }
                for r, chars in zip(self.representations, self.characters)
            ],
        }


def irrep_table(space_group: int | str, k: str, double: bool = False, tr: bool = False, convention: str = "bcs") -> IrrepTable:
    """The character table of the little group of ``k`` (a BCS name: GM or Γ, X, ...) in ``space_group``."""
    from nhm.crystal.setting import check_space_group_number
    from nhm.groups.irreps import little_group
    from nhm.groups.seitz import seitz_symbol

    if convention not in ("bcs", "physics"):
        raise InputError(f"--convention must be 'bcs' or 'physics', got {convention!r}")
    n = check_space_group_number(space_group)
    lg = little_group(n, k, double=double)
    ops = tuple(seitz_symbol(lg.space_group.operations[i]) for i in lg.indices)
    reps = tuple(lg.coreps if tr else lg.irreps)
    conj = convention == "bcs"
    chars = tuple(tuple(complex(c).conjugate() if conj else complex(c) for c in r.characters) for r in reps)
    return IrrepTable(n, lg, double, tr, convention, ops, reps, chars)


# --- nhm ebr ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EbrTable:
    """Band representations of a space group (``nhm ebr``): ``rows`` pairs each :class:`nhm.bandrep.ebr.
    BandRepresentation` with whether it is elementary; ``kpoints`` the maximal k-vectors of its columns."""

    space_group: int
    double: bool
    time_reversal: bool
    title: str
    rows: tuple[tuple[Any, bool], ...]
    kpoints: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """The JSON of ``nhm ebr --json``."""
        return {
            "space_group": self.space_group,
            "double": self.double,
            "time_reversal": self.time_reversal,
            "band_representations": [{**_br_dict(br), "elementary": e} for br, e in self.rows],
        }


def _br_dict(br) -> dict:
    return {
        "wyckoff": br.wyckoff,
        "site_symmetry": br.site_symmetry,
        "site_irrep": br.site_irrep,
        "dimension": br.dimension,
        "irreps": br.multiplicities,
    }


def ebr_table(
    space_group: int | str, double: bool = False, tr: bool = False, wyckoff: str | None = None, all_positions: bool = False,
) -> EbrTable:
    """The elementary band representations of ``space_group`` (or the band representations induced from the
    Wyckoff position ``wyckoff``, or from every position with ``all_positions``)."""
    from nhm.bandrep.ebr import band_representations, elementary_band_representations
    from nhm.crystal.setting import check_space_group_number
    from nhm.groups.spacegroup import space_group as resolve

    n = check_space_group_number(space_group)
    if wyckoff is not None and all_positions:
        raise InputError("--wyckoff (one position) and --all-positions (every position) exclude each other: give one of them")
    g = resolve(n)
    if wyckoff is not None or all_positions:
        positions = (g.wyckoff_position(wyckoff),) if wyckoff is not None else g.wyckoff_positions
        brs = band_representations(g, double=double, time_reversal=tr, positions=positions)
        ebrs = elementary_band_representations(g, double=double, time_reversal=tr)
        elementary = {(b.wyckoff, b.site_irrep) for b in ebrs.band_representations}
        rows = tuple((br, (br.wyckoff, br.site_irrep) in elementary) for br in brs)
        title = "Band representations"
    else:
        ebrs = elementary_band_representations(g, double=double, time_reversal=tr)
        rows = tuple((br, True) for br in ebrs.band_representations)
        title = "Elementary band representations"
    return EbrTable(n, double, tr, title, rows, tuple(g.kpoint_names(double, tr)))
