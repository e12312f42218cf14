"""Memory estimate of one ``nhm analyze`` run (SCF, then the NSCF over the lines and the zone mesh), so that
a crystal or options too large for the machine are refused before GPAW starts, not after it ran out.

The estimate is an upper bound of the peak, built from the sizes that dominate it:

- plane waves per k-point, V k_max³ / (6π²) (:func:`plane_wave_count`), and the bands
  GPAW computes (:func:`nhm.bands.dft_parameters.default_nbands` plus the extra converged and computed bands);
- SCF: the wave functions of the irreducible k-points (the full mesh over twice the point group, time
  reversal included), in WAVE_FUNCTION_COPIES copies (Davidson's work arrays), and the density grids;
- NSCF over the zone: the wave functions of every line sample and point of symmetry (they are kept to label
  the states by their irreps) and of the irreducible zone mesh, and the tables that unfold the mesh.

A big lattice constant, a high cutoff, a dense k-mesh or zone mesh and a fine line spacing all enter here;
the refusal says which numbers to change, and $NHM_MAX_MEMORY_GIB sets the budget deliberately.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nhm.validate import check_memory_need, kmesh_size

BASE_BYTES = 400 * 2**20
"""Python, numpy, GPAW and its setups before any k-point: measured ~300 MB for an Al SCF at kmesh 2."""

WAVE_FUNCTION_COPIES = 3
"""Arrays of the size of the wave functions GPAW's Davidson eigensolver holds at once (ψ, residuals, H ψ)."""

GRID_ARRAYS = 40
"""Real-space arrays on the density grid (density, potentials, mixer history of 5 steps, FFT work)."""

DENSITY_GRID_PER_PLANE_WAVE = 8
"""Points of the density grid per plane wave of the wave functions (twice the cutoff radius: 2³)."""

UNFOLD_BYTES_PER_OPERATION = 32
"""Per zone-mesh point and operation (± each rotation): the images (three int64) and their codes (one)."""


def plane_wave_count(volume_A3: float, ecut_eV: float) -> int:
    """Plane waves in the cutoff sphere of a cell of ``volume_A3`` Å³ at ``ecut_eV``: V k_max³ / (6π²)."""
    from ase.units import Bohr, Ha

    k_max = math.sqrt(2 * ecut_eV / Ha) / Bohr  # 1/Å
    return int(volume_A3 * k_max**3 / (6 * math.pi**2)) + 1


def _irreducible(count: int, rotations: int) -> int:
    """A lower bound of the stars (time reversal included) of a mesh of ``count`` points: count / (2|P|)."""
    return max(1, math.ceil(count / (2 * rotations)))


def _line_samples(crystal: Any, spacing: float) -> float:
    """Samples on all lines of symmetry at ``spacing`` (1/Å, 2π convention), as :func:`nhm.bands.lines.line_samples`
    counts them; a float, so that an absurd spacing gives a big number, not an overflow."""
    from nhm.bands.dft_zone import crystal_metric
    from nhm.groups.lines import lines_of_symmetry

    b = crystal_metric(crystal)
    lines = lines_of_symmetry(crystal.space_group, (b @ b.T) / (2 * np.pi) ** 2)
    step = spacing / (2 * np.pi)
    return float(sum(max(8.0, math.ceil(min(line.length / step, 1e18))) + 1 for line in lines))


def dft_memory_bytes(crystal: Any, params: Any, *, spacing: float, mesh: int | None, with_zone: bool = True) -> tuple[float, str]:
    """``(bytes, what)``: the estimated peak memory of the analysis of ``crystal`` (an nhm Crystal) with
    ``params`` (DftParameters), and a description of the sizes that make it."""
    from nhm.bands.dft_parameters import EXTRA_COMPUTED_BANDS, EXTRA_CONVERGED_BANDS, default_nbands
    from nhm.bands.zone import primitive_rotations

    prim = crystal.primitive_atoms()
    volume = abs(float(np.linalg.det(prim.cell[:])))
    n_pw = plane_wave_count(volume, params.mode_ecut_eV)
    bands = default_nbands(crystal, params) + EXTRA_CONVERGED_BANDS + EXTRA_COMPUTED_BANDS
    rotations = len(primitive_rotations(crystal.space_group))
    wave_function = 16.0 * n_pw * bands  # complex128 per k-point
    n_scf = _irreducible(int(np.prod(params.kmesh_size)), rotations)
    scf = WAVE_FUNCTION_COPIES * wave_function * n_scf + 8.0 * GRID_ARRAYS * DENSITY_GRID_PER_PLANE_WAVE * n_pw
    what = f"{n_scf:,} irreducible k-points of the SCF"
    need = scf
    if with_zone:
        n_mesh = max(params.kmesh_size) if mesh is None else mesh
        points = float(n_mesh) ** 3
        n_lines = _line_samples(crystal, spacing)
        n_zone = n_lines + _irreducible(int(points), rotations)
        unfold = points * (2 * rotations * UNFOLD_BYTES_PER_OPERATION + 8.0 * bands)
        nscf = WAVE_FUNCTION_COPIES * wave_function * n_zone + wave_function * n_lines + unfold
        need = max(scf, nscf)
        what += f", {n_lines:,.0f} samples on the lines and a {n_mesh}³ zone mesh"
    return BASE_BYTES + need, f"{what}; ~{n_pw:,} plane waves and {bands} bands each"


def check_dft_memory(crystal: Any, params: Any, *, spacing: float, mesh: int | None, with_zone: bool = True,
                     name: str = "") -> float:
    """InputError (before GPAW starts) if the run needs more memory than the budget; else the estimate (bytes)."""
    kmesh_size(params.kmesh, "kmesh")
    need, what = dft_memory_bytes(crystal, params, spacing=spacing, mesh=mesh, with_zone=with_zone)
    check_memory_need(
        f"the DFT analysis of {name or crystal.atoms.get_chemical_formula()} ({what})", need,
        "lower --ecut, --kmesh or --mesh, raise --spacing, or check the lattice constant (the plane waves grow with the cell volume)",
    )
    return need


__all__ = ["check_dft_memory", "dft_memory_bytes", "plane_wave_count"]
