"""One k-space-magnetism run: band + Wyckoff centre + site representation + mesh -> field, checks, report.

:func:`run_kspace` is the hook for every source of a band (a model band written by hand, the best
superconducting candidate of ``nhm analyze``, a tight-binding band); :func:`result_json` turns its
plain result into JSON-ready data (I/O stays in the CLI).

A band of μ > 1 branches runs through :func:`run_orbit_kspace` (F(k) ∈ U(2μ), :mod:`nhm.kspace.construction.orbit`)
and :func:`orbit_result_json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from nhm.bands.symmetry import BandSymmetry
from nhm.errors import InputError
from nhm.groups.wyckoff import WyckoffPosition
from nhm.kspace.analysis.checks import FieldChecks, JumpReport, check_field, jump_report
from nhm.kspace.analysis.fermi import AXIS_VARIATION_TOL, axis_variation, fermi_points, fermi_surface_axes
from nhm.kspace.analysis.wannier import DecayFit, WannierData, decay_fit, wannier_functions
from nhm.kspace.constraints.characters import BandCharacters
from nhm.kspace.constraints.site import SpinSiteRepresentation, orbit_site_representation, spin_site_representation
from nhm.kspace.construction.field import SpinorField, spread
from nhm.kspace.construction.optimise import build_field
from nhm.kspace.construction.orbit import bond_terms, build_orbit_field
from nhm.kspace.mesh import KMesh, make_mesh
from nhm.kspace.sources.model import model_band_characters


@dataclass(frozen=True, eq=False)
class KSpaceResult:
    band: BandSymmetry
    verdict: str  # of Krüger's tests (reading ``reading``)
    site_representation: str
    field: SpinorField
    checks: FieldChecks
    jumps: JumpReport
    wannier: WannierData
    decay: DecayFit
    notes: tuple[str, ...] = field(default=())
    reading: str = "R1"
    fermi_surface: dict = field(default_factory=dict)  # fermi_surface_axes: k-space magnetism on the Fermi surface


def r2_point_list(fld: SpinorField) -> list[dict]:
    """The R2 representatives of the field's mesh (all stars, partner stars included) as JSON-ready dicts:
    conventional k, a name (the point of symmetry, or the order of the little co-group on a line/plane),
    d, mesh points in the star, solution dimension and freedom of (E1)/(E2), residuals."""
    from nhm.groups.kpoints import points_of_symmetry

    chars = fld.characters
    mesh = fld.mesh
    named = {}
    for pt in points_of_symmetry(mesh.space_group):
        named.setdefault(int(mesh.star_rep[mesh.index_of(pt.primitive)]), pt.name)
    out = []
    for m, p in sorted(chars.r2_points.items()):
        out.append({
            "k_conventional": [str(x) for x in mesh.k_conventional(m)],
            "name": named.get(int(m), f"line or plane (|G_k| = {int(mesh.cogroup_order[m])})"),
            "d": int(p.d),
            "star_points": int(np.sum(mesh.star_rep == m)),
            "solution_dimension": int(p.solution_dimension),
            "freedom": int(p.freedom),
            "symmetry_residual": float(p.symmetry_residual),
            "isometry_residual": float(p.isometry_residual),
            "time_reversal_residual": float(p.time_reversal_residual),
        })
    return out


def usual_choice(fld: SpinorField) -> dict:
    """The usual (spin-independent) Wannier functions of the same band for comparison: F ≡ 1 (each spin
    keeps its own axis everywhere). Their phase-free spread, with the band's spatial overlaps where known
    (the bonds of R2 points with their fixed Bloch spinors), in a²; and how far F ≡ 1 is from the symmetry
    constraints, max|λ − 1|·√2 over every λ_h(k) and λ^Γ (0 for a usual band: then it is the optimum)."""
    mesh = fld.mesh
    f1 = np.broadcast_to(np.eye(2, dtype=complex), (mesh.size, 2, 2)).copy()
    f1[~fld.defined] = np.nan
    chars = fld.characters
    lams = [np.asarray(v) for v in chars.lam.values()] + [np.asarray(chars.lam_gamma)]
    violation = float(np.sqrt(2) * max(float(np.max(np.abs(x - 1))) for x in lams))
    key = "spread_with_spatial_overlaps" if fld.overlaps is not None else "spread_projective"
    return {key: spread(mesh, f1, projective=True, overlaps=fld.overlaps, r2=fld.r2), "symmetry_violation": violation}


def run_kspace(
    band: BandSymmetry,
    centres: WyckoffPosition | Sequence[WyckoffPosition],
    site_rep_name: str | None,
    mesh: int,
    *,
    require_superconducting: bool = True,
    mode: str = "projective",
    characters: Callable[[KMesh, SpinSiteRepresentation], BandCharacters] | None = None,
    overlaps: Callable[[KMesh], np.ndarray] | None = None,
    reading: str = "R1",
    energies: Callable[[KMesh], np.ndarray] | None = None,
    fermi_level: float | None = None,
) -> KSpaceResult:
    """k-space magnetism of ``band`` with spin-dependent WFs on ``centres`` (one Wyckoff position with one
    atom per primitive cell) transforming as ``site_rep_name`` (default: the first the classifier finds).

    Raises InputError if the band is not superconducting while ``require_superconducting`` (a usual band
    has k-independent F; "neither" has no spin-dependent WFs at all), for more than one centre orbit,
    and for meshes that miss a point of symmetry. ``characters`` replaces the model band's Voronoi
    assembly: ``characters(mesh, site)`` computes λ from Bloch states (e.g. :func:`nhm.kspace.sources.tightbinding.
    tight_binding_characters`), on the mesh and on the coarser meshes of the coarse-to-fine optimisation;
    ``overlaps(mesh)`` gives |M_kb| of the spatial band, which then enters the spread. ``reading``
    is the reading of Krüger's tests (R2 for a band that lies in multi-dimensional levels at points of
    symmetry; its R2 points then come from ``characters``, e.g. ``tight_binding_characters(...,
    reading="R2")``). ``energies(mesh)`` (N,) eV of the band and ``fermi_level`` (eV; default: half
    filling of the band) locate its Fermi surface for :func:`fermi_surface_axes`.
    """
    from nhm.wannier.krueger import classify

    cs = [centres] if isinstance(centres, WyckoffPosition) else list(centres)
    if len(cs) != 1:
        raise InputError(f"k-space magnetism is built for one atom per primitive cell (one Wyckoff orbit); got {len(cs)} orbits")
    w = cs[0]
    c = classify(band, [w], reading=reading)
    notes = list(c.notes)
    if c.verdict == "neither":
        raise InputError(
            f"the band {band.text()} admits neither usual nor spin-dependent WFs on {w.label} (reading {reading}): there is no F(k) to construct"
        )
    if c.verdict != "superconducting" and require_superconducting:
        raise InputError(
            f"the band {band.text()} is {c.verdict} on {w.label}, not superconducting: its F(k) is k-independent "
            "(allow usual bands to see it)"
        )
    name = site_rep_name or c.spin_site_representations[0][0]
    site = spin_site_representation(band.space_group, w, name)
    m = make_mesh(band.space_group, mesh)

    def rebuild(mm):
        return model_band_characters(mm, band, site) if characters is None else characters(mm, site)

    fld = build_field(rebuild(m), mode=mode, rebuild=rebuild, overlaps=overlaps)
    if fld.k_independence.possible != (c.verdict == "usual"):
        notes.append(
            f"k-independence ({fld.k_independence.possible}) disagrees with Krüger's test U ({c.verdict}): "
            "the site representation differs from the usual band's"
        )
    wd = wannier_functions(fld)
    if fld.r2 is not None and len(fld.r2.points):
        notes.append(
            f"reading R2: {len(fld.r2.points)} of {fld.mesh.size} mesh points are R2 points (the band's level is "
            "multi-dimensional there): F is undefined and their Bloch spinors are fixed isometries; the spin-only "
            "spreads and g(R) leave them out, the spread with spatial overlaps includes their bonds"
        )
    e = None if energies is None else np.asarray(energies(fld.mesh), dtype=float)
    ef = None if e is None else (float(np.median(e)) if fermi_level is None else float(fermi_level))
    fs = fermi_surface_axes(fld, e, ef)
    return KSpaceResult(band, c.verdict, site.label, fld, check_field(fld), jump_report(fld), wd, decay_fit(wd), tuple(notes), reading, fs)


def result_json(res: KSpaceResult) -> dict:
    f = res.field
    r = f.residuals
    ch = res.checks
    return {
        "space_group": res.band.space_group,
        "band": res.band.text(),
        "verdict": res.verdict,
        "reading": res.reading,
        "site_representation": res.site_representation,
        "mesh": f.mesh.divisions[0],
        "mesh_divisions": list(f.mesh.divisions),
        "constraint_residual": max(r.constraint, r.star),
        "little_group_residual": r.constraint,
        "star_residual": r.star,
        "time_reversal_residual": r.time_reversal,
        "unitarity_residual": r.unitarity,
        "residuals_note": "constraint, time-reversal and unitarity residuals where F is defined (not at R2 points)",
        "r2_points": r2_point_list(f),
        "r2_residuals": None if f.r2 is None else {
            "propagated_vs_direct": f.r2.direct, "symmetry_and_time_reversal": f.r2.symmetry,
            "star_time_reversal_gauge": f.r2.gauge, "isometry": f.r2.isometry,
        },
        "r2_mesh_points": 0 if f.r2 is None else int(len(f.r2.points)),
        "spread": f.spread,
        "spread_projective": f.spread_projective,
        "spread_with_spatial_overlaps": f.spread_with_overlaps,
        "spread_units": "a² (a = conventional lattice constant), both spin-dependent WFs",
        "k_independent_possible": f.k_independence.possible,
        "optimisation": {"mode": f.mode, "iterations": f.iterations, "converged": f.converged},
        "checks": {
            "kramers_opposite_spin": ch.kramers,
            "axis_field_even": ch.axis_even,
            "spin_frame_covariance": ch.frame_covariance,
            "spin_axis_covariance_about_z": ch.axis_covariance,
            "operations_preserving_z": ch.axis_covariance_ops,
            "lifts_match_frame": ch.lifts_match_frame,
            "continuity_max": ch.continuity_max,
            "continuity_mean": ch.continuity_mean,
        },
        "jumps": res.jumps.as_dict(),
        "wannier": {
            "centres_a": res.wannier.centres.tolist(),
            "spreads_a2": res.wannier.spreads.tolist(),
            "home_site_weight": float(abs(res.wannier.norms[0]) ** 2 / 2),
        },
        "decay_fit": res.decay.as_dict(),
        "k_space_magnetism": res.fermi_surface,
        "usual_choice": usual_choice(f),
        "notes": list(res.notes),
    }


# ----------------------------------------------------------------------------- bands of μ > 1 branches (nhm.kspace.construction.orbit)


@dataclass(frozen=True, eq=False)
class OrbitResult:
    band: BandSymmetry
    verdict: str
    field: object  # nhm.kspace.construction.orbit.OrbitField
    fermi_surface: dict
    notes: tuple[str, ...] = ()


def orbit_classification(band: BandSymmetry, centre: WyckoffPosition, reading: str = "R1", require_superconducting: bool = True):
    """Krüger's tests for a band of several branches; InputError for 'neither', and for a usual band unless allowed
    (cheap: callers run it before any DFT run on the mesh)."""
    from nhm.wannier.krueger import classify

    c = classify(band, [centre], reading=reading)
    if c.verdict == "neither":
        raise InputError(f"the band {band.text()} admits neither usual nor spin-dependent WFs on {centre.label} (reading {reading})")
    if c.verdict != "superconducting" and require_superconducting:
        raise InputError(
            f"the band {band.text()} is {c.verdict} on {centre.label}, not superconducting: its spin axes can be k-independent "
            "(--allow-usual to build it anyway)"
        )
    return c


def run_orbit_kspace(
    band: BandSymmetry, centre: WyckoffPosition, site_rep_name: str | None, mesh: KMesh, source, *,
    require_superconducting: bool = True, reading: str = "R1", energies: np.ndarray | None = None,
    fermi_level: float | None = None,
) -> OrbitResult:
    """k-space magnetism of a band of μ > 1 branches (F(k) ∈ U(2μ), :mod:`nhm.kspace.construction.orbit`) from its Bloch states
    ``source`` on ``mesh``; ``energies`` (N, μ) eV and ``fermi_level`` locate its Fermi surface."""
    c = orbit_classification(band, centre, reading, require_superconducting)
    name = site_rep_name or c.spin_site_representations[0][0]
    site = orbit_site_representation(band.space_group, centre.label, name)
    fld = build_orbit_field(mesh, source, site, random_starts=0)  # starts: the atom-centred trial projection and the identity
    axes = fld.spin_axes[:, 0]  # column (atom 1, m = +½)
    zone = {"points": int(mesh.size), "axis_variation": axis_variation(axes),
            "min_length": float(np.min(np.linalg.norm(axes, axis=1)))}
    if energies is not None and fermi_level is not None:
        idx = fermi_points(mesh, energies, fermi_level)
        where = "mesh points with a stencil bond across E_F in one of the band's branches (its own Fermi surface)"
    else:
        idx = np.zeros(0, dtype=int)
        where = "no band energies"
    fs = {"points": int(len(idx)), "where": where, "tolerance": AXIS_VARIATION_TOL, "whole_zone": zone}
    if len(idx):
        v = axis_variation(axes[idx])
        fs.update(axis_variation=v, present=bool(v > AXIS_VARIATION_TOL))
    else:
        fs.update(axis_variation=None, present=None)
    notes = list(c.notes)
    if not len(idx):
        notes.append("the band does not cross E_F (filled or empty): no Fermi surface; 'whole_zone' gives the spin axes' variation over the zone")
    return OrbitResult(band, c.verdict, fld, fs, tuple(notes))


def orbit_result_json(res: OrbitResult) -> dict:
    f = res.field
    r = f.residuals
    return {
        "space_group": res.band.space_group,
        "band": res.band.text(),
        "verdict": res.verdict,
        "reading": "R1",
        "branches": f.mu,
        "site_representation": f.site.label,
        "mesh": f.mesh.divisions[0],
        "constraint_residual": max(r["little_group"], r["star_sampled"], r["constraint_space"]),
        "little_group_residual": r["little_group"],
        "star_residual_sampled": r["star_sampled"],
        "time_reversal_residual": r["time_reversal"],
        "unitarity_residual": r["unitarity"],
        "residuals_note": (f"little group at every mesh point with a nontrivial one, time reversal at every point, star relations "
                           f"at {r['star_samples']} random (operation, k) pairs; D(a) and C from the unfolded states"),
        "r2_points": [],
        "spread_with_spatial_overlaps": f.spread,
        "spread_units": f"a² (a = conventional lattice constant), all {2 * f.mu} spin-dependent WFs",
        "constraint_space_dimensions": sorted({int(d) for d in f.dims}),
        "points_without_spin_independent_F": _needs_spin(f),
        "where_the_spread_sits": _spread_sites(f),
        "optimisation": {"iterations": f.iterations, "converged": f.converged, "spreads_of_starts": list(f.starts)},
        "k_space_magnetism": res.fermi_surface,
        "usual_choice": f.usual,
        "notes": list(res.notes),
    }


def _needs_spin(f) -> dict:
    """The stars where no symmetric spin-independent F = W ⊗ 1₂ exists (the band's states there do not carry the
    representation of symmetric usual WFs on the orbit): only spin-dependent WFs fit the band at those k."""
    mesh = f.mesh
    stars = [{"k_conventional": [str(x) for x in mesh.k_conventional(int(m))], "little_cogroup_order": int(mesh.cogroup_order[m]),
              "star_points": int(np.sum(mesh.star_rep == m) + (np.sum(mesh.star_rep == mesh.star_rep[mesh.minus[m]]) if mesh.partner_rep[m] != m else 0))}
             for m in f.needs_spin]
    return {"stars": stars, "mesh_points": int(sum(x["star_points"] for x in stars))}


def _spread_sites(f) -> dict:
    """How the spread divides between the stencil bonds that touch the stars without a spin-independent F and the rest,
    and the bonds that carry the most (the jumps of F: k of both ends, conventional, and the order of their little
    co-groups, 1 for a general point)."""
    mesh = f.mesh
    _, _, table = mesh.neighbours
    terms = bond_terms(mesh, f.f, f.overlaps)
    direct = np.where(mesh.time_reversed, mesh.minus, np.arange(mesh.size))
    odd = np.isin(mesh.star_rep[direct], f.needs_spin)
    touch = odd[:, None] | odd[table]
    total = float(np.sum(terms))
    flat = terms.ravel()
    key = np.round(flat / max(total, 1e-300), 10)  # symmetry-equivalent bonds carry the same term: one entry per class
    bonds: list[dict] = []
    for i in np.argsort(flat)[::-1]:
        if len(bonds) == 5:
            break
        if bonds and key[i] == bonds[-1]["_key"]:
            continue
        k, b = divmod(int(i), table.shape[1])
        q = int(table[k, b])
        bonds.append({"from": [str(x) for x in mesh.k_conventional(k)], "to": [str(x) for x in mesh.k_conventional(q)],
                      "little_cogroup_orders": [int(mesh.cogroup_order[k]), int(mesh.cogroup_order[q])],
                      "share_each": float(flat[i] / total) if total > 0 else 0.0, "equivalent_bonds": int(np.sum(key == key[i])),
                      "_key": key[i]})
    for x in bonds:
        del x["_key"]
    return {"fraction_on_bonds_touching_those_stars": float(np.sum(terms[touch]) / total) if total > 0 else 0.0,
            "bonds_touching_those_stars": float(np.mean(touch)), "largest_bonds": bonds}
