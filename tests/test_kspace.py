"""k-space magnetism: constraints on F(k), the constructed field, spin axes, jumps, WFs, CLI (science.md §4)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from fractions import Fraction
from html.parser import HTMLParser

import numpy as np
import pytest

from nhm.bands.symmetry import BandSymmetry, parse_band
from nhm.errors import InputError
from nhm.groups.spacegroup import space_group
from nhm.groups.wyckoff import wyckoff_position
from nhm.kspace.analysis.checks import check_field, jump_report, spin_axes
from nhm.kspace.analysis.run import result_json, run_kspace
from nhm.kspace.analysis.wannier import decay_fit, wannier_functions
from nhm.kspace.constraints.characters import characters_everywhere
from nhm.kspace.constraints.site import spin_site_representation
from nhm.kspace.constraints.spaces import k_independent
from nhm.kspace.construction.optimise import build_field
from nhm.kspace.construction.starts import field_from_function, illustrative_texture
from nhm.kspace.mesh import make_mesh
from nhm.kspace.sources.model import model_band_characters
from nhm.kspace.sources.tightbinding import tight_binding_characters
from nhm.kspace.spin import SIGMA, cartesian_rotation, lift_frame_lattice, rotation_of_su2, time_reverse
from nhm.wannier.krueger import classify

TOL = 1e-10

# science.md §3: (GM, H, P, N of the usual band, N of the superconducting types) per site irrep
BCC_ORACLE = {
    "A1g": ("GM1+", "H1+", "P1", "N1+", ("N2+", "N3+", "N4+")),
    "A2g": ("GM2+", "H2+", "P2", "N2+", ("N1+", "N3+", "N4+")),
    "A2u": ("GM2-", "H2-", "P1", "N2-", ("N1-", "N3-", "N4-")),
    "A1u": ("GM1-", "H1-", "P2", "N1-", ("N2-", "N3-", "N4-")),
}
BCC_TYPES = [
    (s, (gm, h, p, n), n == usual)
    for s, (gm, h, p, usual, sc) in BCC_ORACLE.items()
    for n in (usual, *sc)
]


def _bcc_band(gm, h, p, n) -> BandSymmetry:
    return BandSymmetry(229, {"GM": (gm,), "H": (h,), "P": (p,), "N": (n,)})


def _field(band: BandSymmetry, n: int, site_name: str | None = None, letter: str = "a"):
    w = wyckoff_position(band.space_group, letter)
    name = site_name or classify(band, [w]).spin_site_representations[0][0]
    site = spin_site_representation(band.space_group, w, name)

    def rebuild(m):
        return model_band_characters(m, band, site)

    return build_field(rebuild(make_mesh(band.space_group, n)), rebuild=rebuild)


@pytest.fixture(scope="module")
def sc_field():
    return _field(_bcc_band("GM1+", "H1+", "P1", "N2+"), 8)


# ----------------------------------------------------------------------------- frame and mesh


@pytest.mark.parametrize("n", [47, 123, 143, 191, 194, 221, 225, 229])
def test_lifts_rotate_spin_by_the_proper_cartesian_rotation(n):
    g = space_group(n)
    lat = lift_frame_lattice(n)
    for op, lift in zip(g.operations, g.lifts):
        r = np.array(op.rotation)
        proper = round(np.linalg.det(r)) * cartesian_rotation(r, lat)
        assert np.allclose(rotation_of_su2(lift), proper, atol=1e-9), (n, op)


def test_mesh_tables_are_exact_and_complete():
    m = make_mesh(229, 8)
    assert m.size == 512
    # every image is a permutation; stars partition the mesh; Γ is fixed by all
    for row in m.image:
        assert sorted(row) == list(range(m.size))
    assert m.cogroup_order[0] == 48
    sizes = np.bincount(m.star_rep, minlength=m.size)[m.representatives]
    assert sizes.sum() == m.size
    assert all(48 % (48 // s) == 0 for s in sizes)
    assert np.all(m.minus[m.minus] == np.arange(m.size))
    steps, w, _ = m.neighbours
    b = 2 * np.pi * (steps / 8) @ m.k_to_cart.T
    assert np.allclose(np.einsum("n,ni,nj->ij", w, b, b), np.eye(3))


@pytest.mark.parametrize("sg, n, needed", [(229, 6, "4"), (229, 2, "4"), (143, 4, "6"), (225, 3, "4")])
def test_mesh_missing_points_of_symmetry_is_a_clear_input_error(sg, n, needed):
    with pytest.raises(InputError, match=f"multiples of {needed}"):
        make_mesh(sg, n)


def test_mesh_that_breaks_the_symmetry_is_rejected():
    with pytest.raises(InputError, match="not invariant"):
        make_mesh(229, (8, 8, 4))


def test_monoclinic_groups_are_refused():
    with pytest.raises(InputError, match="16–230"):
        make_mesh(10, 4)


# ----------------------------------------------------------------------------- the 16 bcc one-band types


@pytest.mark.parametrize("site_irrep, labels, usual", BCC_TYPES, ids=[",".join(t[1]) for t in BCC_TYPES])
def test_bcc_one_band_types(site_irrep, labels, usual):
    band = _bcc_band(*labels)
    c = classify(band, [wyckoff_position(229, "a")])
    assert c.verdict == ("usual" if usual else "superconducting")
    f = _field(band, 8)
    r = f.residuals
    assert max(r.constraint, r.star, r.time_reversal, r.unitarity) < TOL
    assert f.k_independence.possible is usual  # exactly when test U passes
    checks = check_field(f)
    assert checks.kramers < TOL and checks.axis_even < TOL  # n_{-m}(-k) = -n_m(k), axis field even
    assert checks.frame_covariance < TOL and checks.lifts_match_frame < 1e-12
    n = spin_axes(f)
    assert np.max(np.abs(n[f.mesh.minus][:, ::-1] + n)) < TOL
    if usual:
        assert f.spread < 1e-12 and f.spread_projective < 1e-12
        assert np.allclose(f.f, f.f[0], atol=1e-12)  # F = const found
        assert jump_report(f).jumps == 0
    else:
        assert jump_report(f).forced > 0
        assert f.spread_projective > 0.1


def test_k_independence_agrees_with_test_u_for_all_site_representations():
    """Solve the stacked system for every bcc type and every site irrep that passes test S."""
    m = make_mesh(229, 4)
    w = wyckoff_position(229, "a")
    for _, labels, usual in BCC_TYPES:
        band = _bcc_band(*labels)
        c = classify(band, [w])
        for (name,) in c.spin_site_representations:
            bc = model_band_characters(m, band, spin_site_representation(229, w, name))
            assert k_independent(bc).possible is usual


def test_science_example_at_N(sc_field):
    """F(N) ∝ σ_z for (GM1+, H1+, P1, N2+); time reversal makes it ±iσ_z exactly (σ_z itself violates it)."""
    f = sc_field
    m = f.mesh
    idx = m.index_of((Fraction(0), Fraction(0), Fraction(1, 2)))  # N = (1/2, 1/2, 0)_c
    fn = f.f_reference[idx]
    assert abs(abs(np.trace(fn @ SIGMA[2])) - 2) < TOL
    assert np.allclose(fn, time_reverse(fn), atol=TOL)
    assert np.linalg.norm(SIGMA[2] - time_reverse(SIGMA[2])) > 1  # σ_z is not TR-adapted
    # commutes with S(C2 [001]), anticommutes with S(C2 [110]) and S(C2 [1-10])
    g = space_group(229)
    lam = characters_everywhere(f.characters)[idx]
    for i in np.nonzero(m.cogroup_mask[:, idx])[0]:
        s = g.lifts[i]
        assert np.allclose(lam[i] * s @ fn @ s.conj().T, fn, atol=TOL)


def test_forced_jump_on_sigma_between_commuting_and_anticommuting_sets(sc_field):
    f = sc_field
    m = f.mesh
    lam = characters_everywhere(f.characters)
    # Σ: (0, 0, j/8)_p from Γ (j = 0) to N (j = 4); the model switches from Γ's to N's subduction
    line = [m.index_of((Fraction(0), Fraction(0), Fraction(j, 8))) for j in range(5)]
    c2 = [i for i in range(48) if all(m.cogroup_mask[i, k] for k in line[1:4]) and np.trace(space_group(229).rotations[i]) == -1]
    assert c2
    signs = [[round(lam[k, i].real) for i in c2] for k in line[1:4]]
    assert signs[0] != signs[-1]  # the constraint sets on the two sides differ: disjoint
    jumps = [np.linalg.norm(f.f_reference[a] - f.f_reference[b]) for a, b in zip(line, line[1:])]
    proj = [np.sqrt(max(4 - 2 * abs(np.trace(f.f[a].conj().T @ f.f[b])), 0)) for a, b in zip(line, line[1:])]
    assert max(proj) == pytest.approx(2.0, abs=1e-9)  # orthogonal: the two sets are at distance 2
    assert max(jumps) >= 2 - 1e-9


def test_jump_report_locates_forced_jumps_on_lines_and_planes(sc_field):
    jr = jump_report(sc_field)
    forced = [g for g in jr.groups if g.forced]
    assert {g.element for g in forced} <= {"line", "plane"}
    assert any(g.element == "line" and set(g.cells) == {"GM", "N"} for g in forced)
    assert 0 < jr.fraction < 0.5
    assert all(g.mean_distance == pytest.approx(2.0) for g in forced)


def test_wannier_functions_are_normalised_and_centred(sc_field):
    wd = wannier_functions(sc_field)
    assert np.sum(wd.norms**2) == pytest.approx(2.0)
    ref = wannier_functions(sc_field, gauge="reference")
    assert np.allclose(ref.centres, 0, atol=1e-10)  # inversion-adapted: centred on the atom
    assert np.sum(ref.norms**2) == pytest.approx(2.0)
    fit = decay_fit(wd)
    assert fit.shells >= 3 and fit.better in ("exponential", "power law")


def test_usual_band_wannier_function_is_on_site():
    f = _field(_bcc_band("GM1+", "H1+", "P1", "N1+"), 8)
    wd = wannier_functions(f)
    assert wd.norms[0] ** 2 == pytest.approx(2.0)
    assert decay_fit(wd).better.startswith("none")


# ----------------------------------------------------------------------------- P3 and a tight-binding band


def test_p3_symmetry_related_k_carry_symmetry_related_axes():
    m = make_mesh(143, 6)
    site = spin_site_representation(143, "a", "-1E+-2E@1a")
    band = parse_band("GM:GM1 A:A1 K:K1 H:H1 M:M1 L:L1", 143)
    bc = model_band_characters(m, band, site)
    assert k_independent(bc).possible  # no two-fold axes: test S implies test U in P3
    f = field_from_function(bc, illustrative_texture())
    ch = check_field(f)
    assert ch.axis_covariance_ops == 3 and ch.axis_covariance < TOL  # n(αk) = R n(k) for all of P3
    assert ch.kramers < TOL
    r = f.residuals
    assert max(r.constraint, r.star, r.time_reversal) < TOL
    assert np.ptp(spin_axes(f)[:, 0, 2]) > 0.1  # really k-dependent


def test_cubic_axis_covariance_holds_only_for_operations_preserving_z(sc_field):
    """n(αk) = R n(k) is false for a cubic three-fold axis even when F is constant; O(αk) = R O Rᵀ holds."""
    ch = check_field(sc_field)
    assert ch.axis_covariance_ops == 16 and ch.axis_covariance < TOL
    assert ch.frame_covariance < TOL


def test_tight_binding_s_band_gives_a_constant_field():
    from nhm.bands.tightbinding import bcc_s_band

    m = make_mesh(229, 8)
    site = spin_site_representation(229, "a", "-E1g@2a")
    bc = tight_binding_characters(m, bcc_s_band(), 0, site)
    assert bc.band_text == "GM:GM1+ H:H1+ N:N1+ P:P1"
    f = build_field(bc)
    assert f.k_independence.possible and f.spread < 1e-12


# ----------------------------------------------------------------------------- bad input and the run hook


def test_site_representation_errors():
    w = wyckoff_position(229, "a")
    with pytest.raises(InputError, match="dimension"):
        spin_site_representation(229, w, "-rho5")  # four-dimensional
    with pytest.raises(InputError, match="not a site representation"):
        spin_site_representation(229, w, "-Q7")
    with pytest.raises(InputError, match="one atom per primitive cell"):
        spin_site_representation(229, wyckoff_position(229, "b"), "-rho1")
    assert spin_site_representation(229, w, "A2u").single_label == "A2u"


def test_run_kspace_rejects_bands_that_are_not_superconducting():
    w = wyckoff_position(229, "a")
    with pytest.raises(InputError, match="usual"):
        run_kspace(_bcc_band("GM1+", "H1+", "P1", "N1+"), w, None, 8)
    with pytest.raises(InputError, match="neither"):
        run_kspace(_bcc_band("GM1+", "H1+", "P2", "N2+"), w, None, 8)
    with pytest.raises(InputError, match="multiples of 4"):
        run_kspace(_bcc_band("GM1+", "H1+", "P1", "N2+"), w, None, 6)
    with pytest.raises(InputError, match="no unitary F"):
        # a site representation for which the band fails test S: no F(k) at Γ
        run_kspace(_bcc_band("GM1+", "H1+", "P1", "N2+"), w, "-E2g", 8)


def test_run_kspace_json_has_the_promised_keys():
    res = run_kspace(_bcc_band("GM1+", "H1+", "P1", "N2+"), wyckoff_position(229, "a"), None, 8)
    data = result_json(res)
    for key, typ in (("mesh", int), ("constraint_residual", float), ("time_reversal_residual", float),
                     ("spread", float), ("k_independent_possible", bool)):
        assert isinstance(data[key], typ)
    assert data["mesh"] == 8 and data["k_independent_possible"] is False
    assert data["constraint_residual"] < TOL and data["time_reversal_residual"] < TOL
    assert data["jumps"]["forced"] > 0 and "better" in data["decay_fit"]
    json.dumps(data)


def test_cli_command(tmp_path):
    import typer
    from typer.testing import CliRunner

    from nhm.cli.kspace import kspace, parse_model

    band, w = parse_model("bcc:GM1+,H1+,P1,N2+")
    assert band.irreps["N"] == ("N2+",) and w.label == "2a"
    band2, _ = parse_model("229:a:GM:GM1+ H:H1+ P:P1 N:N2+")
    assert band2.irreps == band.irreps
    assert parse_model("Nb") is None
    with pytest.raises(InputError):
        parse_model("bcc:GM1+,Q1,P1,N2+")
    app = typer.Typer()
    app.command()(kspace)
    app.command("other")(lambda: None)
    out = tmp_path / "k.json"
    result = CliRunner().invoke(app, ["kspace", "bcc:GM1+,H1+,P1,N2+", "--mesh", "8", "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["k_independent_possible"] is False and data["mesh"] == 8


def test_plots_and_html(tmp_path, sc_field):
    from nhm.kspace.analysis.figures import figure_plane, figure_symmetry_related, save_figures
    from nhm.kspace.analysis.viewer import write_html

    paths = save_figures({"a": figure_plane(sc_field)}, tmp_path)
    assert all(p.stat().st_size > 1000 for p in paths)
    page = parse_page(write_html(sc_field, tmp_path / "fs.html", n_points=50, title="SC <field> & z_k").read_text())
    assert page.title == "SC <field> & z_k"
    assert "z_k" in page.text and "Fermi surface" in page.text  # the plotly figure's data and labels
    m = make_mesh(143, 6)
    bc = model_band_characters(m, parse_band("GM:GM1 A:A1 K:K1 H:H1 M:M1 L:L1", 143), spin_site_representation(143, "a", "-1E+-2E"))
    save_figures({"b": figure_symmetry_related(field_from_function(bc, illustrative_texture()))}, tmp_path)


class _Page(HTMLParser):
    """The parts of an HTML page that make it valid and self-contained: every start tag closed in order, the
    title, the scripts (inline text or a src), and every URL an element would fetch."""

    VOID = {"meta", "link", "br", "img", "input", "hr", "source", "base", "col", "wbr", "area", "embed", "track"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.tags: list[str] = []
        self.fetched: list[str] = []
        self.scripts: list[str] = []
        self.title = ""
        self.text = ""
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs) -> None:
        self.tags.append(tag)
        a = dict(attrs)
        for key in ("src", "href", "data"):
            if a.get(key) and tag in ("script", "link", "img", "iframe", "object", "embed", "source", "audio", "video"):
                self.fetched.append(a[key])
        if tag == "script":
            self.scripts.append("")
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1] == "title":
            self.title += data
        elif self.open and self.open[-1] == "script":
            self.scripts[-1] += data
        self.text += data


def parse_page(text: str) -> _Page:
    """The page parsed with html.parser, asserted to be valid, self-contained HTML: a doctype, html/head/body,
    every element closed, a title, plotly.js inline, and nothing fetched over the network (no script, link,
    image or frame with a source; no http(s) URL in the page that a browser would load)."""
    page = _Page()
    page.feed(text)
    page.close()
    assert page.doctype.lower() == "doctype html" and page.open == []
    assert page.tags[:3] == ["html", "head", "meta"] and "body" in page.tags and page.title
    assert page.fetched == [], page.fetched  # every script inline
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)\s*=\s*[\"']?(https?:)?//", text, re.I)
    assert max(len(s) for s in page.scripts) > 1_000_000 and any("plotly" in s.lower() for s in page.scripts)  # plotly.js itself
    assert "cdn.plot.ly/plotly" not in text.split("</script>", 1)[0]  # not loaded from the CDN
    return page


# ----------------------------------------------------------------------------- bigger meshes


@pytest.mark.slow
@pytest.mark.parametrize("n", [16, 24])
def test_bigger_meshes_keep_constraints_exact(n):
    f = _field(_bcc_band("GM1+", "H1+", "P1", "N2+"), n)
    r = f.residuals
    assert max(r.constraint, r.star, r.time_reversal, r.unitarity) < TOL
    assert not f.k_independence.possible
    assert check_field(f).kramers < TOL
    assert f.converged


# ----------------------------------------------------------------------------- closed forms, gauges, refusals

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

_entries = arrays(np.float64, (6, 2, 2, 2), elements=st.floats(-3, 3, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(_entries)
def test_closed_form_polar_factor_and_time_reversal(x):
    from nhm.kspace.spin import SIGMA_Y, polar_unitary

    m = x[..., 0] + 1j * x[..., 1]
    ok = np.abs(np.linalg.det(m)) > 1e-3
    u, _, vh = np.linalg.svd(m[ok])
    assert np.allclose(polar_unitary(m[ok]), u @ vh, atol=1e-9)
    t = time_reverse(m)
    assert np.allclose(t, SIGMA_Y @ m.conj() @ SIGMA_Y, atol=1e-14)
    assert np.allclose(time_reverse(t), m, atol=1e-14)  # an involution on 2×2 matrices


def test_non_centrosymmetric_group_time_reversal_gauge():
    """P-42m: the star of k contains −k; the star gauge alone gave F(−k) = −σ_y F* σ_y at some k."""
    band = parse_band("GM:GM1 A:A1 M:M1 R:R4 X:X3 Z:Z4", 111)
    assert classify(band, [wyckoff_position(111, "a")]).verdict == "superconducting"
    f = _field(band, 8)
    r = f.residuals
    assert max(r.constraint, r.star, r.time_reversal, r.unitarity) < TOL
    assert not f.k_independence.possible
    assert f.mesh.time_reversed[~f.mesh.primary].all() and f.mesh.time_reversed[f.mesh.primary].any()
    assert check_field(f).kramers < TOL


def test_band_that_breaks_time_inversion_is_refused():
    band = parse_band("GM:GM1 M:M1 N:N2 P:P4 X:X2", 97)  # P4 of I422 sticks to P3 under time inversion
    with pytest.raises(InputError, match="not invariant under time inversion"):
        run_kspace(band, wyckoff_position(97, "a"), None, 4)


def test_cli_errors_are_one_line_and_leave_nothing(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "nhm.cli", "kspace", "bcc:GM1+,H1+,P1,N1+", "--mesh", "8", "--json", str(out / "k.json")],
        capture_output=True, text=True,
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "usual" in r.stderr
    assert not out.exists()
    r = subprocess.run([sys.executable, "-m", "nhm.cli", "kspace", "bcc:GM1+,H1+,P1,N2+", "--mesh", "6"], capture_output=True, text=True)
    assert r.returncode == 2 and "multiples of 4" in r.stderr


def test_band_whose_minus_k_partner_is_not_time_reversed_is_refused():
    """I222 lists W and WA = −W separately; a band must carry the time-reversed irrep at WA."""
    w = wyckoff_position(23, "a")
    bad = parse_band("GM:GM4 R:R2 S:S2 T:T2 W:W3 WA:WA4 X:X2", 23)
    with pytest.raises(InputError, match="not invariant under time inversion.*near W, WA"):
        run_kspace(bad, w, None, 4)
    good = parse_band("GM:GM4 R:R2 S:S2 T:T2 W:W3 WA:WA3 X:X2", 23)
    res = run_kspace(good, w, None, 4)
    r = res.field.residuals
    assert max(r.constraint, r.star, r.time_reversal) < TOL


# ----------------------------------------------------------------------------- a superconducting band of a real model


@pytest.fixture(scope="module")
def sd_field():
    from nhm.bands.tightbinding import BCC_SD_SUPERCONDUCTING_BAND as B
    from nhm.bands.tightbinding import bcc_sd_model
    from nhm.kspace.sources.tightbinding import tight_binding_overlaps

    model = bcc_sd_model()
    site = spin_site_representation(229, "a", "-E1g@2a")

    def rebuild(m):
        return tight_binding_characters(m, model, B, site)

    def overlaps(m):
        return tight_binding_overlaps(m, model, B)

    return build_field(rebuild(make_mesh(229, 8)), rebuild=rebuild, overlaps=overlaps)


def test_sd_model_top_band_is_superconducting():
    from nhm.bands.tightbinding import BCC_SD_SUPERCONDUCTING_BAND, bcc_sd_model
    from nhm.kspace.sources.tightbinding import model_band_symmetry

    band = model_band_symmetry(bcc_sd_model(), BCC_SD_SUPERCONDUCTING_BAND)
    assert band.irreps == {"GM": ("GM1+",), "H": ("H1+",), "N": ("N4+",), "P": ("P1",)}
    assert classify(band, [wyckoff_position(229, "a")]).verdict == "superconducting"


def test_field_of_a_tight_binding_superconducting_band(sd_field):
    """λ from the model's Bloch states at every symmetric mesh point (not the Voronoi assumption)."""
    f = sd_field
    r = f.residuals
    assert max(r.constraint, r.star, r.time_reversal, r.unitarity) < TOL
    assert not f.k_independence.possible
    assert check_field(f).kramers < TOL
    # the Bloch states agree with the Voronoi model band at the points of symmetry themselves
    band = parse_band("GM:GM1+ H:H1+ N:N4+ P:P1", 229)
    vor = characters_everywhere(model_band_characters(f.mesh, band, f.characters.site))
    lam = characters_everywhere(f.characters)
    for k in [(0, 0, 0), (Fraction(1, 2), Fraction(1, 2), Fraction(-1, 2)), (0, 0, Fraction(1, 2)), (Fraction(1, 4),) * 3]:
        i = f.mesh.index_of(k)
        assert np.allclose(lam[i], vor[i], atol=1e-9)
    assert jump_report(f).forced > 0


