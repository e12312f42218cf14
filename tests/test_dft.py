"""GPAW band structures, the result cache and the irreps of Bloch states (nhm.bands.dft/cache/bloch).

Fast tests (no GPAW): cache keys, atomic writes, corrupt entries, the no-cache path, the irrep core.
Slow tests (marked ``slow``, still run by CI): GPAW runs of bcc Nb against science.md §7, and
Al, Cu, Pb (fcc), Mg (hcp) and MgB2, whose labels must be those of the PyPI program ``irrep``.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections import Counter
from pathlib import Path

import ase
import numpy as np
import pytest

from nhm.bands import dft
from nhm.bands.bloch import (
    DEGENERACY_TOL_EV,
    BlochLevel,
    degenerate_groups,
    irreps_of_states,
    plane_wave_traces,
    primitive_operations,
)
from nhm.bands.cache import (
    CACHE_ENV,
    BandCache,
    CacheWarning,
    cache_key,
    default_cache_dir,
    structure_fingerprint,
)
from nhm.bands.dft import DftParameters, ScfResult
from nhm.crystal import read_crystal
from nhm.errors import GroupTheoryError, InputError, NhmError
from nhm.groups.irreps import little_group


def mgb2() -> ase.Atoms:
    a, c = 3.086, 3.524
    cell = [[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c]]
    return ase.Atoms(
        "MgB2", scaled_positions=[(0, 0, 0), (1 / 3, 2 / 3, 1 / 2), (2 / 3, 1 / 3, 1 / 2)], cell=cell, pbc=True
    )


# --- cache (fast, no GPAW) -----------------------------------------------------------------------


def test_structure_fingerprint_ignores_float_noise_and_wrapping():
    a = structure_fingerprint(np.eye(3) * 1.6499999999999997, [[0.9999999999999, 0.5, -1e-13]], [41])
    b = structure_fingerprint(np.eye(3) * 1.65, [[0.0, 0.5, 0.0]], [41])
    assert a == b
    c = structure_fingerprint(np.eye(3) * 1.651, [[0.0, 0.5, 0.0]], [41])
    assert c != b


def test_cache_key_is_stable_and_sensitive():
    payload = {"structure": {"cell": [[1.0, 0, 0]]}, "parameters": {"kmesh": 12, "xc": "PBE"}}
    key = cache_key("scf", payload)
    assert len(key) == 64 and key == cache_key("scf", dict(reversed(payload.items())))
    assert key == cache_key("scf", {"parameters": {"xc": "PBE", "kmesh": 12}, "structure": {"cell": [[1.0, 0, 0]]}})
    # a fixed value guards against accidental changes of the canonical form (they would orphan caches)
    assert key == "026314b5dd47f7f78dcf599ef7ec2335ad5507d57ef0e7a0201c49ad40727dab"
    assert cache_key("bloch", payload) != key
    assert cache_key("scf", {**payload, "parameters": {"kmesh": 13, "xc": "PBE"}}) != key


def test_parameters_hash_stable_across_reads_and_sensitive_to_everything():
    p = DftParameters()
    nb1, nb2 = read_crystal("Nb", a=3.30), read_crystal("Nb", a=3.30)
    assert p.hash(nb1) == p.hash(nb2) == p.hash(nb1.primitive_atoms())
    assert p.hash(nb1) != DftParameters(kmesh=8).hash(nb1)
    assert p.hash(nb1) != DftParameters(smearing_eV=0.2).hash(nb1)
    assert p.hash(nb1) != p.hash(read_crystal("Nb", a=3.31))
    assert DftParameters(mode_ecut_eV=500, smearing_eV=0.1).hash(nb1) == p.hash(nb1)  # int or float alike


def test_parameters_validation():
    with pytest.raises(InputError, match="kmesh"):
        DftParameters(kmesh=0)
    with pytest.raises(InputError, match="mode_ecut_eV"):
        DftParameters(mode_ecut_eV=-1)
    with pytest.raises(InputError, match="nbands"):
        DftParameters(nbands=0)


def test_cache_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "nhm"


def test_cache_round_trip(tmp_path):
    cache = BandCache(tmp_path / "cache")
    key = cache_key("test", {"x": 1})
    assert cache.load(key) is None
    arrays = {"e": np.arange(5.0), "c": np.array([[1 + 2j, 3j]]), "g": np.arange(6, dtype=np.int32).reshape(2, 3)}
    path = cache.store(key, arrays, {"fermi_level_eV": 11.25, "points": ["GM", "H"]})
    assert path.parent == tmp_path / "cache" and key in cache
    entry = cache.load(key)
    assert entry is not None
    assert entry.metadata["fermi_level_eV"] == 11.25 and entry.metadata["points"] == ["GM", "H"]
    for name, a in arrays.items():
        np.testing.assert_array_equal(entry.arrays[name], a)
        assert entry.arrays[name].dtype == a.dtype
    assert not list((tmp_path / "cache").glob(".tmp-*"))


def test_interrupted_write_leaves_no_entry_and_keeps_the_old_one(tmp_path, monkeypatch):
    cache = BandCache(tmp_path)
    key = cache_key("test", {"x": 2})
    cache.store(key, {"a": np.zeros(3)}, {"v": 1})
    real_savez = np.savez

    def interrupted(fh, **arrays):
        real_savez(fh, **arrays)
        fh.truncate(100)  # half-written file, then the user presses Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cache.store(key, {"a": np.ones(3)}, {"v": 2})
    other = cache_key("test", {"x": 3})
    with pytest.raises(KeyboardInterrupt):
        cache.store(other, {"a": np.ones(3)}, {"v": 3})
    monkeypatch.undo()
    assert not list(tmp_path.glob(".tmp-*"))  # temporaries removed
    assert cache.load(other) is None  # no entry for the interrupted key
    entry = cache.load(key)  # the old entry is intact
    assert entry is not None and entry.metadata["v"] == 1


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "wrong-key"])
def test_corrupt_entry_is_ignored_with_a_warning_and_removed(tmp_path, damage):
    cache = BandCache(tmp_path)
    key = cache_key("test", {"damage": damage})
    path = cache.store(key, {"a": np.arange(1000.0)}, {"v": 1})
    if damage == "garbage":
        path.write_bytes(b"this is not a zip archive")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:-500])
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # a valid archive under the wrong name
        other = cache.store(cache_key("test", {"other": 1}), {"a": np.zeros(2)}, {})
        os.replace(other, path)
    with pytest.warns(CacheWarning, match="corrupt"):
        assert cache.load(key) is None
    assert not path.exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.load(key) is None  # now a plain miss


def test_cache_rejects_bad_keys(tmp_path):
    with pytest.raises(ValueError):
        BandCache(tmp_path).path("../escape")


def _fake_scf_worker(calls):
    def worker(request, progress, stage):
        calls.append(request["task"])
        if progress is not None:
            progress(dft.ProgressEvent("scf", "iteration 1", iteration=1, energy_eV=-1.0))
        return {
            "fermi_level_eV": 11.0,
            "total_energy_eV": -10.0,
            "converged": True,
            "iterations": 1,
            "elapsed_s": 0.1,
            "gpw": b"GPAW restart file",
        }

    return worker


def test_run_scf_cache_and_no_cache_paths(tmp_path, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(dft, "_run_worker", _fake_scf_worker(calls))
    nb = read_crystal("Nb", a=3.30)
    cache_dir = tmp_path / "cache"
    # --no-cache: computes, and never touches the cache directory
    r0 = dft.run_scf(nb, use_cache=False, cache_dir=cache_dir)
    assert calls == ["scf"] and not r0.from_cache and not cache_dir.exists()
    # first cached run computes and stores; the second reads
    events: list[dft.ProgressEvent] = []
    r1 = dft.run_scf(nb, cache_dir=cache_dir, progress=events.append)
    assert calls == ["scf", "scf"] and not r1.from_cache and events[0].iteration == 1
    r2 = dft.run_scf(nb, cache_dir=cache_dir, progress=events.append)
    assert calls == ["scf", "scf"] and r2.from_cache and events[-1].stage == "cache"
    assert (r2.fermi_level_eV, r2.total_energy_eV, r2.gpw) == (11.0, -10.0, b"GPAW restart file")
    assert r2.key == r1.key == DftParameters().hash(nb)
    # --no-cache again recomputes although an entry exists
    assert not dft.run_scf(nb, use_cache=False, cache_dir=cache_dir).from_cache
    assert calls == ["scf"] * 3


def test_zone_plumbing_labels_and_cache(tmp_path, monkeypatch):
    """One GPAW run for lines, points and mesh: the request, the labelling of (fake, single plane-wave)
    states, the cache round trip."""
    from nhm.bands import dft_zone

    monkeypatch.setenv("NHM_ZONE_WORKERS", "2")  # a user's two cores (the suite's workers run one GPAW process each)
    calls: list[str] = []
    masks: list[list[bool]] = []
    scf_worker = _fake_scf_worker(calls)

    def worker(request, progress, stage):
        if request["task"] == "scf":
            return scf_worker(request, progress, stage)
        calls.append(request["stage"])
        assert request["gpw_bytes"] == b"GPAW restart file"
        nk, nb = len(request["kpts"]), request["nbands_converged"]
        mask = request["wavefunctions"]
        assert len(mask) == nk
        masks.append(list(mask))
        # the empty lattice: free-electron states |k + G>, energies |k + G|^2 (degenerate by symmetry)
        recip = 2 * np.pi * np.linalg.inv(np.asarray(request["cell"])).T
        box = np.stack(np.meshgrid(*[np.arange(-3, 4)] * 3, indexing="ij"), -1).reshape(-1, 3).astype(np.int32)
        energies, g, c = [], [], []
        for k, m in zip(request["kpts"], mask):
            e = 3.81 * np.sum(((box + k) @ recip) ** 2, axis=1)
            order = np.argsort(e, kind="stable")[:nb]
            energies.append(e[order])
            g.append(box if m else np.zeros((0, 3), dtype=np.int32))
            coef = np.zeros((nb, len(box)), dtype=complex)
            coef[np.arange(nb), order] = 1.0
            c.append(coef if m else np.zeros((nb, 0), dtype=complex))
        return {"energies_eV": np.array(energies), "g_vectors": g, "coefficients": c}

    monkeypatch.setattr(dft, "_run_worker", worker)
    al = read_crystal("Al")
    monkeypatch.setattr(dft_zone.os, "cpu_count", lambda: 2)
    zone = dft_zone.zone_bands(al, DftParameters(kmesh=6), nbands=5, cache_dir=tmp_path)
    assert calls == ["scf", "zone", "zone"]  # lines and mesh on the two cores, in two chunks of equal cost
    # the two chunks run in threads and may report in either order: the one with wave functions only comes first
    flat = [m for mask in sorted(masks, key=lambda mask: not all(mask)) for m in mask]
    assert flat[0] and not flat[-1] and flat == sorted(flat, reverse=True)  # wave functions on the lines and points only
    assert sorted(lb.name for lb in zone.lines) == ["GM-L", "GM-X", "GM-X(2)", "L-W", "W-X"]
    assert zone.mesh.n == 6 and zone.mesh_energies.shape == (216, 11) and zone.fermi_level == 11.0
    assert set(zone.levels) == {"GM", "X", "L", "W"}
    # empty-lattice states: labelled everywhere below the top of the computed bands, with crossings
    assert zone.levels["GM"][0].irrep == "GM1+" and zone.levels["GM"][0].energy == 0.0
    for lb in zone.lines:
        assert all(lab[0] for lab in lb.labels)
        assert lb.branches
    assert any(lb.crossings for lb in zone.lines)
    again = dft_zone.zone_bands(al, DftParameters(kmesh=6), nbands=5, cache_dir=tmp_path)
    assert calls == ["scf", "zone", "zone"]  # from the cache: no further GPAW run
    assert [lb.labels for lb in again.lines] == [lb.labels for lb in zone.lines]
    assert again.levels == zone.levels


def test_rich_progress_reporter():
    from rich.console import Console

    out = io.StringIO()
    with dft.rich_progress("Nb", console=Console(file=out, force_terminal=False)) as report:
        report(dft.ProgressEvent("scf", "iteration 3", 3, -10.36, -2.4, -5.7))
        report(dft.ProgressEvent("cache", "SCF read from the cache"))


def test_missing_gpaw_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(dft, "gpaw_version", lambda: "")
    with pytest.raises(NhmError, match="setup.sh"):
        dft.run_scf(read_crystal("Nb"), use_cache=False)


# --- irreps from traces (fast) --------------------------------------------------------------------


def test_degenerate_groups():
    assert degenerate_groups([-1.0, 0.0, 0.0005, 0.0009, 2.0, 2.0]) == [(0, 1), (1, 4), (4, 6)]
    assert degenerate_groups([]) == []
    with pytest.raises(ValueError):
        degenerate_groups([1.0, 0.0])


def test_irreps_of_states_from_exact_and_noisy_traces():
    lg = little_group(229, "N")
    by = {r.label: r for r in lg.irreps}
    chi = by["N1+"].characters + by["N3-"].characters
    assert irreps_of_states(229, "N", chi) == ("N1+", "N3-")
    rng = np.random.default_rng(1)
    noisy = chi + 1e-4 * rng.normal(size=chi.shape)  # DFT traces carry ~1e-5 of noise
    assert irreps_of_states(229, "N", noisy) == ("N1+", "N3-")
    assert irreps_of_states(229, "Γ", 2 * little_group(229, "GM").irrep("GM5+").characters) == ("GM5+", "GM5+")
    with pytest.raises(GroupTheoryError, match="do not decompose"):
        irreps_of_states(229, "N", 0.5 * chi)
    with pytest.raises(ValueError):
        irreps_of_states(229, "N", chi[:-1])


def test_bloch_level_fields():
    level = BlochLevel("GM", -5.9, "GM1+", 1)
    assert (level.k, level.energy, level.irrep, level.dimension) == ("GM", -5.9, "GM1+", 1)


def test_primitive_operations_are_integer_and_keep_k():
    for sg, k in [(229, "H"), (229, "P"), (225, "W"), (194, "K"), (191, "H"), (227, "X"), (166, "T")]:
        ops = primitive_operations(sg, k)
        kp = np.array([float(x) for x in ops.k])
        for r, g0 in zip(ops.rotations_inv_t, ops.g0):
            assert abs(round(np.linalg.det(r))) == 1
            np.testing.assert_allclose(r @ kp - kp, g0, atol=1e-12)


def _star_of(ops, g0: tuple[int, int, int]) -> np.ndarray:
    """The reciprocal-lattice vectors R g0 over the operations ``ops`` (primitive basis), sorted."""
    g = {g0}
    while True:
        new = {tuple(int(x) for x in r @ np.array(v)) for v in g for r in ops.rotations_inv_t} | g
        if new == g:
            return np.array(sorted(g))
        g = new


def test_plane_wave_star_sum_is_totally_symmetric():
    """At Γ of Im-3m (symmorphic, atom at the origin) the sum of plane waves over a star of G is
    invariant under the point group: GM1+. A single plane wave spans the star's permutation
    representation: characters = number of G fixed by R, which contains GM1+ once."""
    ops = primitive_operations(229, "GM")
    gv = _star_of(ops, (1, 1, 0))
    star = np.ones((1, len(gv)))
    assert irreps_of_states(229, "GM", plane_wave_traces(229, "GM", [0, 0, 0], gv, star)) == ("GM1+",)
    basis = np.eye(len(gv))  # every plane wave of the star separately
    labels = irreps_of_states(229, "GM", plane_wave_traces(229, "GM", [0, 0, 0], gv, basis))
    assert labels.count("GM1+") == 1 and sum(little_group(229, "GM").irrep(x).dimension for x in labels) == len(gv)
    with pytest.raises(GroupTheoryError, match="not the point of symmetry"):
        plane_wave_traces(229, "H", [0.1, 0.0, 0.0], gv, star)


def test_plane_wave_matrices_form_a_representation_in_any_basis():
    """D(g) on the 12 plane waves of the (110) star at Γ of Im-3m: permutation matrices with D(a)D(b) = D(ab),
    and after a random non-orthonormal change of basis still a representation with the same traces."""
    from nhm.bands.bloch import matrices_on_plane_waves
    from nhm.groups.spacegroup import space_group

    ops = primitive_operations(229, "GM")
    gv = _star_of(ops, (1, 1, 0))
    table = space_group(229).multiplication[0]
    pos = {int(h): i for i, h in enumerate(ops.indices)}
    rng = np.random.default_rng(7)
    mix = rng.normal(size=(len(gv), len(gv))) + 1j * rng.normal(size=(len(gv), len(gv)))
    for coefficients in (np.eye(len(gv)), mix @ np.eye(len(gv))):
        d = matrices_on_plane_waves(ops, [0, 0, 0], gv, coefficients)
        for a in range(len(d)):
            for b in range(0, len(d), 7):
                ab = pos[int(table[ops.indices[a], ops.indices[b]])]
                np.testing.assert_allclose(d[a] @ d[b], d[ab], atol=1e-9)
        np.testing.assert_allclose(np.trace(d, axis1=1, axis2=2), plane_wave_traces(229, "GM", [0, 0, 0], gv, np.eye(len(gv))), atol=1e-9)
    perm = matrices_on_plane_waves(ops, [0, 0, 0], gv, np.eye(len(gv)))
    assert np.allclose(np.abs(perm).max(axis=1), 1) and np.allclose(np.abs(perm).sum(axis=1), 1)


# --- GPAW (slow) ------------------------------------------------------------------------------------

# science.md §7: Nb, GPAW PW 500 eV, PBE, 12^3 mesh, a = 3.30 Å; E - E_F in eV, every level in [-7, 7] eV.
NB_REFERENCE = {
    "GM": [("GM1+", -5.90), ("GM5+", 0.37), ("GM3+", 3.27)],
    "H": [("H3+", -3.72), ("H5+", 5.62)],
    "P": [("P4", -1.09), ("P3", 4.12)],
    "N": [("N1+", -3.71), ("N3+", -1.65), ("N3-", 2.28), ("N1+", 3.31), ("N2+", 3.99), ("N4+", 6.39)],
}
NB_TOLERANCE_EV = 0.05
VALENCE_WINDOW_EV = 25.0  # below E_F - 25 eV: semicore states (Mg 2s/2p), accidentally degenerate between atoms


def _irrep_levels(gpw: Path, names: list[str], ecut: float, crystal) -> dict[str, list[tuple[float, dict[str, complex]]]]:
    """Levels and labels from the program irrep (3.2.0) reading GPAW's restart file with wave functions.

    ``magmom`` must be given: without it irrep asks GPAW for magnetic moments, which silently reruns
    an SCF (and splits degeneracies). nhm's setting is passed explicitly (refUC, shiftUC) rather
    than left to irrep's own search: labels can depend on the origin (hcp on 2c or 2d swaps H1 and
    H2), so both programs must label the same cell. (Here irrep's search finds the same one.)
    irrep's refUC maps the DFT cell to the conventional one: refUC.T = P^-1 (a_p = a_c P). irrep
    then takes it as given and, with search_cell=True, maps its operations onto the tables (raising
    RuntimeError if our setting were not the tables'); without search_cell it skips that mapping
    and fails later with a KeyError.
    """
    from gpaw import GPAW
    from irrep.bandstructure import BandStructure

    from nhm.crystal.setting import primitive_transform

    p = np.array(primitive_transform(crystal.space_group), dtype=float)
    calc = GPAW(str(gpw), txt=None)
    with contextlib.redirect_stdout(io.StringIO()):  # irrep prints its whole analysis
        bs = BandStructure.from_gpaw(
            calculator_gpaw=calc,
            Ecut=ecut,
            irreps=True,
            magmom=np.zeros(len(calc.atoms)),
            refUC=np.linalg.inv(p).T,
            shiftUC=np.zeros(3),
            search_cell=True,  # with refUC given, this makes irrep match its operations to the tables
            degen_thresh=DEGENERACY_TOL_EV,
            calculate_traces=True,
            EF=0.0,
        )
        bs.identify_irreps(kpnames=names)
    out = {}
    for name, kp in zip(names, bs.kpoints):
        out[name] = [(float(e), {lab: complex(m) for lab, m in ir.items()}) for e, ir in zip(kp.Energy_mean, kp.irreps)]
    return out


class Computed:
    def __init__(self, name, crystal, params, states, scf, irrep_levels):
        self.name, self.crystal, self.params, self.states, self.scf, self.irrep = name, crystal, params, states, scf, irrep_levels


def _compute(crystal, params, tmp: Path, name: str, cache: Path | None = None) -> Computed:
    scf = dft.run_scf(crystal, params, cache_dir=tmp / "cache" if cache is None else cache)
    gpw = tmp / f"{name}.gpw"
    states = dft.bloch_states_at_points(crystal, params, scf=scf, save_gpw=gpw)
    assert gpw.exists()
    irrep_levels = _irrep_levels(gpw, list(states), params.mode_ecut_eV, crystal)
    return Computed(name, crystal, params, states, scf, irrep_levels)


@pytest.fixture(scope="module")
def niobium(tmp_path_factory, dft_cache) -> Computed:
    # the SCF of `nhm analyze Nb` (ASE's a = 3.30 Å, the defaults): the run's cache shares it with the other Nb tests
    return _compute(read_crystal("Nb", a=3.30), DftParameters(), tmp_path_factory.mktemp("nb"), "Nb", cache=dft_cache)


METALS = {
    "Al": lambda: read_crystal("Al"),
    "Cu": lambda: read_crystal("Cu"),
    "Pb": lambda: read_crystal("Pb"),
    "Mg": lambda: read_crystal("Mg"),
    "MgB2": lambda: read_crystal(mgb2()),
}
METAL_PARAMETERS = DftParameters(mode_ecut_eV=350.0, kmesh=6)  # labels only: modest cutoff and mesh


_COMPUTED: dict[str, Computed] = {}


def _metal(name: str, tmp_path_factory) -> Computed:
    if name not in _COMPUTED:  # once per test session, shared by the tests below
        _COMPUTED[name] = _compute(METALS[name](), METAL_PARAMETERS, tmp_path_factory.mktemp(name), name)
    return _COMPUTED[name]


@pytest.fixture(params=list(METALS))
def metal(request, tmp_path_factory) -> Computed:
    return _metal(request.param, tmp_path_factory)


def _conjugate_label(sg: int, k: str, label: str) -> str:
    """The irrep at k whose characters are the complex conjugates of ``label``'s (itself if real)."""
    lg = little_group(sg, k)
    want = np.conj(lg.irrep(label).characters)
    return next(r.label for r in lg.irreps if np.max(np.abs(r.characters - want)) < 1e-6)


def _check_against_irrep(c: Computed) -> list[tuple[str, str, str]]:
    """Every nhm level has irrep's label at the same energy, except where irrep's label is the
    complex-conjugate irrep (see test_irrep_labels_conjugate_at_h_of_p63mmc); returns those cases."""
    sg = c.crystal.space_group
    conjugated = []
    for name, states in c.states.items():
        ours = states.levels(sg)
        assert ours, f"no levels at {name}"
        top = max(level.energy for level in ours)
        theirs = c.irrep[name]
        want = Counter(level.irrep for level in ours)
        got: Counter = Counter()
        for e, ir in theirs:
            if e <= top + 2 * DEGENERACY_TOL_EV:
                for lab, m in ir.items():
                    assert abs(m - round(m.real)) < 0.05, f"{name} {e:.3f} eV: irrep finds no integer multiplicities: {ir}"
                    got[lab] += round(m.real)
        got = +got
        for level in ours:
            near = Counter()
            for e, ir in theirs:
                if abs(e - level.energy) < 2 * DEGENERACY_TOL_EV:
                    near.update({lab: round(m.real) for lab, m in ir.items()})
            if near[level.irrep] < 1:
                partner = _conjugate_label(sg, name, level.irrep)
                assert partner != level.irrep and near[partner] >= 1, (
                    f"{name} {level.energy:.4f} eV: nhm says {level.irrep}, irrep says {dict(near)}"
                )
                conjugated.append((name, level.irrep, partner))
        assert sum(got.values()) == sum(want.values()), f"{name}: nhm {sorted(want.items())}, irrep {sorted(got.items())}"
    return conjugated


@pytest.mark.slow
def test_niobium_levels_match_science_md(niobium):
    ef = niobium.scf.fermi_level_eV
    worst = 0.0
    for name, reference in NB_REFERENCE.items():
        levels = [lv for lv in niobium.states[name].levels(229) if abs(lv.energy - ef) < 7.0]
        got = [(lv.irrep, lv.energy - ef) for lv in levels]
        assert [lab for lab, _ in got] == [lab for lab, _ in reference], f"{name}: {got}"
        for (_, e), (_, e_ref) in zip(got, reference):
            worst = max(worst, abs(e - e_ref))
            assert e == pytest.approx(e_ref, abs=NB_TOLERANCE_EV), f"{name}: {got} vs {reference}"
        assert all(lv.dimension == little_group(229, name).irrep(lv.irrep).dimension for lv in levels)
    print(f"Nb: largest deviation from science.md §7: {worst * 1000:.1f} meV")


@pytest.mark.slow
def test_niobium_labels_equal_irrep(niobium):
    assert _check_against_irrep(niobium) == []


@pytest.mark.slow
def test_niobium_scf_and_bloch_states_are_cached(niobium, tmp_path):
    nb, params = niobium.crystal, niobium.params
    cache_dir = tmp_path / "cache"
    BandCache(cache_dir).store(
        params.hash(nb),
        {"gpw": np.frombuffer(niobium.scf.gpw, dtype=np.uint8)},
        {k: getattr(niobium.scf, k) for k in ("fermi_level_eV", "total_energy_eV", "converged", "iterations", "elapsed_s", "gpaw_version")},
    )
    scf = dft.run_scf(nb, params, cache_dir=cache_dir)
    assert scf.from_cache and scf.fermi_level_eV == niobium.scf.fermi_level_eV
    first = dft.bloch_states_at_points(nb, params, points=["N", "GM"], cache_dir=cache_dir)
    assert list(first) == ["N", "GM"]
    events: list[dft.ProgressEvent] = []
    again = dft.bloch_states_at_points(nb, params, points=["N", "GM"], cache_dir=cache_dir, progress=events.append)
    assert [e.stage for e in events] == ["cache"]
    for name in first:
        np.testing.assert_array_equal(again[name].coefficients, first[name].coefficients)
        np.testing.assert_allclose(first[name].energies_eV, niobium.states[name].energies_eV, atol=1e-4)


@pytest.mark.slow
def test_niobium_zone_lines_attach_to_the_levels(niobium, dft_cache):
    """Lines of Nb from GPAW: the branches end on the levels of the points with the subduced irreps,
    and the levels from the zone run equal those of the separate run at the points."""
    from nhm.bands.dft_zone import zone_bands

    zone = zone_bands(niobium.crystal, niobium.params, scf=niobium.scf, cache_dir=dft_cache)  # nhm analyze Nb's zone run
    assert sorted(lb.name for lb in zone.lines) == ["GM-H", "GM-N", "GM-P", "H-N", "H-P", "N-P"]
    for name, lvs in zone.levels.items():
        ref = niobium.states[name].levels(229)
        assert [lv.irrep for lv in lvs] == [lv.irrep for lv in ref]
        np.testing.assert_allclose([lv.energy for lv in lvs], [lv.energy for lv in ref], atol=2e-3)
    for lb in zone.lines:
        for i, point in ((0, lb.line.start), (-1, lb.line.end)):
            end = "start" if i == 0 else "end"
            for br in lb.branches:
                if not br.present[i]:
                    continue  # a partial branch: above the labelled states at this end (bands/lines.py)
                level = min(zone.levels[point], key=lambda lv: abs(lv.energy - br.energies[i]))
                assert abs(level.energy - br.energies[i]) < 5e-3, (lb.name, br.key)
                assert lb.line.subduce(end, level.irrep)[br.irrep] > 0 or any(
                    abs(other.energy - level.energy) < 5e-3 and lb.line.subduce(end, other.irrep)[br.irrep] > 0
                    for other in zone.levels[point]
                ), (lb.name, br.key, level.irrep)
    assert len(zone.fermi_bands()) == 2  # two bands cross E_F (science.md §7)


@pytest.mark.slow
def test_scf_reports_progress_and_nonconvergence_is_an_error(tmp_path):
    al = read_crystal("Al")
    events: list[dft.ProgressEvent] = []
    with pytest.raises(NhmError, match="SCF did not converge in 2 iterations"):
        dft.run_scf(al, DftParameters(mode_ecut_eV=250.0, kmesh=4, maxiter=2), progress=events.append, cache_dir=tmp_path)
    assert [e.iteration for e in events if e.iteration] == [1, 2]
    assert not list(tmp_path.glob("*.npz"))  # nothing cached
    loose = dft.run_scf(al, DftParameters(mode_ecut_eV=250.0, kmesh=4, maxiter=2), strict=False, cache_dir=tmp_path)
    assert isinstance(loose, ScfResult) and not loose.converged and not list(tmp_path.glob("*.npz"))


@pytest.mark.slow
def test_metal_levels_are_single_irreps_of_the_right_dimension(metal):
    sg = metal.crystal.space_group
    ef = metal.scf.fermi_level_eV
    for name, s in metal.states.items():
        lg = little_group(sg, name)
        groups = [(a, b) for a, b in degenerate_groups(s.energies_eV) if a < s.nbands and b < len(s.energies_eV)]
        assert groups
        for a, b in groups:
            labels = irreps_of_states(sg, name, plane_wave_traces(sg, name, s.k_primitive, s.g_vectors, s.coefficients[a:b]))
            if s.energies_eV[a] < ef - VALENCE_WINDOW_EV:
                continue
            assert len(labels) == 1 and lg.irrep(labels[0]).dimension == b - a, (name, s.energies_eV[a:b] - ef, labels)


# irrep 3.2.0 labels the complex-conjugate irrep at H of P6_3/mmc (H1 <-> H2, complex characters
# from the screw axis at k_z = 1/2). nhm's labels are Bilbao's: see test_mg_2s_band_is_the_bcs_ebr.
IRREP_CONJUGATES = {"Mg": {("H", "H1", "H2"), ("H", "H2", "H1")}}


@pytest.mark.slow
def test_metal_labels_equal_irrep(metal):
    conjugated = _check_against_irrep(metal)
    assert set(conjugated) <= IRREP_CONJUGATES.get(metal.name, set()), conjugated


@pytest.mark.slow
def test_mg_2s_band_is_the_bcs_ebr(tmp_path_factory):
    """The Mg 2s band (~70 eV below E_F, two atoms on 2c) is an isolated s band, i.e. Bilbao's EBR
    A1'@2c of P6_3/mmc: GM1+ + GM4-, H1, K5, ... nhm's labels reproduce it; irrep says H2 at H."""
    from nhm.groups.bcs import bcs_ebrs

    metal = _metal("Mg", tmp_path_factory)
    data = bcs_ebrs(194, False, False)
    ebr = next(e for e in data.ebrs if e.wyckoff == "2c" and e.name.startswith("A1'↑"))
    for name, states in metal.states.items():
        deep = [lv.irrep for lv in states.levels(194) if lv.energy < states.fermi_level_eV - 60]
        expected = [lab for lab, n in zip(data.labels, ebr.vector) for _ in range(n) if lab.startswith(name) and lab[len(name)].isdigit()]
        assert sorted(deep) == sorted(expected), (name, deep, expected)
    assert metal.states["H"].levels(194)[0].irrep == "H1"
    assert set(metal.irrep["H"][0][1]) == {"H2"}  # irrep's label of the same (lowest) level
