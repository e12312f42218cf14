"""Band structures of external DFT codes read through irrep (nhm.bands.external).

Fast tests (no DFT files): code names, CLI parsing, errors, and the routing to irrep's readers with
irrep's own reading flow simulated (a fake ``BandStructure.from_<code>`` that calls the reader's
``get_check_mpgrid`` like irrep does); synthetic plane waves in a non-BCS primitive cell with a
shifted origin must give the irreps of the same states in the BCS cell.
Slow test (GPAW): bcc Nb written to a .gpw and read back via irrep must give nhm's direct levels.
QE, VASP, ABINIT and Wannier90 are not tested on real files (none on this machine).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import ase
import numpy as np
import pytest
from irrep.bandstructure import BandStructure

from nhm.bands import external
from nhm.bands.bloch import levels_from_plane_waves
from nhm.bands.external import ExternalBands, normalize_code, parse_from_dft, read_external
from nhm.crystal import read_crystal
from nhm.errors import InputError
from nhm.groups.kpoints import points_of_symmetry

A_NB = 3.30
M_USER = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1]])  # user cell rows = M_USER @ BCS primitive rows
X_ATOM = np.array([0.1, 0.2, 0.3])  # the Nb atom in the user cell: origin shifted off the atom


def _bcs_primitive() -> ase.Atoms:
    return read_crystal("Nb", a=A_NB).primitive_atoms()


def _shell(k: np.ndarray, cell: np.ndarray, skip: int = 0) -> np.ndarray:
    """G vectors (primitive basis) of the ``skip``-th shell of |k + G| around k: closed under the little group."""
    rng = np.arange(-3, 4)
    g = np.stack(np.meshgrid(rng, rng, rng, indexing="ij"), -1).reshape(-1, 3)
    recip = np.linalg.inv(cell).T
    norm = np.round(np.linalg.norm((g + k) @ recip, axis=1), 6)
    return g[norm == np.unique(norm)[skip]]


def _irrep_blocks(name: str, k: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (rows) of the plane-wave space on ``g`` split into irrep subspaces, and their energies.

    Projectors ``P_r = (d_r/|G_k|) sum_g conj(chi_r(g)) D(g)`` with ``D(g)`` the action of the
    little group on the plane waves (nhm.bands.bloch's convention); subspace r gets energy r (eV).
    Unlike the whole shell, single irrep subspaces are not invariant under a change of origin.
    """
    from nhm.bands.bloch import primitive_operations
    from nhm.groups.irreps import little_group

    ops, lg = primitive_operations(229, name), little_group(229, name)
    index = {tuple(v): i for i, v in enumerate(g)}
    k_exact = np.array([float(x) for x in ops.k])
    shift = np.rint(k - k_exact).astype(int)
    d = []
    for i in range(len(ops.indices)):
        m = np.zeros((len(g), len(g)), dtype=complex)
        for j, gv in enumerate(g):
            gn = (gv + shift) @ ops.rotations_inv_t[i].T + ops.g0[i] - shift
            m[index[tuple(gn)], j] = np.exp(-2j * np.pi * ((k_exact + gn + shift) @ ops.translations[i]))
        d.append(m)
    rows, energies = [], []
    for e, r in enumerate(lg.irreps):
        proj = r.dimension / lg.order * sum(np.conj(x) * m for x, m in zip(r.characters, d))
        u, sv, _ = np.linalg.svd(proj)
        basis = u[:, sv > 0.5].T  # eigenvalue-1 eigenvectors of the projector
        rows.extend(basis)
        energies.extend([float(e)] * len(basis))
    rows.append(np.eye(len(g))[0])  # a top band: its group is dropped as possibly incomplete
    energies.append(100.0)
    return np.array(rows), np.array(energies)


def _synthetic(user: bool) -> dict:
    """Per point of symmetry of Im-3m: the plane waves of the two shortest |k + G| shells, split into irreps.

    In the BCS primitive cell as built; written in the user cell (``user=True``): ``k_u = M^T k_p``,
    ``G_u = M^T G_p``, ``c_u = c_p exp(+2 pi i (k_p+G_p).s)`` with ``x_p = M^T x_u + s``, the inverse
    of what read_external applies.
    """
    cell = _bcs_primitive().cell[:]
    s = -X_ATOM @ M_USER  # x_p = M^T x_u + s puts the atom (x_u = X_ATOM) at the origin
    out = {}
    for p in points_of_symmetry(229):
        k = np.array([float(x) for x in p.primitive])
        g = np.vstack([_shell(k, cell, 0), _shell(k, cell, 1)])
        c, e = _irrep_blocks(p.name, k, g)
        if user:
            phase = np.exp(2j * np.pi * ((k + g) @ s))
            out[p.name] = (M_USER @ k, g @ M_USER.T, c * phase[None, :], e)
        else:
            out[p.name] = (k, g, c, e)
    return out