def test_spatial_overlaps_enter_the_spread(sd_field):
    f = sd_field
    m = f.overlaps
    assert m is not None and m.shape == f.mesh.neighbours[2].shape
    assert np.all(m <= 1 + 1e-12) and np.all(m >= 0)
    assert m.min() < 0.5  # the energy-ordered band switches branch between neighbouring mesh points
    # |M| is a property of the band: equal on bonds related by symmetry (b → αb, k → αk)
    steps, _, table = f.mesh.neighbours
    assert np.allclose(m, m[f.mesh.minus][:, [int(np.nonzero((steps == -s).all(axis=1))[0][0]) for s in steps]], atol=1e-9)
    assert f.spread_with_overlaps > f.spread_projective - 1e-12  # the spatial part only adds


def test_cli_tight_binding_spec():
    from nhm.cli.kspace import parse_tight_binding

    model, b = parse_tight_binding("tb:bcc-sd")
    assert b == 5 and model.size == 6
    assert parse_tight_binding("tb:bcc-s:0")[1] == 0
    assert parse_tight_binding("bcc:GM1+,H1+,P1,N2+") is None
    with pytest.raises(InputError, match="NAME one of"):
        parse_tight_binding("tb:graphene")
    with pytest.raises(InputError, match="integer"):
        parse_tight_binding("tb:bcc-sd:top")


