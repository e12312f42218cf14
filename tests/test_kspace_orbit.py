"""Bands of μ > 1 branches (nhm.kspace.construction.orbit): F(k) ∈ U(2μ) on an orbit of μ atoms (hcp, μ = 2)."""

import numpy as np
import pytest

from nhm.bands.tightbinding import bcc_sd_model, model_from_wyckoff, BCC_SD_SUPERCONDUCTING_BAND
from nhm.errors import InputError
from nhm.groups.spacegroup import space_group
from nhm.kspace.analysis.fermi import axis_variation
from nhm.kspace.constraints.site import orbit_site_representation
from nhm.kspace.construction.orbit import build_orbit_field
from nhm.kspace.mesh import make_mesh
from nhm.kspace.sources.orbit import TightBindingOrbitBand


@pytest.fixture(scope="module")
def hcp_s():
    model = model_from_wyckoff(194, "c", ["s"], {"sss": (-1.0, -0.3)})
    mesh = make_mesh(194, 6)
    return model, mesh, TightBindingOrbitBand(model, [0, 1], mesh)


def test_induced_site_representation_is_a_double_group_representation():
    """ρ(a)ρ(b) = sign(a, b) ρ(ab) e^{...}: at Γ the translation phases are 1, so Π ⊗ S multiplies with the
    double-group signs of the canonical lifts; Π permutes the two atoms of 2c."""
    g = space_group(194)
    site = orbit_site_representation(194, "2c", "-E1@2c")
    assert site.mu == 2
    table, _, sign = g.multiplication
    k0 = np.zeros(3)
    rho = [site.rho(a, k0, g.lifts[a]) for a in range(g.order)]
    worst = max(np.linalg.norm(rho[a] @ rho[b] - sign[a, b] * rho[table[a, b]]) for a in range(g.order) for b in range(g.order))
    assert worst < 1e-12
    assert sorted(np.unique(site.perm[:, 0]).tolist()) == [0, 1]


def test_hcp_s_band_is_usual_with_k_independent_spin(hcp_s):
    """The two s bands of hcp span the whole orbital space: the atom-centred trial start is the exact answer
    (spread 0), the conditions hold to round-off at every mesh point, and the spin axes are one axis."""
    model, mesh, src = hcp_s
    site = orbit_site_representation(194, "2c", "-E1@2c")
    fld = build_orbit_field(mesh, src, site, random_starts=0)
    r = fld.residuals
    assert max(r["little_group"], r["time_reversal"], r["star_sampled"], r["unitarity"], r["constraint_space"]) < 1e-10
    assert fld.spread < 1e-10
    assert fld.usual["spread_with_spatial_overlaps"] < 1e-10 and fld.usual["symmetry_violation"] < 1e-10
    assert axis_variation(fld.spin_axes[:, 0]) < 1e-12
    assert np.allclose(np.linalg.norm(fld.spin_axes, axis=-1), 1.0)


def test_a_random_start_is_worse_and_the_best_start_is_kept(hcp_s):
    model, mesh, src = hcp_s
    site = orbit_site_representation(194, "2c", "-E1@2c")
    fld = build_orbit_field(mesh, src, site, random_starts=1, seed=3)
    assert fld.spread == min(fld.starts) and max(fld.starts) > fld.spread


def test_a_site_representation_the_band_does_not_carry_is_refused(hcp_s):
    model, mesh, src = hcp_s
    site = orbit_site_representation(194, "2c", "A2''")  # odd under the mirror through the atoms: not the s band's
    with pytest.raises(InputError, match="no unitary F"):
        build_orbit_field(mesh, src, site, random_starts=0)