class _FakeParser:
    def __init__(self, kpts):
        self.kpts = kpts

    def get_kpt_coord(self, ik):
        return self.kpts[ik]


def _fake_irrep(monkeypatch, *, spinor: bool = False, drop: str | None = None, lattice=None, positions=None):
    """Replace irrep's five readers by one that follows irrep's flow on synthetic user-cell data.

    Returns the list of (method, kwargs) calls, to check the routing.
    """
    data = _synthetic(user=True)
    if drop is not None:
        data.pop(drop)
    names = list(data)
    extra = np.array([0.1, 0.0, 0.0])  # a k-point of the mesh that is no point of symmetry
    kpts = [extra] + [data[n][0] for n in names]
    calls: list[tuple[str, dict]] = []
    cell_u = M_USER @ _bcs_primitive().cell[:]

    def make(method):
        def reader(cls, **kwargs):
            calls.append((method, kwargs))
            sg = SimpleNamespace(
                spinor=spinor,
                real_lattice=cell_u if lattice is None else lattice,
                positions=[X_ATOM] if positions is None else positions,
                typat=[41] * (1 if positions is None else len(positions)),
            )
            kplist, *_ = cls.get_check_mpgrid(
                parser=_FakeParser(kpts), spacegroup=sg, kplist=None, EF_in=7.5, Ecut=kwargs.get("Ecut"), Ecut0=300.0,
                IBstart=None, IBend=None, NBin=10, NK=len(kpts), verbosity=0, EF=kwargs.get("EF"),
            )
            kps = []
            for ik in kplist:
                k, g, c, e = data[names[ik - 1]]
                kps.append(SimpleNamespace(k=k, ig=np.c_[g, np.zeros((len(g), 3), int)], WF=c[:, :, None], Energy_raw=e + 3.0))
            return cls(spacegroup=sg, kpoints=kps, kplist=kplist, efermi=0.0)

        return classmethod(reader)

    for code in external.CODES:
        monkeypatch.setattr(BandStructure, f"from_{code}", make(f"from_{code}"))
    return calls


def _files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "WAVECAR").write_bytes(b"")
    (tmp_path / "POSCAR").write_text("")
    (tmp_path / "nb.WFK").write_bytes(b"")
    (tmp_path / "nb.save").mkdir()
    (tmp_path / "w.win").write_text("")
    return {
        "vasp": tmp_path / "WAVECAR",
        "abinit": tmp_path / "nb.WFK",
        "espresso": tmp_path / "nb",
        "wannier90": tmp_path / "w",
    }


# --- fast ---------------------------------------------------------------------------------------


def test_code_names_and_cli_value():
    assert normalize_code("QE") == "espresso" and normalize_code("vasp") == "vasp"
    assert parse_from_dft("qe:out/nb") == ("espresso", "out/nb")
    assert parse_from_dft("vasp:C:/runs/WAVECAR") == ("vasp", "C:/runs/WAVECAR")  # only the first colon splits
    with pytest.raises(InputError, match="unknown DFT code"):
        normalize_code("castep")
    with pytest.raises(InputError, match="CODE:PATH"):
        parse_from_dft("WAVECAR")


def test_missing_files_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_external("vasp", tmp_path / "WAVECAR")
    (tmp_path / "WAVECAR").write_bytes(b"")
    with pytest.raises(InputError, match="POSCAR"):
        read_external("vasp", tmp_path / "WAVECAR")
    with pytest.raises(InputError, match="prefix"):
        read_external("qe", tmp_path / "nb")
    (tmp_path / "w.win").write_text("")
    with pytest.raises(InputError, match="ecut"):
        read_external("wannier90", tmp_path / "w")


def test_unreadable_file_is_an_input_error(tmp_path):
    (tmp_path / "WAVECAR").write_bytes(b"not a wavecar")
    (tmp_path / "POSCAR").write_text("garbage\n")
    with pytest.raises(InputError, match="irrep could not read the vasp calculation"):
        read_external("vasp", tmp_path / "WAVECAR")


@pytest.mark.parametrize("code", ["vasp", "abinit", "espresso", "wannier90"])
def test_routing_to_irrep_and_cell_mapping(code, tmp_path, monkeypatch):
    """Every code reaches irrep's reader with nhm's arguments; states written in another primitive
    cell with a shifted origin get the irreps of the same states in the BCS cell."""
    calls = _fake_irrep(monkeypatch)
    path = _files(tmp_path)[code]
    got = read_external(code, path, ecut_eV=250.0, space_group=229)
    (method, kwargs), = calls
    assert method == f"from_{code}"
    assert kwargs["irreps"] is False and kwargs["EF"] == 0.0 and kwargs["Ecut"] == 250.0
    expected_path = {"vasp": ("fWAV", str(path)), "abinit": ("fWFK", str(path)), "espresso": ("prefix", str(path)), "wannier90": ("prefix", str(path))}
    key, value = expected_path[code]
    assert kwargs[key] == value
    if code == "vasp":
        assert kwargs["fPOS"] == str(tmp_path / "POSCAR") and kwargs["spinor"] is False
    assert isinstance(got, ExternalBands) and got.fermi_level_eV == 7.5 and got.crystal.space_group == 229
    assert got.transformation.tolist() == M_USER.T.tolist()
    direct = _synthetic(user=False)
    assert list(got.levels) == [p.name for p in points_of_symmetry(229)]
    for name, (k, g, c, e) in direct.items():
        want = levels_from_plane_waves(229, name, k, e + 3.0, g, c)
        assert got.levels[name] == want and len(want) >= 1, name
    h = next(np.array([float(x) for x in p.primitive]) for p in points_of_symmetry(229) if p.name == "H")
    assert np.allclose(got.k_points["H"], M_USER @ h)  # as written in the file (user basis)