def test_optimising_with_the_spatial_overlaps_lowers_the_total_spread(sd_field):
    from nhm.kspace.construction.field import spread

    plain = build_field(sd_field.characters)  # same band and mesh, spread without |M_kb|
    total_plain = spread(plain.mesh, plain.f, projective=True, overlaps=sd_field.overlaps)
    assert sd_field.spread_with_overlaps < total_plain - 1e-6


def test_real_space_wannier_functions_of_the_model_are_symmetry_and_time_reversal_adapted(sd_field):
    """The definition itself, in real space: P(a) w_m = Σ ρ(a)_{m'm} w_m'(· − R_a) for every coset
    representative, T w_m = Σ τ_{m'm} w_m', orthonormal — on the orbitals of the s+d model."""
    import dataclasses

    from nhm.bands.tightbinding import BCC_SD_SUPERCONDUCTING_BAND, bcc_sd_model
    from nhm.kspace.analysis.wannier import check_model_wannier, model_wannier_functions

    model = bcc_sd_model()
    wf = model_wannier_functions(sd_field, model, BCC_SD_SUPERCONDUCTING_BAND)
    assert wf.band_residual < 1e-10  # the gauge-fixed vectors are the band's Bloch states
    ch = check_model_wannier(wf, sd_field, model)
    assert ch.symmetry < TOL and ch.time_reversal < TOL and ch.orthonormality < TOL
    # control: the k-independent spinors F = 1 cannot make this band's WFs symmetry-adapted
    ones = np.broadcast_to(np.eye(2, dtype=complex), sd_field.f.shape).copy()
    const = dataclasses.replace(sd_field, f=ones, f_reference=ones)
    bad = check_model_wannier(model_wannier_functions(const, model, BCC_SD_SUPERCONDUCTING_BAND), const, model)
    assert bad.symmetry > 0.01 and bad.orthonormality < TOL


