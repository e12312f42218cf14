"""The public API: the pipeline of every ``nhm`` command as one Python call, returning a result you can hold.

The functions take the options of their commands, with the same names (``--no-cache`` is ``use_cache=False``)
and the same defaults, and check them the same way (an `nhm.errors.InputError` names the option as the
command line spells it). The command line is a thin layer over the same pipelines (`nhm.report`), so
``nhm analyze Nb --json -`` prints exactly ``nhm.analyze("Nb").to_dict()``.

A material is an element symbol (ASE's reference crystal), a structure file (``str`` or ``os.PathLike``: CIF,
POSCAR, anything ``ase.io.read`` reads), an ``ase.Atoms``, or a pymatgen ``Structure`` (converted by pymatgen's
``AseAtomsAdaptor``; pymatgen is optional). Warnings (caveats of the structure, an unwritable cache) are Python
warnings of category `nhm.errors.NhmWarning`. DFT results are cached in ``$NHM_CACHE_DIR`` (default
``~/.cache/nhm``), as for the command line.

Each function is also reachable at the top level: ``nhm.analyze``, ``nhm.kspace``, ``nhm.classify``,
``nhm.manybody``, ``nhm.screen``, ``nhm.irreps``, ``nhm.ebr``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from nhm.crystal import DEFAULT_SYMPREC
from nhm.errors import InputError
from nhm.results import (
    SCHEMA_VERSION,
    AnalysisResult,
    ClassifyResult,
    EbrResult,
    IrrepsResult,
    KSpaceResult,
    ManyBodyResult,
    ScreenResult,
)

__all__ = [
    "SCHEMA_VERSION", "AnalysisResult", "ClassifyResult", "EbrResult", "IrrepsResult", "KSpaceResult", "ManyBodyResult",
    "ScreenResult", "analyze", "classify", "ebr", "irreps", "kspace", "manybody", "screen", "structure_source",
]


def structure_source(material: Any) -> Any:
    """``material`` as the structure readers take it: a ``str`` (element symbol or path) or an ``ase.Atoms``.

    Accepts a ``str``, an ``os.PathLike``, an ``ase.Atoms`` or a pymatgen ``Structure`` (converted with
    ``pymatgen.io.ase.AseAtomsAdaptor``; InputError if pymatgen's adaptor cannot be imported). TypeError for
    anything else."""
    if isinstance(material, str):
        return material
    if isinstance(material, os.PathLike):
        return os.fspath(material)
    module = type(material).__module__ or ""
    if module.split(".")[0] == "pymatgen":
        try:
            from pymatgen.io.ase import AseAtomsAdaptor
        except ImportError as exc:
            raise InputError(
                f"a pymatgen {type(material).__name__} needs pymatgen's ASE adaptor (pymatgen.io.ase), which does not import "
                f"({exc}): pip install pymatgen, or pass an ase.Atoms or a structure file"
            ) from exc
        return AseAtomsAdaptor.get_atoms(material)
    import ase

    if isinstance(material, ase.Atoms):
        return material
    raise TypeError(
        f"a material is an element symbol, a structure file, an ase.Atoms or a pymatgen Structure, not {type(material).__name__}"
    )


def analyze(
    material: str | os.PathLike[str] | Any,
    *,
    a: float | None = None,
    kmesh: int | None = None,
    kdensity: float | None = None,
    maxiter: int = 100,
    ecut: float = 500.0,
    xc: str = "PBE",
    smearing: float = 0.1,
    window: float | None = None,
    reading: str = "both",
    kramers: bool = False,
    centres: str | Sequence[str] | None = None,
    filling_min: float = 0.25,
    filling_max: float = 0.75,
    width_factor: float = 1.0,
    width_reference: str = "free-electron",
    spacing: float = 0.08,
    mesh: int | None = None,
    symprec: float = DEFAULT_SYMPREC,
    from_dft: str | None = None,
    fermi: float | None = None,
    nbands: int | None = None,
    use_cache: bool = True,
) -> AnalysisResult:
    """Does the crystal have a superconducting band? The whole ``nhm analyze``: GPAW bands, irreps at the points and
    along the lines of symmetry, the connected candidate bands, their measures over the zone, the verdict.

    Args:
        material: element symbol, structure file, ``ase.Atoms`` or pymatgen ``Structure``.
        a: lattice constant in Å (element symbols only).
        kmesh: n of the Γ-centred n×n×n SCF mesh (also the zone mesh unless ``mesh``); default 12.
        kdensity: instead of ``kmesh``: k-points per Å⁻¹ (GPAW's ``kpts={'density': D}``).
        maxiter: SCF iterations before giving up.
        ecut: plane-wave cutoff (eV).
        xc: exchange–correlation functional.
        smearing: Fermi–Dirac smearing kT (eV).
        window: narrow the search to levels within ±window eV of E_F (default: the bands that cross E_F decide).
        reading: ``"R1"``, ``"R2"`` or ``"both"`` (docs/theory.md).
        kramers: pair 1-dim double site irreps by time reversal.
        centres: the atom orbits or Wyckoff positions that carry the Wannier functions (``"2a"``, ``"B"``,
            ``["2a", "4b"]``); default every atom orbit.
        filling_min: the verdict's lowest filling of a roughly half-filled band.
        filling_max: the verdict's highest filling.
        width_factor: a narrow band is at most this times the reference width.
        width_reference: ``"free-electron"`` (W_FE(μ)), ``"median"`` or ``"widest"`` of the bands at E_F.
        spacing: distance between samples on the lines of symmetry (1/Å, 2π convention).
        mesh: n of the zone mesh for width, filling and DOS (default: the SCF's).
        symprec: spglib's tolerance (Å).
        from_dft: skip GPAW and read ``CODE:PATH`` (espresso, vasp, abinit, wannier90, gpaw; needs ``irrep``).
        fermi: with ``from_dft``: the Fermi level (eV, the file's zero).
        nbands: with ``from_dft``: analyse only the lowest N bands.
        use_cache: take a cached DFT result if there is one (``False``: ``--no-cache``).

    Returns:
        The verdict, the candidates with their measures, levels and lines; ``.plot()`` draws the band figure.
    """
    options = {name: value for name, value in locals().items() if name != "material"}  # every option, by its name
    from nhm.report.run_analyze import analyze_request, run_request

    an, _ = run_request(analyze_request(structure_source(material), options))
    return AnalysisResult(an)


def kspace(
    material_or_model: str | os.PathLike[str] | Any,
    *,
    mesh: int | None = None,
    site: str | None = None,
    allow_usual: bool = False,
    mode: str = "projective",
    window: float | None = None,
    candidate: int = 1,
    max_memory: float = 8.0,
    symprec: float = DEFAULT_SYMPREC,
    kmesh: int | None = None,
    ecut: float | None = None,
) -> KSpaceResult:
    """k-space magnetism of a band (``nhm kspace``): the Bloch spinors F(k), the spin axes z_k on the band's Fermi
    surface, the forced jumps and the spin-dependent Wannier functions.

    Args:
        material_or_model: a model band (``"bcc:GM1+,H1+,P1,N2+"``, ``"229:a:GM1+,H1+,P1,N2+"``), a tight-binding band
            (``"tb:bcc-sd"``, ``"tb:bcc-sd:5"``) or a material (element symbol, structure file, ``ase.Atoms``, pymatgen
            ``Structure``): then ``nhm analyze`` runs and its candidate is built from its own GPAW Bloch states.
        mesh: n of the Γ-centred n×n×n mesh; default the admissible n nearest to 16 from above.
        site: double-valued site representation of the spin-dependent WFs (default: the classifier's first).
        allow_usual: also build a usual band (its F is constant).
        mode: the spread minimised: ``"projective"`` (spin frame) or ``"plain"``.
        window: materials: narrow ``nhm analyze``'s search range to ±window eV.
        candidate: materials: which candidate of ``nhm analyze`` (1 = the best).
        max_memory: refuse meshes whose estimated memory exceeds this many GiB.
        symprec: materials: spglib's tolerance (Å).
        kmesh: materials: n of the SCF's Γ-centred n×n×n k-mesh of ``nhm analyze`` (also its zone mesh; default 12).
        ecut: materials: plane-wave cutoff of that run in eV (default 500).

    Returns:
        The band's verdict, residuals, spread and k-space magnetism on its Fermi surface; ``.plot(kind=...)`` draws
        seed Fig. 1 (a), (b) and the Fermi surface.
    """
    options = {name: value for name, value in locals().items() if name != "material_or_model"}  # every option, by its name
    from nhm.report.run_kspace import kspace_request, run_request

    spec = material_or_model if isinstance(material_or_model, str) else structure_source(material_or_model)
    return KSpaceResult(run_request(kspace_request(spec, options)))


def classify(
    band: str,
    *,
    group: int | str | None = None,
    wyckoff: str | Sequence[str] | None = None,
    structure: str | os.PathLike[str] | Any = None,
    reading: str = "both",
    kramers: bool = False,
    wfs_per_atom: int = 1,
    symprec: float = DEFAULT_SYMPREC,
) -> ClassifyResult:
    """Krüger's tests on a band given by its irreps (``nhm classify``): usual Wannier functions (test U),
    spin-dependent ones (test S), or neither; a superconducting band passes only test S.

    Args:
        band: one ``K:LABEL`` per point of symmetry, e.g. ``"GM:GM1+ H:H1+ P:P1 N:N2+"``.
        group: the space-group number (or take it from ``structure``).
        wyckoff: the Wyckoff position(s) of the Wannier centres (``"2a"``, ``["2a", "4b"]``).
        structure: a crystal (element symbol, structure file, ``ase.Atoms``, pymatgen ``Structure``): its group and
            atom positions.
        reading: ``"R1"`` (strict), ``"R2"`` (relaxed) or ``"both"``.
        kramers: pair 1-dim double site irreps by time reversal.
        wfs_per_atom: usual WFs per atom (the site representation's dimension).
        symprec: with ``structure``: spglib's tolerance (Å).

    Returns:
        One classification per reading, with the site representations and the comparison at every point.
    """
    from nhm.report.run_groups import classify_band

    return ClassifyResult(classify_band(
        band, group=group, wyckoff=wyckoff, structure=None if structure is None else structure_source(structure),
        reading=reading, kramers=kramers, wfs_per_atom=wfs_per_atom, symprec=symprec,
    ))


def manybody(
    *,
    lattice: str = "chain",
    sites: int = 8,
    electrons: int | None = None,
    U: float = 4.0,
    V: float | Sequence[float] | None = None,
    J: float | Sequence[float] | None = None,
    P: float | Sequence[float] | None = None,
    t: float = 1.0,
    t2: float = 0.0,
    interaction: str = "hubbard",
    alpha: float = 4.0,
    coulomb: float = 2.0,
    field: str = "texture",
    strength: float = 1.0,
    supercell: Sequence[Sequence[int]] | str | None = None,
    scan: str | None = None,
    values: Sequence[float] | str | None = None,
    selection: bool = False,
    selection_sites: int = 16,
) -> ManyBodyResult:
    """Exact ground states of the NHM Hamiltonian H and of H′ = H − H_z on a periodic cluster, the condensation
    energy ΔE (``nhm manybody``), and with ``selection`` the Cooper-pair selection rule on a k mesh.

    Args:
        lattice: ``chain``, ``square``, ``triangular``, ``cubic``, ``bcc`` or ``fcc``.
        sites: N, the sites of the cluster (≤ 16).
        electrons: N_e (default: half filling, N_e = N).
        U: on-site interaction U / t.
        V: density interaction per neighbour shell (a number or one per shell).
        J: exchange integral ⟨ij|v|ji⟩ per shell (J > 0 ferromagnetic).
        P: pair hopping ⟨ii|v|jj⟩ per shell.
        t: nearest-neighbour hopping (the energy unit).
        t2: next-nearest-neighbour hopping t′.
        interaction: ``hubbard`` (U, V, J, P) or ``gaussian`` (Coulomb integrals of s-Gaussians).
        alpha: Gaussian exponent α in 1/a² (gaussian interaction).
        coulomb: e²/(4πε₀a) in units of t (gaussian interaction).
        field: F(k): ``identity``, ``spiral`` or ``texture``.
        strength: λ ∈ [0, 1] of the k-space magnetic structure.
        supercell: explicit supercell rows, e.g. ``[[2, 2], [2, -2]]`` (default: the most compact cluster).
        scan: scan ΔE over ``U``, ``filling``, ``sites`` or ``strength``.
        values: the scan's values (default: a standard grid).
        selection: also test the Cooper-pair selection rule on a k mesh.
        selection_sites: the size of that mesh.

    Returns:
        ΔE and the ground states (or the scan), the selection rule; ``.plot()`` draws the command's figures.
    """
    options = dict(locals())  # every option, by its name
    from nhm.report.run_manybody import manybody_request, run_request

    return ManyBodyResult(run_request(manybody_request(options)))


def irreps(space_group: int | str, k: str, *, double: bool = False, tr: bool = False, convention: str = "bcs") -> IrrepsResult:
    """The character table of the little group of ``k`` (``nhm irreps``), with Bilbao's labels.

    Args:
        space_group: 1–230 (BCS setting).
        k: the BCS name of a maximal k-vector (``"GM"`` or ``"Γ"``, ``"N"``, ...).
        double: double-valued (spinor) representations.
        tr: with time reversal (co-representations of the grey group).
        convention: ``"bcs"`` (characters as Bilbao prints them) or ``"physics"`` (D({E|t}) = exp(−ik·t)).
    """
    from nhm.report.run_groups import irrep_table

    return IrrepsResult(irrep_table(space_group, k, double, tr, convention))


def ebr(
    space_group: int | str, *, double: bool = False, tr: bool = False, wyckoff: str | None = None, all_positions: bool = False,
) -> EbrResult:
    """The elementary band representations of a space group (``nhm ebr``), or the band representations induced from
    one Wyckoff position (``wyckoff``) or from every position (``all_positions``).

    Args:
        space_group: 1–230 (BCS setting).
        double: double-valued (spinor) representations.
        tr: with time reversal.
        wyckoff: band representations from this Wyckoff position only (any position, ``"6c"``).
        all_positions: band representations from every Wyckoff position, maximal or not.
    """
    from nhm.report.run_groups import ebr_table

    return EbrResult(ebr_table(space_group, double, tr, wyckoff, all_positions))


def screen(
    crystals: Iterable[str | os.PathLike[str]] = (),
    *,
    elements: str | None = None,
    compounds: str | None = None,
    include_flagged: bool = False,
    db: str = "nhm-screen.db",
    scheduler: Any = None,
    workers: int | None = None,
    force: bool = False,
    retry_failed: bool = False,
    timeout: float | None = None,
    kmesh: int = 12,
    ecut: float = 500.0,
    xc: str = "PBE",
    smearing: float = 0.1,
    spacing: float = 0.08,
    mesh: int | None = None,
    window: float | None = None,
    reading: str = "both",
    kramers: bool = False,
    filling_min: float = 0.25,
    filling_max: float = 0.75,
    width_factor: float = 1.0,
    width_reference: str = "free-electron",
    use_cache: bool = True,
    progress: bool = False,
) -> ScreenResult:
    """Screen many crystals (``nhm screen``): ``nhm analyze`` on each as a Dask task, one row per crystal in an ASE
    database; crystals the database has for the same parameters are skipped (resumable).

    Args:
        crystals: element symbols, structure files, or directories of them.
        elements: ``"all"``: every element nhm can compute and the model covers.
        compounds: ``"all"`` or a family of the shipped compound table (``"rocksalt-carbides"``, ``"rocksalt-nitrides"``, ``"diborides"``): the
            compounds built at their measured lattice constants, each judged for every choice of centres.
        include_flagged: with ``elements="all"``: also magnetic elements and those whose reference crystal is not
            the measured phase.
        db: the ASE database: an SQLite file or a server URL (``postgresql://user@host:5432/db``).
        scheduler: a running Dask scheduler's address (or a ``distributed.Client``); default a local cluster.
        workers: worker processes of the local cluster (default one per core).
        force: recompute crystals that already have a row.
        retry_failed: recompute crystals whose row records a failure.
        timeout: seconds one crystal may take.
        kmesh: n of the SCF's n×n×n mesh; ecut, xc, smearing, spacing, mesh, window, reading, kramers and the
            criteria (filling_min, filling_max, width_factor, width_reference): as for `analyze`.
        ecut: plane-wave cutoff (eV).
        xc: exchange–correlation functional.
        smearing: Fermi–Dirac smearing kT (eV).
        spacing: distance between samples on the lines of symmetry (1/Å).
        mesh: n of the zone mesh (default: ``kmesh``).
        window: narrow the search range to ±window eV.
        reading: ``"R1"``, ``"R2"`` or ``"both"``.
        kramers: pair 1-dim double site irreps by time reversal.
        filling_min: the verdict's lowest filling.
        filling_max: the verdict's highest filling.
        width_factor: a narrow band is at most this times the reference width.
        width_reference: ``"free-electron"``, ``"median"`` or ``"widest"``.
        use_cache: use the DFT cache.
        progress: show the progress bar on stderr (the command line does).

    Returns:
        What was computed, failed, skipped; ``.report()`` compares the rows with measured superconductivity and
        ``.plot()`` draws the periodic table.
    """
    from nhm.report.run_analyze import readings_of
    from nhm.screen.params import checked_parameters
    from nhm.screen.run import screen as run_screen
    from nhm.wannier.verdict import Criteria

    params = checked_parameters(
        scheduler=scheduler, workers=workers, timeout=timeout, ecut=ecut, xc=xc, kmesh=kmesh, smearing=smearing,
        spacing=spacing, mesh=mesh, window=window, readings=readings_of(reading), kramers=kramers,
        criteria=Criteria(filling_min, filling_max, width_factor, width_reference),
    )
    summary = run_screen(
        [os.fspath(c) for c in crystals], elements=elements, compounds=compounds, include_flagged=include_flagged, db=db,
        scheduler=scheduler, workers=workers, force=force, retry_failed=retry_failed, parameters=params, timeout=timeout,
        use_cache=use_cache, progress=progress,
    )
    return ScreenResult(summary)
