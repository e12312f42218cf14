"""The NHM Hamiltonian on clusters: lattices, Wannier basis, split, ED, ΔE and the selection rule."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from itertools import combinations
from math import comb

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nhm.errors import InputError
from nhm.manybody.condensation import ModelSpec, build_hamiltonian, condensation_energy, make_model, run
from nhm.manybody.ed import compile_operator, diagonalize, lowest_eigenpairs, sector_matrix
from nhm.manybody.fock import ModeLabels, sector_basis
from nhm.manybody.interactions import boys_f0, extended_hubbard, gaussian_coulomb, gaussian_overlap
from nhm.manybody.lattice import LATTICE_VECTORS, auto_cluster, make_cluster
from nhm.manybody.operators import FermionOperator, bloch_transform, spin_orbital_operator
from nhm.manybody.selection import CATEGORIES, selection_report, two_electron_processes
from nhm.manybody.split import split_hamiltonian, split_masks
from nhm.manybody.wannier_basis import (
    SpinField,
    checked_field,
    example_field,
    identity_field,
    kramers_phases_constant,
    spin_axes,
    su2,
    texture_field,
    time_reversal_defect,
    wannier_matrix,
)

# ---------------------------------------------------------------- an independent reference: Jordan–Wigner


def _jw_annihilators(m: int) -> list[np.ndarray]:
    """Dense c_p on 2^m states (mode 0 = leftmost Kronecker factor), with Jordan–Wigner strings."""
    eye, z, a = np.eye(2), np.diag([1.0, -1.0]), np.array([[0.0, 1.0], [0.0, 0.0]])
    out = []
    for p in range(m):
        mat = np.array([[1.0]])
        for f in [z] * p + [a] + [eye] * (m - p - 1):
            mat = np.kron(mat, f)
        out.append(mat)
    return out


def jw_matrix(op: FermionOperator, n_electrons: int | None = None) -> np.ndarray:
    """The operator as a dense matrix on the Fock space, or on its N_e-electron part (≤ 8 modes)."""
    m = op.n_modes
    assert m <= 8, "the dense reference is for tiny clusters"
    c = np.array(_jw_annihilators(m))
    cd = c.transpose(0, 2, 1)
    number = np.einsum("pij,pji->i", cd, c).real
    everything = np.arange(2**m)

    def states(n: int | None) -> np.ndarray:
        return everything if n is None else np.flatnonzero(np.isclose(number, n))

    out_idx = states(n_electrons)
    mid_idx = states(None if n_electrons is None else n_electrons - 2)  # after c_s c_r
    sub = np.ix_(out_idx, out_idx)
    h = op.constant * np.eye(len(out_idx), dtype=complex)
    h = h + np.einsum("pq,pij,qjk->ik", op.one_body, cd, c, optimize=True)[sub]
    if len(mid_idx) == 0:
        return h
    # ½ Σ V_pqrs c†_p c†_q c_s c_r = ½ Σ_pq (c†_p c†_q)[out, mid] (Σ_rs V_pqrs c_s c_r)[mid, out]
    ann = np.einsum("sij,rjk->srik", c[:, mid_idx, :], c[:, :, out_idx], optimize=True).reshape(m * m, len(mid_idx), len(out_idx))
    cre = np.einsum("pij,qjk->pqik", cd[:, out_idx, :], cd[:, :, mid_idx], optimize=True).reshape(m * m, len(out_idx), len(mid_idx))
    v = op.two_body.transpose(0, 1, 3, 2).reshape(m * m, m * m)  # [pq, sr]
    weighted = np.tensordot(v, ann, axes=([1], [0]))
    return h + 0.5 * np.einsum("aij,ajk->ik", cre, weighted, optimize=True)


def _hamiltonians(lattice: str, n: int, field: str = "texture", strength: float = 1.0, **kw):
    cluster = auto_cluster(lattice, n)
    model = extended_hubbard(cluster, **kw) if "alpha" not in kw else gaussian_coulomb(cluster, **kw)
    return build_hamiltonian(model, example_field(cluster, field, strength))


def _random_unitary_field(cluster, rng) -> SpinField:
    z = rng.standard_normal((cluster.n_sites, 2, 2)) + 1j * rng.standard_normal((cluster.n_sites, 2, 2))
    q, r = np.linalg.qr(z)
    q = q * (np.diagonal(r, axis1=1, axis2=2) / np.abs(np.diagonal(r, axis1=1, axis2=2)))[:, None, :]
    return SpinField(cluster.k_fractional + 1.0, q, "random")  # any representative modulo 1


# ---------------------------------------------------------------- lattices and models


@pytest.mark.parametrize("name", sorted(LATTICE_VECTORS))
@pytest.mark.parametrize("n", [1, 2, 4, 6, 8])
def test_cluster_mesh_and_tables(name, n):
    c = auto_cluster(name, n)
    assert c.n_sites == n and c.kpoints.shape == (n, c.dim)
    assert np.all(c.sites[0] == 0) and np.all(c.kpoints[0] == 0)  # origin and Γ first
    e = c.phases
    assert np.allclose(e @ e.conj().T, n * np.eye(n))  # the mesh is the dual of the cluster
    k1, k2 = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    assert np.allclose(e[c.k_add[k1, k2]], e[k1] * e[k2])
    assert np.allclose(e[c.k_neg], e.conj())
    r1, r2 = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    assert np.allclose(e[:, c.site_add[r1, r2]], e[:, r1] * e[:, r2])
    assert sorted(np.unique(c.site_add[0])) == list(range(n))


def test_cluster_choices_and_dispersion():
    sq = auto_cluster("square", 8)
    # the tilted 8-site cluster: shortest periodicity vector 2√2 (not 2 as for a 2×4 rectangle)
    assert sq.supercell.tolist() in ([[4, 0], [2, 2]], [[2, 2], [2, -2]])
    chain = auto_cluster("chain", 6)
    k = 2 * np.pi * chain.k_fractional[:, 0]
    assert np.allclose(chain.dispersion([1.0]), -2 * np.cos(k))
    assert np.allclose(chain.dispersion([1.0, 0.5]), -2 * np.cos(k) - np.cos(2 * k))
    assert len(auto_cluster("bcc", 8).lattice.shells(1)[0]) == 8


def test_cluster_errors():
    with pytest.raises(InputError, match="positive"):
        auto_cluster("chain", -3)
    with pytest.raises(InputError, match="unknown lattice"):
        auto_cluster("hexagonal-ish", 4)
    with pytest.raises(InputError, match="singular"):
        make_cluster("square", [[1, 2], [2, 4]])
    with pytest.raises(InputError):
        make_cluster("square", [[1, 0, 0], [0, 1, 0], [0, 0, 1]])


def test_extended_hubbard_tensor():
    c = auto_cluster("square", 8)
    m = extended_hubbard(c, U=4.0, V=[1.0], J=[0.3], P=[0.2])
    v = m.interaction
    assert np.allclose(v, v.transpose(1, 0, 3, 2)) and np.allclose(v, v.transpose(2, 3, 0, 1))
    i, j = c.neighbour_pairs(1)
    assert v[0, 0, 0, 0] == 4.0
    # each site has 4 nearest neighbours (on the 8-site tilted cluster all distinct)
    assert np.isclose(v[0].sum(axis=(1, 2)).sum(), 4.0 + 4 * (1.0 + 0.3 + 0.2))
    assert np.allclose(m.hopping_matrix(), m.hopping_matrix().T.conj())


def test_boys_and_gaussian_integrals():
    x = np.array([0.0, 1e-8, 0.1, 1.0, 10.0, 100.0])
    # F0(x) = ∫_0^1 exp(-x u²) du by quadrature
    u = np.linspace(0, 1, 200001)
    quad = np.trapezoid(np.exp(-x[:, None] * u[None, :] ** 2), u, axis=1)
    assert np.allclose(boys_f0(x), quad, atol=1e-9)
    c = auto_cluster("chain", 6)
    alpha, e2 = 4.0, 1.5
    raw = gaussian_coulomb(c, alpha=alpha, coulomb=e2, orthogonalize=False).interaction
    assert np.isclose(raw[0, 0, 0, 0], 2 * np.sqrt(alpha / np.pi) * e2)  # self-energy of the cloud
    j = int(c.site_index(np.array([1])))
    from scipy.special import erf

    # two separated clouds: erf(√α R)/R, the Coulomb energy of Gaussian charges at distance R = 1
    assert np.isclose(raw[0, j, 0, j], e2 * erf(np.sqrt(alpha)), rtol=1e-12)
    for v in (raw, gaussian_coulomb(c, alpha=alpha, coulomb=e2).interaction):
        assert np.allclose(v, v.transpose(1, 0, 3, 2)) and np.allclose(v, v.transpose(2, 3, 0, 1))
        assert np.allclose(v, v.transpose(2, 1, 0, 3))  # real orbitals: (ik|jl) = (ki|jl)
    s = gaussian_overlap(c, alpha)
    assert np.isclose(s[0, j], np.exp(-alpha / 2))


# ---------------------------------------------------------------- the spin-dependent Wannier basis


@pytest.mark.parametrize("field", ["identity", "spiral", "texture"])
@pytest.mark.parametrize("lattice,n", [("chain", 6), ("square", 8), ("triangular", 4), ("cubic", 8), ("bcc", 4)])
def test_fields_unitary_and_time_reversal(field, lattice, n):
    c = auto_cluster(lattice, n)
    f = checked_field(example_field(c, field, 0.8), c)
    w = wannier_matrix(f, c)
    assert np.allclose(w.conj().T @ w, np.eye(2 * n), atol=1e-12)
    assert time_reversal_defect(f, c) < 1e-12
    assert kramers_phases_constant(f, c)
    nax = spin_axes(f)
    assert np.allclose(np.linalg.norm(nax, axis=2), 1.0)
    assert np.allclose(nax[:, 1], -nax[:, 0])  # the two spinors at k are antiparallel
    assert np.allclose(nax[c.k_neg][:, ::-1], -nax)  # Kramers partner: n_{-m}(-k) = -n_m(k)


def test_identity_and_constant_fields_give_site_local_wannier_functions():
    c = auto_cluster("chain", 5)
    assert np.allclose(wannier_matrix(checked_field(identity_field(c), c), c), np.eye(10))
    u = su2(np.array([0.3, -1.1, 0.7]))
    const = SpinField(c.k_fractional, np.broadcast_to(u, (5, 2, 2)).copy(), "constant")
    w = wannier_matrix(checked_field(const, c), c)
    assert np.allclose(w, np.kron(np.eye(5), u))  # W[(R,s),(R,m)] = F_sm


def test_texture_strength_interpolates_from_identity():
    c = auto_cluster("square", 8)
    assert np.allclose(texture_field(c, 0.0).matrices, np.eye(2))
    spreads = [float(np.abs(texture_field(c, lam).matrices - np.eye(2)).max()) for lam in (0.0, 0.5, 1.0)]
    assert spreads[0] == 0 < spreads[1] < spreads[2]


def test_field_errors():
    c = auto_cluster("chain", 4)
    good = identity_field(c)
    with pytest.raises(InputError, match="not unitary"):
        checked_field(SpinField(good.kpoints, 1.1 * good.matrices), c)
    with pytest.raises(InputError, match="mesh of 4"):
        checked_field(SpinField(good.kpoints[:3], good.matrices[:3]), c)
    with pytest.raises(InputError, match="not on the mesh"):
        checked_field(SpinField(auto_cluster("chain", 6).k_fractional[:4], good.matrices), c)
    with pytest.raises(InputError, match="repeat"):
        checked_field(SpinField(np.zeros_like(good.kpoints), good.matrices), c)
    with pytest.raises(InputError, match="shape"):
        checked_field(SpinField(good.kpoints, np.ones((4, 3, 3))), c)
    with pytest.raises(InputError, match="strength"):
        texture_field(c, 1.5)
    # a permuted mesh is accepted and re-ordered
    perm = np.array([2, 0, 3, 1])
    tex = texture_field(c, 0.7)
    assert np.allclose(checked_field(SpinField(tex.kpoints[perm], tex.matrices[perm]), c), tex.matrices)


def test_non_even_field_breaks_time_reversal():
    c = auto_cluster("chain", 6)
    k = 2 * np.pi * c.k_fractional[:, 0]
    odd = su2(np.stack([np.sin(k), 0 * k, 0 * k], axis=1))  # n(−k) ≠ n(k)
    assert time_reversal_defect(odd, c) > 0.1


# ---------------------------------------------------------------- the split


def test_split_masks_partition_and_onsite_goes_to_hc():
    c_mask, x_mask, z_mask = split_masks(3)
    total = c_mask.astype(int) + x_mask.astype(int) + z_mask.astype(int)
    assert np.all(total == 1)
    onsite = np.zeros_like(c_mask)
    for r in range(3):
        idx = np.arange(2 * r, 2 * r + 2)
        onsite[np.ix_(idx, idx, idx, idx)] = True
    assert np.all(c_mask[onsite]) and not np.any(x_mask[onsite])
    # relabelling the electrons maps H_c to H_c and H_ex to H_ex; swapping only r, s exchanges them
    assert np.array_equal(c_mask, c_mask.transpose(1, 0, 3, 2))
    assert np.array_equal(c_mask | x_mask, (c_mask | x_mask).transpose(0, 1, 3, 2))


@pytest.mark.parametrize("field", ["identity", "constant"])
def test_k_independent_f_with_density_and_exchange_has_no_hz(field):
    c = auto_cluster("square", 8)
    model = extended_hubbard(c, U=4.0, V=[1.0, 0.4], J=[0.25])
    if field == "identity":
        f = identity_field(c)
    else:
        f = SpinField(c.k_fractional, np.broadcast_to(su2(np.array([0.4, 0.9, -0.2])), (8, 2, 2)).copy())
    ham = build_hamiltonian(model, f)
    assert np.abs(ham.split.nonatomic.two_body).max() < 1e-13
    res = condensation_energy(ham, 8)
    assert abs(res.delta_E) < 1e-10 and abs(res.Hz_expectation_in_G_prime) < 1e-10
    assert res.spectrum_invariance_residual < 1e-9


def test_pair_hopping_is_hz_even_for_identity():
    ham = _hamiltonians("chain", 4, "identity", U=4.0, P=[0.5])
    assert np.abs(ham.split.nonatomic.two_body).max() > 0.1


def test_split_respects_translations_and_hermiticity():
    ham = _hamiltonians("triangular", 4, "texture", U=3.0, V=[0.5], J=[0.2])
    labels = ham.labels
    for op in (ham.bloch_prime, ham.bloch_nonatomic, ham.bloch_full):
        assert op.hermiticity_defect() < 1e-12
        m = op.n_modes
        k = labels.k
        kin = labels.k_add[k[:, None], k[None, :]]
        violates = kin[:, :, None, None] != kin[None, None, :, :]
        assert np.abs(op.two_body[violates]).max() < 1e-12
        compile_operator(op, labels)  # would raise SymmetryViolation


def test_sixteen_site_tensors_and_split():
    """N = 16: the dense (2N)^4 tensors (1M complex numbers, 16 MiB each) are built, split and Fourier
    transformed in seconds; the split respects translations at this size too."""
    c = auto_cluster("square", 16)
    t0 = time.perf_counter()
    ham = build_hamiltonian(extended_hubbard(c, U=4.0, V=[1.0], J=[0.2]), texture_field(c, 1.0))
    assert time.perf_counter() - t0 < 60
    assert ham.bloch_full.two_body.nbytes == 32**4 * 16
    assert np.abs(ham.split.full.two_body - spin_orbital_operator(ham.model).transform(ham.wannier).two_body).max() < 1e-12
    for op in (ham.bloch_prime, ham.bloch_nonatomic):
        compile_operator(op, ham.labels)  # raises if a term breaks crystal momentum


def test_hprime_plus_hz_is_h_as_operators():
    ham = _hamiltonians("chain", 3, "texture", U=4.0, V=[1.0], J=[0.3], P=[0.1])
    h = jw_matrix(ham.bloch_full)
    hp = jw_matrix(ham.bloch_prime)
    hz = jw_matrix(ham.bloch_nonatomic)
    assert np.abs(hp + hz - h).max() < 1e-12
    # and H in the f basis is the same operator as H in the f = 1 basis, up to the one-particle basis change
    assert np.allclose(np.linalg.eigvalsh(h), np.linalg.eigvalsh(jw_matrix(ham.bloch_reference)), atol=1e-10)


# ---------------------------------------------------------------- exact diagonalization


@pytest.mark.parametrize(
    "lattice,n,ne,field",
    [("chain", 4, 4, "texture"), ("chain", 4, 3, "spiral"), ("square", 4, 5, "texture"), ("triangular", 3, 3, "texture"),
     ("bcc", 2, 2, "texture"), ("chain", 4, 2, "identity")],
)
def test_sparse_ed_equals_dense(lattice, n, ne, field):
    ham = _hamiltonians(lattice, n, field, U=3.0, V=[0.7], J=[0.2], P=[0.1])
    labels = ham.labels
    for op in (ham.bloch_full, ham.bloch_prime, ham.bloch_nonatomic, ham.bloch_reference):
        dense = np.linalg.eigvalsh(jw_matrix(op, ne))
        spec = diagonalize(compile_operator(op, labels), labels, ne, n_eig=6)
        assert np.abs(spec.energies - dense[: len(spec.energies)]).max() < 1e-10
        # each sector matrix equals the dense matrix restricted to the sector (not only the spectrum)
        basis = sector_basis(labels, ne, 0)
        mat = sector_matrix(compile_operator(op, labels), basis, check=True).toarray()
        assert np.abs(mat - mat.conj().T).max() < 1e-12
        full = jw_matrix(op)
        # JW index of a bit string: mode 0 is the most significant bit
        jw_idx = np.array([int(format(int(s), f"0{2 * n}b")[::-1], 2) for s in basis.states])
        assert np.abs(full[np.ix_(jw_idx, jw_idx)] - mat).max() < 1e-12


def test_eigsh_path_equals_dense_path():
    ham = _hamiltonians("chain", 6, "texture", U=4.0)
    op = compile_operator(ham.bloch_prime, ham.labels)
    mat = sector_matrix(op, sector_basis(ham.labels, 6, 0))
    w_sparse, v = lowest_eigenpairs(mat, 3)
    w_dense = np.linalg.eigvalsh(mat.toarray())[:3]
    assert mat.shape[0] > 100 and np.abs(w_sparse - w_dense).max() < 1e-10


def test_sector_dimensions_add_up():
    ham = _hamiltonians("chain", 5, "texture")
    labels = ham.labels
    for ne in range(11):
        dims = [sector_basis(labels, ne, k).dimension for k in range(5)]
        assert sum(dims) == comb(10, ne)
        ups = [sector_basis(labels, ne, 0, u).dimension for u in range(ne + 1)]
        assert sum(ups) == dims[0]


def test_kramers_pairs_give_equal_spectra():
    ham = _hamiltonians("chain", 6, "texture", U=4.0, V=[0.5])
    op = compile_operator(ham.bloch_prime, ham.labels)
    for k in (1, 2):
        a = diagonalize(op, ham.labels, 6, n_eig=3, momenta=[k]).energies
        b = diagonalize(op, ham.labels, 6, n_eig=3, momenta=[int(ham.labels.k_neg[k])]).energies
        assert np.abs(a - b).max() < 1e-10


@pytest.mark.parametrize("field", ["spiral", "texture"])
def test_condensation_result_small(field):
    res = run(ModelSpec(lattice="chain", sites=6, field=field, U=4.0, V=(0.5,), J=(0.1,)))
    assert res.spectrum_invariance_residual < 1e-9
    assert res.bound_holds and res.delta_E <= res.Hz_expectation_in_G_prime + 1e-10
    assert res.max_eig_residual < 1e-8
    assert np.isclose(res.delta_E, res.E0_H - res.E0_H_prime)
    for key in ("sites", "electrons", "E0_H", "E0_H_prime", "delta_E", "Hz_expectation_in_G_prime",
                "spectrum_invariance_residual"):
        assert key in res.as_dict()


def test_invariance_check_survives_degenerate_levels_missed_by_lanczos():
    """A triplet lies inside one momentum sector in the f basis; ARPACK may return only two copies."""
    res = run(ModelSpec(lattice="chain", sites=8, U=4.0, field="texture", strength=0.5), residual_sectors="ground")
    assert res.spectrum_invariance_residual < 1e-9


def test_gaussian_coulomb_model_runs_and_is_invariant():
    res = run(ModelSpec(lattice="square", sites=4, interaction="gaussian", coulomb=1.0, field="texture", electrons=3))
    assert res.spectrum_invariance_residual < 1e-9 and res.bound_holds


def test_input_errors():
    with pytest.raises(InputError, match="positive"):
        ModelSpec(sites=-2).validated()
    with pytest.raises(InputError, match=r"\[0, 2N\]"):
        ModelSpec(sites=4, electrons=9).validated()
    with pytest.raises(InputError, match=r"\[0, 2N\]"):
        ModelSpec(sites=4, electrons=-1).validated()
    with pytest.raises(InputError, match="interaction"):
        ModelSpec(sites=4, interaction="yukawa").validated()
    with pytest.raises(InputError, match="supercell gives"):
        make_model(ModelSpec(lattice="square", sites=6, supercell=((2, 0), (0, 2))))
    with pytest.raises(InputError, match="electrons"):
        sector_basis(ModeLabels.bloch(np.zeros((1, 1), int), np.zeros(1, int)), 3)


# ---------------------------------------------------------------- property tests


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 4), ne=st.integers(1, 4))
def test_random_unitary_fields_preserve_the_spectrum(seed, n, ne):
    rng = np.random.default_rng(seed)
    c = auto_cluster("chain", n)
    model = extended_hubbard(c, U=float(rng.uniform(0, 6)), V=[float(rng.uniform(0, 2))], J=[float(rng.uniform(-1, 1))])
    ham = build_hamiltonian(model, _random_unitary_field(c, rng))
    labels = ham.labels
    a = diagonalize(compile_operator(ham.bloch_full, labels), labels, ne, n_eig=5).energies
    b = diagonalize(compile_operator(ham.bloch_reference, labels), labels, ne, n_eig=5).energies
    assert np.abs(a - b).max() < 1e-9


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_split_sums_to_h_for_random_fields(seed):
    rng = np.random.default_rng(seed)
    c = auto_cluster("chain", 3)
    model = extended_hubbard(c, U=2.0, V=[1.0], J=[0.4], P=[0.3])
    ham = build_hamiltonian(model, _random_unitary_field(c, rng))
    parts = ham.split
    total = parts.hf + parts.coulomb + parts.exchange + parts.nonatomic
    h_site = spin_orbital_operator(model).transform(ham.wannier)
    assert np.abs(total.two_body - h_site.two_body).max() < 1e-13
    assert np.abs(jw_matrix(ham.bloch_prime) + jw_matrix(ham.bloch_nonatomic) - jw_matrix(ham.bloch_full)).max() < 1e-12


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), ne=st.integers(0, 8))
def test_particle_number_is_conserved(seed, ne):
    rng = np.random.default_rng(seed)
    small = auto_cluster("chain", 3)
    ham = build_hamiltonian(extended_hubbard(small, U=3.0, V=[1.0], P=[0.3]), _random_unitary_field(small, rng))
    for op in (ham.bloch_prime, ham.bloch_nonatomic):
        full = jw_matrix(op)
        number = np.diag(jw_matrix(FermionOperator(np.eye(6, dtype=complex), np.zeros((6,) * 4, complex))).real)
        assert np.abs(full * (number[:, None] - number[None, :])).max() < 1e-12  # [H′, N] = [H_z, N] = 0
    big = auto_cluster("chain", 4)
    ham = build_hamiltonian(extended_hubbard(big, U=3.0, V=[1.0]), _random_unitary_field(big, rng))
    op = compile_operator(ham.bloch_prime, ham.labels)
    for k in range(4):
        sector_matrix(op, sector_basis(ham.labels, ne, k), check=True)  # every image stays in the sector


# ---------------------------------------------------------------- the selection rule


@pytest.mark.parametrize("lattice,n", [("chain", 12), ("square", 16), ("triangular", 9), ("bcc", 27)])
def test_cooper_processes_conserve_spin_and_generic_ones_do_not(lattice, n):
    """On generic meshes; meshes made only of time-reversal-invariant points (bcc 8) or collinear axes at
    high-symmetry points show a few accidental conserving processes."""
    c = auto_cluster(lattice, n)
    f = checked_field(texture_field(c, 1.0), c)
    rep = selection_report(f, c, four_electron=False)
    assert rep.two_electron["cooper"].count > 0
    assert rep.cooper_max_delta < 1e-12 and rep.cooper_max_pair_spin < 1e-12
    assert rep.kramers_max_defect < 1e-12
    other = rep.two_electron["other"]
    assert other.count > 0 and other.conserving == 0 and other.min_delta > 1e-3


def test_selection_without_k_space_magnetism_conserves_m_count_processes():
    c = auto_cluster("chain", 8)
    proc = two_electron_processes(checked_field(identity_field(c), c), c)
    dz = proc.delta_spin[:, 2]
    m_change = (proc.b1 % 2 + proc.b2 % 2) - (proc.a1 % 2 + proc.a2 % 2)  # number of m = −½ gained
    assert np.allclose(dz, -2 * m_change) and np.allclose(proc.delta_spin[:, :2], 0)


def test_four_electron_combinations_only_by_symmetry():
    c = auto_cluster("chain", 12)
    rep = selection_report(checked_field(texture_field(c, 1.0), c), c)
    assert rep.four_electron_exact and rep.four_electron_emitters > 0
    assert rep.four_electron["accidental"] == 0
    assert rep.four_electron["cooper_pairs"] > 0  # Eq. (4): the time-reversed process reabsorbs the bosons
    # every emitter whose Kramers image is Pauli-allowed is compensated by it
    assert rep.kramers_partner_found >= 0.9 * rep.four_electron_emitters
    assert sum(rep.histogram["cooper"]) == rep.two_electron["cooper"].count


# ---------------------------------------------------------------- scans, plots and the command line


def test_scan_and_plots(tmp_path):
    from nhm.manybody.plots import plot_scan, plot_selection, plot_spin_axes
    from nhm.manybody.scan import scan

    res = scan(ModelSpec(sites=4, field="texture"), "U", [0.0, 2.0, 4.0], show_progress=False)
    assert [p.sites for p in res.points] == [4, 4, 4]
    assert abs(res.points[0].delta_E) < 1e-10  # U = 0: no interaction, nothing to split
    paths = plot_scan(res, tmp_path)
    c = auto_cluster("square", 16)
    f = checked_field(texture_field(c, 1.0), c)
    paths += plot_selection(selection_report(f, c, four_electron=False), tmp_path)
    paths += plot_spin_axes(f, c, tmp_path)
    assert all(p.exists() and p.stat().st_size > 1000 for p in paths)
    for parameter, values in (("filling", [2, 3]), ("sites", [2, 3]), ("strength", [0.0, 1.0])):
        r = scan(ModelSpec(sites=3, field="spiral"), parameter, values, show_progress=False)
        assert len(r.points) == 2
    with pytest.raises(InputError):
        scan(ModelSpec(sites=3), "temperature", [1.0], show_progress=False)


_CLI = (
    "import sys\n"
    "from nhm.cli import app, main\n"
    "if not any((c.name or getattr(c.callback, '__name__', '')) == 'manybody' for c in app.registered_commands):\n"
    "    from nhm.cli.manybody import manybody\n"
    "    app.command()(manybody)\n"
    "sys.argv = ['nhm'] + sys.argv[1:]\n"
    "main()\n"
)


def _nhm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _CLI, "manybody", *args], capture_output=True, text=True, timeout=600)


def test_cli_json_and_errors(tmp_path):
    out = tmp_path / "r.json"
    p = _nhm("--sites", "4", "--U", "3", "--V", "0.5", "--json", str(out), "--plot", str(tmp_path / "fig"))
    assert p.returncode == 0, p.stderr
    data = json.loads(out.read_text())
    for key in ("sites", "electrons", "E0_H", "E0_H_prime", "delta_E", "Hz_expectation_in_G_prime",
                "spectrum_invariance_residual"):
        assert key in data
    assert data["sites"] == 4 and data["electrons"] == 4 and data["spectrum_invariance_residual"] < 1e-9
    assert (tmp_path / "fig" / "spin_axes.png").exists()
    for bad in (["--sites", "-3"], ["--sites", "4", "--electrons", "9"], ["--field", "nope"], ["--strength", "2"],
                ["--scan", "temperature"], ["--V", "a,b"]):
        p = _nhm(*bad)
        assert p.returncode != 0
        lines = [ln for ln in p.stderr.strip().splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("nhm: error:"), p.stderr
        assert "Traceback" not in p.stderr


def test_cli_scan_json_to_stdout():
    p = _nhm("--sites", "3", "--scan", "strength", "--values", "0,1", "--json", "-")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["scan"] == "strength" and len(data["points"]) == 2


# ---------------------------------------------------------------- the 12-site cluster


def _hubbard_chain_real_space(n: int, n_up: int, u: float) -> float:
    """E0 of the Hubbard ring (t = 1) in the S_z sector by a plain real-space scipy ED (no momentum)."""
    states = np.array([sum(1 << i for i in c) for c in combinations(range(n), n_up)], dtype=np.int64)
    index = {int(s): i for i, s in enumerate(states)}
    rows, cols, vals = [], [], []
    for i, s in enumerate(states):
        for a in range(n):
            b = (a + 1) % n
            for x, y in ((a, b), (b, a)):  # c†_y c_x
                if (s >> x) & 1 and not (s >> y) & 1:
                    lo, hi = min(x, y), max(x, y)
                    between = bin(int(s) & (((1 << hi) - 1) ^ ((1 << (lo + 1)) - 1))).count("1")
                    rows.append(index[int(s ^ (1 << x) ^ (1 << y))])
                    cols.append(i)
                    vals.append(-1.0 * (-1) ** between)
    h1 = sp.csr_matrix((vals, (rows, cols)), shape=(len(states),) * 2)
    eye = sp.identity(len(states), format="csr")
    double = np.bitwise_count(np.bitwise_and.outer(states, states)).astype(float).ravel()
    h = sp.kron(h1, eye, format="csr") + sp.kron(eye, h1, format="csr") + sp.diags(u * double)
    return float(spla.eigsh(h, k=1, which="SA", tol=1e-12)[0][0])


@pytest.mark.slow
def test_twelve_site_half_filled_ground_state():
    """C(24, 12) = 2,704,156 states; momentum and S_z sectors of 71,000 states; cross-checked in real space."""
    spec = ModelSpec(lattice="chain", sites=12, field="identity", U=4.0)
    model = make_model(spec)
    ham = build_hamiltonian(model, identity_field(model.cluster))
    op = compile_operator(ham.bloch_reference, ham.labels)
    t0 = time.perf_counter()
    spec_h = diagonalize(op, ham.labels, 12, n_eig=2, kramers_pairs=True, up_values=[6], keep_ground=True)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert comb(24, 12) == 2_704_156
    assert spec_h.max_dimension < 72_000 and len(spec_h.sectors) == 7  # K and −K share a sector
    assert spec_h.max_residual < 1e-8  # converged eigenpairs, checked, not assumed
    e_ref = _hubbard_chain_real_space(12, 6, 4.0)
    assert abs(spec_h.ground_energy - e_ref) < 1e-9
    print(f"\n12-site ring, U = 4t: E0 = {spec_h.ground_energy:.10f} t in {seconds:.1f} s, peak RSS {peak:.0f} MiB")


def test_a_single_model_tells_its_spinner_which_sectors_are_done():
    """nhm manybody on one model: the spinner's text counts the symmetry sectors diagonalized and names the last one
    with its dimension (a large cluster takes minutes; the spinner alone would not say that it advances)."""
    from contextlib import contextmanager

    from nhm.report.hooks import Hooks
    from nhm.report.run_manybody import OPTIONS, manybody_request, run_request

    class Status:
        def __init__(self):
            self.texts: list[str] = []

        def update(self, text: str) -> None:
            self.texts.append(text)

    status = Status()

    @contextmanager
    def spinner(text: str):
        yield status

    defaults = {name: None for name in OPTIONS}
    defaults.update(lattice="chain", sites=4, field="identity", t=1.0, t2=0.0, U=4.0, interaction="hubbard", alpha=1.0,
                    coulomb=0.0, strength=1.0, selection=False, selection_sites=12)
    run = run_request(manybody_request(defaults), Hooks(status=spinner))
    assert run.condensation is not None and status.texts
    for n, text in enumerate(status.texts, start=1):
        assert text.startswith(f"exact diagonalization: {n} sector(s) done, the last K=") and "(dim " in text