def test_atom_off_the_origin_needs_the_phase_of_r_a():
    """Pm-3m, atom at 1b = (½,½,½): a q = q + R_a with R_a ≠ 0, so λ carries e^{2πi(αk)·R_a} (the factor
    science.md §4 omits). The s band (GM1+, M4+, R2-, X3-) is usual there; its constant-F WFs on the
    model's orbitals are symmetry-adapted in real space only with that factor."""
    from nhm.bands.tightbinding import model_from_wyckoff
    from nhm.kspace.analysis.wannier import check_model_wannier, model_wannier_functions
    from nhm.kspace.sources.tightbinding import model_band_symmetry

    model = model_from_wyckoff(221, "b", ["s"], {"sss": (-1.0, -0.2)})
    band = model_band_symmetry(model, 0)
    assert band.irreps == {"GM": ("GM1+",), "M": ("M4+",), "R": ("R2-",), "X": ("X3-",)}
    w = wyckoff_position(221, "b")
    assert classify(band, [w]).verdict == "usual"
    site = spin_site_representation(221, w, "-E1g")
    assert np.abs(site.shift).max() > 0
    f = build_field(tight_binding_characters(make_mesh(221, 4), model, 0, site))
    assert f.k_independence.possible and f.spread < 1e-12
    ch = check_model_wannier(model_wannier_functions(f, model, 0), f, model)
    assert max(ch.symmetry, ch.time_reversal, ch.orthonormality) < TOL


