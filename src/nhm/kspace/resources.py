"""Memory estimate of one ``nhm kspace`` run, so that an absurd ``--mesh`` is refused before it starts.

Everything scales with the N = n³ mesh points. Per point the peak holds: the 64 Brillouin-zone
translates of k (``KMesh.k_cartesian_bz``, N×64×3 floats, and their norms) and the 2×2 fields, 8×8 real
maps and checks (``POINT_BYTES``); the symmetry tables ``image``/``cogroup_mask`` and the band characters
(one entry per coset representative); the finite-difference stencil (``neighbours``, bond overlaps); for
a tight-binding band its Bloch vectors at k and k + b. Calibrated against the peak resident memory of
runs at n = 48–96 (SG 143, 221, 229): the estimate is an upper bound by 10–40 %.
"""

from __future__ import annotations

from functools import lru_cache

GIB = 2**30
BASE_BYTES = 160 * 2**20  # interpreter, numpy/scipy, group tables
POINT_BYTES = 3000  # folded k translates, fields, real 8×8 maps, checks
PER_OPERATION_BYTES = 16  # symmetry tables and characters, per coset representative
PER_BOND_BYTES = 64  # stencil tables and bond overlaps, per stencil bond


@lru_cache(maxsize=None)
def stencil_bonds(space_group_number: int) -> int:
    """Bonds per point of the finite-difference stencil (the same for every n×n×n mesh of the group)."""
    from nhm.kspace.mesh import make_mesh, mesh_step

    return int(make_mesh(space_group_number, mesh_step(space_group_number)).neighbours[0].shape[0])


PLANE_WAVE_BYTES = 2 * (24 + 16) + 16  # DFT path: two unfolded copies of each point's block, G (3 int64) and c (complex), and the overlap table


def kspace_memory_bytes(space_group_number: int, n: int, orbitals: int = 0, plane_waves: int = 0) -> int:
    """Estimated peak memory (bytes) of a k-space run on the n×n×n mesh; ``orbitals`` of a tight-binding
    model; ``plane_waves`` per k of a DFT band (its Bloch states unfolded to every mesh point)."""
    from nhm.groups.spacegroup import space_group

    order = len(space_group(space_group_number).operations)
    bonds = stencil_bonds(space_group_number)
    per_point = POINT_BYTES + PER_OPERATION_BYTES * order + PER_BOND_BYTES * bonds + 16 * orbitals * (bonds + 1)
    per_point += PLANE_WAVE_BYTES * plane_waves
    return BASE_BYTES + n**3 * per_point


__all__ = ["GIB", "kspace_memory_bytes", "stencil_bonds"]
