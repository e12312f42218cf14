"""A model band: one irrep per point of symmetry, as the band's characters λ on a k mesh (no Bloch states).

The Voronoi assembly. A band type given by one irrep per point of symmetry, e.g.
bcc (GM1+, H1+, P1, N2+), does not say which character the band has on the lines and planes of
symmetry. nhm takes, at every mesh k with a nontrivial little co-group, the subduction of the irrep at
the NEAREST point of symmetry K′ (Cartesian distance; over all star members and lattice translates of
all points of symmetry whose little co-group contains G_k; ties go to the larger little co-group, then
to the order of Bilbao's list): c_h(k) = χ^{K′}(h) e^{2πi(K′−k)·t_h} (continuity of e^{2πik·t_h} χ^k(h)
along a line). Where the subductions from two points differ on a line or plane, the model band
switches branch there, and F(k) is forced to jump (commuting and anticommuting F are disjoint sets).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from nhm.bands.symmetry import BandSymmetry
from nhm.errors import GroupTheoryError, InputError
from nhm.groups.irreps import little_group
from nhm.groups.kpoints import points_of_symmetry
from nhm.groups.seitz import Vec3, vec_sub
from nhm.kspace.constraints.characters import BandCharacters, band_characters
from nhm.kspace.constraints.site import SpinSiteRepresentation
from nhm.kspace.mesh import KMesh


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