_spec_text = st.one_of(
    st.text(alphabet="bcfsp:0123456789,+-GMHNPXRAKLΓ ;tbd", max_size=30),
    st.builds(lambda a, b: f"{a}:{b}", st.sampled_from(["bcc", "fcc", "sc", "p3", "229", "221:a", "143:a", "tb", "229:q"]),
              st.text(alphabet="GMHNPXRALK0123456789+-,: ", max_size=25)),
)


@settings(max_examples=150, deadline=None)
@given(_spec_text)
def test_model_specs_parse_or_fail_cleanly(spec):
    """Any text given as MATERIAL_OR_MODEL is a model band, a tight-binding model, 'not a model' (None:
    a material), or one InputError — never another exception."""
    from nhm.cli.kspace import parse_model, parse_tight_binding
    from nhm.errors import NhmError

    for parse in (parse_tight_binding, parse_model):
        try:
            out = parse(spec)
        except NhmError:
            continue
        if out is not None and parse is parse_model:
            band, w = out
            assert band.space_group == w.space_group


def test_material_with_two_atom_orbits_is_refused_before_any_dft(tmp_path):
    """MgB2 (Mg 1a, B 2d): one line naming the orbits and what is missing, exit 2, no GPAW run (no cache written)."""
    from ase.spacegroup import crystal as ase_crystal

    cif = tmp_path / "MgB2.cif"
    ase_crystal(["Mg", "B"], basis=[(0, 0, 0), (1 / 3, 2 / 3, 1 / 2)], spacegroup=191,
                cellpar=[3.086, 3.086, 3.524, 90, 90, 120]).write(cif)
    env = {**os.environ, "NHM_CACHE_DIR": str(tmp_path / "cache")}
    r = subprocess.run([sys.executable, "-m", "nhm.cli", "kspace", str(cif)], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "2 atom orbits (1a, 2d)" in r.stderr and "docs/theory.md" in r.stderr
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").glob("*.npz"))
    r = subprocess.run([sys.executable, "-m", "nhm.cli", "kspace", "Nb", "--candidate", "0"], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "--candidate" in r.stderr


def test_material_window_must_be_positive(tmp_path):
    env = {**os.environ, "NHM_CACHE_DIR": str(tmp_path / "cache")}
    r = subprocess.run([sys.executable, "-m", "nhm.cli", "kspace", "Nb", "--window", "-1"], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "--window" in r.stderr and r.stderr.count("\n") == 1


def test_figures_of_a_band_without_fermi_surface(tmp_path):
    """A filled band (Cu's candidate is one): the verdict says there is no Fermi surface and the figures are
    still drawn, on the free-electron sphere, with titles that say so (no error after the work is done)."""
    from nhm.bands.tightbinding import MODELS
    from nhm.kspace.analysis.fermi import MeshDispersion, model_dispersion
    from nhm.kspace.sources.tightbinding import model_band_symmetry, tight_binding_characters, tight_binding_overlaps

    model, b = MODELS["bcc-sd"][0](), MODELS["bcc-sd"][1]
    band = model_band_symmetry(model, b)
    eps = model_dispersion(model, b)
    far = 1e3  # eV above the whole band: it is filled
    res = run_kspace(band, wyckoff_position(229, "a"), None, 8,
                     characters=lambda mm, st: tight_binding_characters(mm, model, b, st),
                     overlaps=lambda mm: tight_binding_overlaps(mm, model, b),
                     energies=lambda mm: eps(mm.k_cartesian_bz), fermi_level=far)
    assert res.fermi_surface["points"] == 0 and res.fermi_surface["present"] is None
    disp = MeshDispersion(res.field.mesh, eps(res.field.mesh.k_cartesian_bz), far)
    from nhm.report.run_kspace import KSpaceRun, write_plots

    paths = write_plots(KSpaceRun("filled", "tight-binding", res, {}, disp), str(tmp_path))
    assert {p.name for p in paths} >= {"kspace_plane.png", "kspace_symmetry_related.png", "kspace_fermi_surface.html"}
    assert "no Fermi surface" in parse_page((tmp_path / "kspace_fermi_surface.html").read_text()).title