def test_mu_one_through_the_orbit_path_solves_the_mu_one_constraints():
    """The general construction with μ = 1 (bcc-sd band 5, R1) meets the constraints of nhm.kspace.constraints.spaces,
    λ from the same Bloch states: the two formulations agree."""
    from nhm.kspace.constraints.site import spin_site_representation
    from nhm.kspace.constraints.spaces import constraint_spaces
    from nhm.kspace.construction.field import residuals
    from nhm.kspace.sources.tightbinding import tight_binding_characters

    model = bcc_sd_model()
    mesh = make_mesh(229, 8)
    src = TightBindingOrbitBand(model, [BCC_SD_SUPERCONDUCTING_BAND], mesh)
    site = orbit_site_representation(229, "2a", "-E1g@2a")
    fld = build_orbit_field(mesh, src, site, random_starts=0)
    assert max(fld.residuals["little_group"], fld.residuals["star_sampled"]) < 1e-10
    chars = tight_binding_characters(mesh, model, BCC_SD_SUPERCONDUCTING_BAND, spin_site_representation(229, "a", "-E1g@2a"))
    res = residuals(constraint_spaces(chars), fld.f, fld.f)
    assert res.constraint < 1e-12 and res.star < 1e-12 and res.time_reversal < 1e-12 and res.unitarity < 1e-12
    assert axis_variation(fld.spin_axes[:, 0]) > 1e-3  # a superconducting band: the spin axis varies


def test_block_overlaps_agree_with_the_one_state_table():
    """plane_wave_block_overlaps (μ states per block) against plane_wave_overlap bond by bond."""
    from nhm.bands.bloch import plane_wave_overlap
    from nhm.kspace.sources.planewaves import PlaneWaveBlock, plane_wave_block_overlaps, plane_wave_bond_overlaps

    rng = np.random.default_rng(0)
    grid = np.array(np.meshgrid(*(range(-2, 3),) * 3, indexing="ij")).reshape(3, -1).T
    blocks = []
    for _ in range(6):
        g = grid[rng.permutation(len(grid))[:90]]
        blocks.append(PlaneWaveBlock(g, rng.normal(size=(2, 90)) + 1j * rng.normal(size=(2, 90))))
    table = np.array([[1, 2], [2, 3], [3, 4], [4, 5], [5, 0], [0, 1]])
    shifts = rng.integers(-1, 2, size=(6, 2, 3))
    use = np.ones(table.shape, dtype=bool)
    got = plane_wave_block_overlaps(blocks, table, shifts, use)
    for k in range(6):
        for b in range(2):
            q = table[k, b]
            ref = plane_wave_overlap(blocks[k].g, blocks[k].c, blocks[q].g, blocks[q].c, shifts[k, b])
            assert np.allclose(got[k, b], ref, atol=1e-12)
    ones = [PlaneWaveBlock(x.g, x.c[:1]) for x in blocks]
    one = plane_wave_bond_overlaps(ones, table, shifts, use)
    assert np.allclose(one, got[..., 0, 0], atol=1e-12)


def test_spin_free_elements_are_detected(hcp_s):
    """The s band carries the usual WFs' representation everywhere; bcc-sd band 5 (superconducting) does not
    somewhere (at N4+, its branch of the other parity)."""
    model, mesh, src = hcp_s
    site = orbit_site_representation(194, "2c", "-E1@2c")
    assert len(build_orbit_field(mesh, src, site, random_starts=0).needs_spin) == 0
    m8 = make_mesh(229, 8)
    sc = TightBindingOrbitBand(bcc_sd_model(), [BCC_SD_SUPERCONDUCTING_BAND], m8)
    fld = build_orbit_field(m8, sc, orbit_site_representation(229, "2a", "-E1g@2a"), random_starts=0)
    assert len(fld.needs_spin) > 0
    from nhm.kspace.analysis.run import _spread_sites
    from nhm.kspace.construction.orbit import bond_terms

    sites = _spread_sites(fld)
    assert 0 < sites["fraction_on_bonds_touching_those_stars"] <= 1 and 0 < sites["bonds_touching_those_stars"] < 1
    assert np.sum(bond_terms(m8, fld.f, fld.overlaps)) / m8.size == pytest.approx(fld.spread)
    assert sites["largest_bonds"][0]["share_each"] >= sites["largest_bonds"][-1]["share_each"]