def test_wrong_origin_would_change_the_irreps(monkeypatch, tmp_path):
    """Guard for the phase exp(-2 pi i (k+G).s): without it the (shifted) states at H are other irreps."""
    _fake_irrep(monkeypatch)
    good = read_external("abinit", _files(tmp_path)["abinit"])
    monkeypatch.setattr(external, "_cell_map", lambda c, f=external._cell_map: (f(c)[0], np.zeros(3)))
    try:
        bad = read_external("abinit", tmp_path / "nb.WFK")
    except InputError:
        return  # the traces do not even decompose: also a failure of the unshifted reading
    assert any([(lv.irrep, lv.energy) for lv in good.levels[n]] != [(lv.irrep, lv.energy) for lv in bad.levels[n]] for n in good.levels)


def test_spinor_missing_points_supercell_and_space_group(monkeypatch, tmp_path):
    files = _files(tmp_path)
    _fake_irrep(monkeypatch, spinor=True)
    with pytest.raises(InputError, match="spinless"):
        read_external("abinit", files["abinit"])
    _fake_irrep(monkeypatch, drop="N")
    with pytest.raises(InputError, match=r"no k-point at the point\(s\) of symmetry N .*N = \(") as err:
        read_external("abinit", files["abinit"])
    assert "non-self-consistent" in str(err.value)
    got = read_external("abinit", files["abinit"], points=["GM", "H"])  # a subset is fine
    assert list(got.levels) == ["GM", "H"]
    with pytest.raises(InputError, match="not 221"):
        read_external("abinit", files["abinit"], points=["GM"], space_group=221)
    cubic = np.eye(3) * A_NB  # bcc in its conventional (centred) cell: refused
    _fake_irrep(monkeypatch, lattice=cubic, positions=[[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(InputError, match="not a primitive cell"):
        read_external("abinit", files["abinit"])


def test_analysis_from_external(monkeypatch, tmp_path):
    _fake_irrep(monkeypatch)
    bands = read_external("abinit", _files(tmp_path)["abinit"])
    from nhm.report.analyze import analysis_from_external

    an = analysis_from_external(bands, window_eV=(-6, 6))
    assert an.fermi_level == 7.5 and an.zone is None and an.levels is bands.levels
    assert an.points_only is not None and an.verdict is None
    assert [w.label for w in an.centres] == ["2a"] and "abinit" in an.notes[0]
    no_ef = ExternalBands(**{**bands.__dict__, "fermi_level_eV": None})
    with pytest.raises(InputError, match="no Fermi level"):
        analysis_from_external(no_ef)
    assert analysis_from_external(no_ef, fermi_level_eV=3.0).fermi_level == 3.0


# --- GPAW (slow) ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_gpaw_file_read_through_irrep_equals_direct_levels(tmp_path):
    from nhm.bands import dft

    crystal = read_crystal("Nb", a=A_NB)
    params = dft.DftParameters(mode_ecut_eV=350.0, kmesh=6)
    gpw = tmp_path / "nb.gpw"
    states = dft.bloch_states_at_points(crystal, params, save_gpw=gpw, cache_dir=tmp_path / "cache")
    nb = next(iter(states.values())).nbands
    got = read_external("gpaw", gpw, nbands=nb, space_group=229)
    assert got.crystal.space_group == 229 and got.transformation.tolist() == np.eye(3, dtype=int).tolist()
    assert list(got.levels) == list(states)
    for name, st in states.items():
        ours, theirs = st.levels(229), got.levels[name]
        assert [(lv.k, lv.irrep, lv.dimension) for lv in theirs] == [(lv.k, lv.irrep, lv.dimension) for lv in ours], name
        assert np.allclose([lv.energy for lv in theirs], [lv.energy for lv in ours], atol=1e-6), name
    assert got.fermi_level_eV is not None and np.isfinite(got.fermi_level_eV)
    # all bands of the file (the 3 topmost are not converged): the levels below nb are unchanged
    everything = read_external("gpaw", gpw)
    for name in states:
        assert everything.levels[name][: len(got.levels[name])] == got.levels[name]
