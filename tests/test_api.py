"""The public API (issue 24): ``import nhm`` lazy and fast, the callable sub-packages in any import order, one path
with the command line (``nhm X … --json`` equals ``nhm.X(…).to_dict()``), the inputs a material may be, result
objects (fields, plots, notebook tables), typed and documented public names."""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import nhm
from nhm.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
BCC = "bcc:GM1+,H1+,P1,N2+"
NHM = [sys.executable, "-m", "nhm.cli"]


def cli_json(*args: str, env: dict | None = None, timeout: float = 600) -> object:
    """The JSON the command prints: ``--json -`` (a file option), or ``--json`` (a flag of the group-theory commands)."""
    flag = ["--json"] if args[0] in ("classify", "irreps", "ebr") else ["--json", "-"]
    r = subprocess.run([*NHM, *args, *flag], capture_output=True, text=True, timeout=timeout, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def without_timings(doc):
    """``doc`` without its wall-clock times and the process's peak memory: what two runs of one calculation differ in."""
    if isinstance(doc, dict):
        return {k: without_timings(v) for k, v in doc.items() if k not in ("seconds", "peak_rss_MiB")}
    if isinstance(doc, list):
        return [without_timings(v) for v in doc]
    return doc


def python(code: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env)
    assert r.returncode == 0, r.stderr
    return r


# --- import nhm: lazy ----------------------------------------------------------------------------------------


def test_import_nhm_is_lazy_and_names_the_api():
    """``import nhm`` loads none of the API, numpy or the sub-packages (benchmarks/bench_import.py times it)."""
    r = python(
        "import sys, nhm\n"
        "heavy = [m for m in ('nhm.api', 'nhm.results', 'numpy', 'ase', 'nhm.kspace', 'nhm.screen', 'nhm.manybody') if m in sys.modules]\n"
        "print(heavy, sorted(nhm.__all__))\n"
    )
    assert r.stdout.split("]")[0] == "["
    assert set(nhm.__all__) == {"__version__", "analyze", "classify", "ebr", "irreps", "kspace", "manybody", "screen"}
    assert {"analyze", "kspace", "screen"} <= set(dir(nhm))
    with pytest.raises(AttributeError):
        nhm.nonexistent  # noqa: B018


# --- nhm.kspace, nhm.manybody, nhm.screen: packages that are callable ------------------------------------------

ORDERS = {
    "submodule first": (
        "import nhm.kspace.sources, nhm.manybody.selection, nhm.screen.params\n"
        "import nhm\n"
        "r = nhm.kspace(SPEC, mesh=8)\n"
    ),
    "call first": (
        "import nhm\n"
        "r = nhm.kspace(SPEC, mesh=8)\n"
        "import nhm.kspace.sources, nhm.manybody.selection, nhm.screen.params\n"
    ),
}
CHECK = (
    "import types, inspect\n"
    "assert isinstance(nhm.kspace, types.ModuleType) and nhm.kspace.__name__ == 'nhm.kspace'\n"
    "assert nhm.kspace.sources.__name__ == 'nhm.kspace.sources' and nhm.screen.params.__name__ == 'nhm.screen.params'\n"
    "assert callable(nhm.kspace) and callable(nhm.screen) and callable(nhm.manybody)\n"
    "assert list(inspect.signature(nhm.kspace).parameters)[:2] == ['material_or_model', 'mesh']\n"
    "assert nhm.kspace(SPEC, mesh=8).to_dict() == r.to_dict()\n"
    "print(r.band, r.k_space_magnetism)\n"
)


@pytest.mark.parametrize("order", ORDERS)
def test_callable_subpackages_in_both_import_orders(order):
    r = python(f"SPEC = {BCC!r}\n" + ORDERS[order] + CHECK)
    assert r.stdout.split() == ["GM:GM1+", "H:H1+", "N:N2+", "P:P1", "True"]


@pytest.mark.slow
@pytest.mark.parametrize("order", ORDERS)
def test_kspace_of_nb_and_its_subpackage_in_both_import_orders(order, dft_cache):
    env = {**os.environ, "NHM_CACHE_DIR": str(dft_cache)}
    r = python("SPEC = 'Nb'\n" + ORDERS[order] + CHECK, env=env, timeout=1800)
    assert r.stdout.split()[-1] == "True"  # Nb's own band has k-space magnetism on its Fermi surface


# --- one path: the command's JSON is the result's to_dict() ---------------------------------------------------


def test_kspace_json_of_a_model_band_equals_to_dict():
    assert cli_json("kspace", BCC, "--mesh", "8") == nhm.kspace(BCC, mesh=8).to_dict()


def test_kspace_json_of_a_tight_binding_band_equals_to_dict():
    cli = cli_json("kspace", "tb:bcc-sd", "--mesh", "8")
    api = nhm.kspace("tb:bcc-sd", mesh=8).to_dict()
    assert cli == api and "wannier_real_space" in api and next(iter(api)) == "schema_version"


@pytest.mark.parametrize("reading", ["R1", "both"])
def test_classify_json_equals_to_dict(reading):
    band = "GM:GM1+ H:H1+ P:P1 N:N2+"
    cli = cli_json("classify", "--group", "229", "--wyckoff", "2a", "--band", band, "--reading", reading)
    res = nhm.classify(band, group=229, wyckoff="2a", reading=reading)
    assert cli == res.to_dict()
    assert res.verdict == "superconducting" and set(res.verdicts) == ({"R1", "R2"} if reading == "both" else {"R1"})
    docs = cli if isinstance(cli, list) else [cli]
    assert all(d["schema_version"] == nhm.api.SCHEMA_VERSION for d in docs)


@pytest.mark.parametrize("args,kwargs", [((), {}), (("--double", "--tr"), {"double": True, "tr": True})])
def test_irreps_json_equals_to_dict(args, kwargs):
    res = nhm.irreps(229, "N", **kwargs)
    assert cli_json("irreps", "229", "N", *args) == res.to_dict()
    assert res.labels and set(res.characters) == set(res.labels) and len(res.operations) == len(next(iter(res.characters.values())))
    assert "<table>" in res._repr_html_()


def test_ebr_json_equals_to_dict():
    assert cli_json("ebr", "229", "--double", "--tr") == nhm.ebr(229, double=True, tr=True).to_dict()
    res = nhm.ebr("166", wyckoff="6c")
    assert cli_json("ebr", "166", "--wyckoff", "6c") == res.to_dict() and not any(res.elementary)


def test_manybody_json_equals_to_dict():
    cli = cli_json("manybody", "--sites", "2", "--V", "0.5", "--selection", "--selection-sites", "4")
    res = nhm.manybody(sites=2, V=0.5, selection=True, selection_sites=4)
    assert without_timings(cli) == without_timings(res.to_dict()) and set(cli) == set(res.to_dict())
    assert res.delta_E == cli["delta_E"] and res.selection.n_k == 4
    scan = nhm.manybody(sites=2, scan="U", values=[1, 2]).to_dict()
    assert without_timings(cli_json("manybody", "--sites", "2", "--scan", "U", "--values", "1,2")) == without_timings(scan)


@pytest.mark.slow
def test_analyze_json_equals_to_dict(dft_cache, monkeypatch, tmp_path):
    env = {**os.environ, "NHM_CACHE_DIR": str(dft_cache)}
    r = subprocess.run([*NHM, "analyze", "Nb", "--json", "-", "--no-plot"], capture_output=True, text=True, timeout=1800, env=env,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    monkeypatch.setenv("NHM_CACHE_DIR", str(dft_cache))
    res = nhm.analyze("Nb")
    assert json.loads(r.stdout) == res.to_dict()
    assert res.verdict == "superconducting band" and res.best is res.candidates[0]
    assert res.best.band_text() == "GM:GM5+ H:H5+ N:N3+ P:P4" and 0.25 <= res.best.best.filling <= 0.8
    assert set(res.levels) == {"GM", "H", "N", "P"} and len(res.lines) == 6
    html = res._repr_html_()
    assert "superconducting band" in html and "filling" in html and "width" in html
    import matplotlib.pyplot as plt

    fig = res.plot()
    assert fig.axes and fig.axes[0].get_ylabel() == "E − E_F (eV)"
    fig2, ax = plt.subplots()
    assert res.plot(ax=ax, candidates=2) is fig2
    plt.close("all")


# --- inputs: str, PathLike, ase.Atoms, pymatgen Structure --------------------------------------------------------


def test_a_material_may_be_a_path_atoms_or_a_pymatgen_structure(tmp_path, monkeypatch):
    from ase.build import bulk

    band = "GM:GM1+ H:H1+ P:P1 N:N1+"
    want = nhm.classify(band, structure="Nb").to_dict()
    atoms = bulk("Nb")
    assert nhm.classify(band, structure=atoms).to_dict() == want
    path = tmp_path / "Nb.cif"
    atoms.write(path)
    assert nhm.classify(band, structure=path).to_dict() == want  # a pathlib.Path
    if importlib.util.find_spec("pymatgen") is not None:  # optional for nhm (irrep, a test dependency, brings it in)
        from pymatgen.io.ase import AseAtomsAdaptor

        assert nhm.classify(band, structure=AseAtomsAdaptor.get_structure(atoms)).to_dict() == want
    # pymatgen's adaptor missing: one clear error, for any object of pymatgen's (a stand-in, so that this part runs
    # whether pymatgen is installed or not)
    monkeypatch.setitem(sys.modules, "pymatgen.io.ase", None)
    structure = type("Structure", (), {"__module__": "pymatgen.core.structure"})()
    with pytest.raises(InputError, match="pip install pymatgen"):
        nhm.classify(band, structure=structure)
    with pytest.raises(TypeError, match="element symbol, a structure file"):
        nhm.classify(band, structure=42)


def test_options_are_checked_as_the_command_checks_them():
    with pytest.raises(InputError, match="--mesh"):
        nhm.kspace(BCC, mesh=0)
    with pytest.raises(InputError, match="--mode"):
        nhm.kspace(BCC, mode="fast")
    with pytest.raises(InputError, match="--reading"):
        nhm.analyze("Nb", reading="R3")
    with pytest.raises(InputError, match="--kmesh or --kdensity"):
        nhm.analyze("Nb", kmesh=4, kdensity=3.0)
    with pytest.raises(InputError, match="--values needs --scan"):
        nhm.manybody(sites=2, values=[1.0])


# --- result objects --------------------------------------------------------------------------------------------


def test_kspace_result_fields_figures_and_table():
    import matplotlib.pyplot as plt

    res = nhm.kspace(BCC, mesh=8)
    assert res.verdict == "superconducting" and res.mesh == 8 and res.space_group == 229
    assert res.k_space_magnetism is True and 0 < res.axis_variation <= 2 / 3 and res.spread > 0
    assert res.analysis is None and res.candidate is None and res.field.mesh.divisions[0] == 8
    assert res.to_json().startswith('{\n  "schema_version": 1')
    for kind in ("kspace_plane", "kspace_symmetry_related", "kspace_p3_symmetry_related"):
        assert res.plot(kind=kind).axes
    assert type(res.plot(kind="kspace_fermi_surface")).__module__.startswith("plotly")
    fig, ax = plt.subplots()
    assert res.plot(ax=ax) is fig and ax.get_title()
    with pytest.raises(InputError, match="no figure"):
        res.plot(kind="nothing")
    html = res._repr_html_()
    assert "k-space magnetism" in html and "present" in html
    plt.close("all")


def test_manybody_result_fields_figures_and_table():
    res = nhm.manybody(sites=2, selection=True, selection_sites=4)
    assert res.figures == ("spin_axes", "selection_rule")
    assert res.plot().axes and res.plot(kind="selection_rule").axes
    assert "ΔE" in res._repr_html_() and "selection rule" in res._repr_html_()


# --- typed and documented ------------------------------------------------------------------------------------


RESULTS = ("AnalysisResult", "KSpaceResult", "ClassifyResult", "ManyBodyResult", "IrrepsResult", "EbrResult", "ScreenResult", "Result")


def _public(cls) -> list[tuple[str, object]]:
    return [(name, value) for name, value in vars(cls).items() if not name.startswith("_")]


def test_every_public_name_has_a_docstring_and_typed_signature():
    import nhm.api
    import nhm.results

    missing = []
    for name in nhm.__all__:
        if name == "__version__":
            continue
        obj = getattr(nhm, name)
        target = getattr(nhm.api, name)
        if not (inspect.getdoc(obj) and inspect.getdoc(target)):
            missing.append(f"nhm.{name}")
        sig = inspect.signature(obj)
        assert sig == inspect.signature(target), name
        assert sig.return_annotation is not inspect.Signature.empty, name
        untyped = [p.name for p in sig.parameters.values() if p.annotation is inspect.Parameter.empty]
        assert not untyped, (name, untyped)
    for name in nhm.api.__all__:
        if not inspect.getdoc(getattr(nhm.api, name)) and name != "SCHEMA_VERSION":
            missing.append(f"nhm.api.{name}")
    for cls_name in RESULTS:
        cls = getattr(nhm.results, cls_name)
        if not inspect.getdoc(cls):
            missing.append(cls_name)
        for attr, value in _public(cls):
            doc = value.fget.__doc__ if isinstance(value, property) else getattr(value, "__doc__", None)
            if not doc:
                missing.append(f"{cls_name}.{attr}")
    assert not missing, missing
    assert (ROOT / "src" / "nhm" / "py.typed").exists()
    assert '"py.typed"' in (ROOT / "pyproject.toml").read_text()


def test_schema_version_leads_every_document():
    assert next(iter(nhm.irreps(221, "GM").to_dict())) == "schema_version"
    assert nhm.api.SCHEMA_VERSION == 1


def test_readme_python_section_uses_only_top_level_names():
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    code = "\n".join(block.split("\n", 1)[1] for block in section.split("```python")[1:] for block in [block.split("```")[0]])
    assert "import nhm" in code
    assert "from nhm" not in code and "nhm.report" not in code and "nhm.bands" not in code
    for line in code.splitlines():
        for used in (w for w in line.replace("(", " ").split() if w.startswith("nhm.")):
            assert used.split(".")[1] in nhm.__all__, used


# --- nhm.screen ----------------------------------------------------------------------------------------------


def test_screen_result_wraps_the_summary(tmp_path, monkeypatch):
    """``ScreenResult`` over a screen whose analyses are faked (tests/test_screen.py's fake, in a threaded cluster):
    its document is the summary's, its report and periodic table those of ``nhm screen --report``."""
    import logging
    import warnings

    import distributed
    from matplotlib.figure import Figure

    sys.path.insert(0, str(ROOT / "tests"))
    from test_screen import fake_doc

    from nhm.results import ScreenResult
    from nhm.screen import task
    from nhm.screen.run import screen

    def fake(request):
        doc = task.clean_json(fake_doc(request["name"], request["name"] == "Nb"))
        return {"analysis": doc, "summary": task.summarize(doc), "dft_cached": False}

    monkeypatch.setattr(task, "analyze_crystal", fake)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None,
                                           silence_logs=logging.ERROR)
    try:
        with distributed.Client(cluster) as client:
            summary = screen(["Nb", "Pb"], db=str(tmp_path / "s.db"), scheduler=client, isolate=False, progress=False)
    finally:
        cluster.close()
    res = ScreenResult(summary)
    assert res.to_dict() == {"schema_version": 1, **json.loads(json.dumps(summary.as_dict()))}
    assert res.computed == ["Nb", "Pb"] and res.superconducting == ["Nb"] and not res.failed
    assert res.report().rows and "Nb" in res._repr_html_()
    fig = res.plot()
    assert isinstance(fig, Figure) and fig.axes[0].images
    with pytest.raises(InputError, match="--workers"):
        nhm.screen(["Nb"], workers=1, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(InputError, match="nothing to screen"):
        nhm.screen([], db=str(tmp_path / "none.db"))
