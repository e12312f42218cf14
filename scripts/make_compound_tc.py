"""Generate src/nhm/data/compounds_superconductivity.json: the measured superconductivity of the rock-salt
carbides and nitrides of groups 4-6 and of the AlB2-type diborides, with the structure, the measured lattice
constants and the valence-electron count of each compound, and a citation for every number.

Provenance. Everything below is entered by hand; nothing is downloaded. Every number (lattice constant, Tc,
the temperature down to which no superconductivity was found) carries the keys of its sources in SOURCES.
Each source says how it was used (``checked``):

- "text": the statement used here was read in the source (its abstract or text) while this table was made;
- "compilation": a standard compilation; the value is the one these compilations are widely quoted for,
  entered from memory and not re-read against the page here. Such values carry ``confidence``
  "approximate" at best, and "uncertain" where the attribution itself is not certain.

``confidence`` of a value: "standard" (stated alike by the sources cited), "approximate" (the yes/no answer is
firm, the number depends on stoichiometry or sample by more than a few per cent, or was entered from a
compilation from memory), "disputed" (published reports disagree on whether the compound superconducts; the
headline answer is that of stoichiometric samples, and every report is kept in ``reports``), "uncertain"
(few or doubtful measurements). ``nhm screen --report`` leaves "disputed" and "uncertain" compounds out of
its confusion matrix and lists them with the reason. Where sources disagree, every report is recorded in
``reports`` with its phase or stoichiometry.

VEC is the number of valence electrons per formula unit, counting for each atom the electrons outside its
noble-gas core (group number for groups 1-12, group number - 10 for groups 13-18): NbC 5 + 4 = 9, MgB2
2 + 2 x 3 = 8. It is computed here, not entered; vacancies (NbC0.98, VC0.88, Al0.9B2) lower the real count,
which the ``phase`` says.

    .venv/bin/python scripts/make_compound_tc.py [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from nhm.atomic import write_atomically

OUT = Path(__file__).resolve().parents[1] / "src" / "nhm" / "data" / "compounds_superconductivity.json"

COMPILATION = "compilation"
TEXT = "text"

SOURCES: dict[str, tuple[str, str]] = {
    "toth1971": ("L. E. Toth, Transition Metal Carbides and Nitrides (Academic Press, New York, 1971): lattice "
                 "parameters (ch. 1) and superconducting transition temperatures (ch. 7) of the carbides and nitrides",
                 COMPILATION),
    "roberts1976": ("B. W. Roberts, 'Survey of superconductive materials and critical evaluation of selected properties', "
                    "J. Phys. Chem. Ref. Data 5, 581 (1976)", COMPILATION),
    "pearson1991": ("P. Villars and L. D. Calvert, Pearson's Handbook of Crystallographic Data for Intermetallic Phases, "
                    "2nd ed. (ASM International, Materials Park, OH, 1991)", COMPILATION),
    "wyckoff1963": ("R. W. G. Wyckoff, Crystal Structures, vol. 1, 2nd ed. (Interscience, New York, 1963): the AlB2 type, "
                    "'aluminum boride, AlB2, having the edges a0 = 3.009 Å, c0 = 3.262 Å'", TEXT),
    "toth1966": ("L. E. Toth, C. P. Wang and G. M. Yen, 'Superconducting critical temperatures of non-stoichiometric "
                 "transition metal carbides and nitrides', Acta Metall. 14, 1403 (1966)", COMPILATION),
    "willens1967": ("R. H. Willens, E. Buehler and B. T. Matthias, 'Superconductivity of the transition-metal carbides', "
                    "Phys. Rev. 159, 327 (1967) (cubic MoC and WC obtained by quenching)", COMPILATION),
    "dicataldo2025": ("S. Di Cataldo, W. Cursio and L. Boeri, 'Vacancy-controlled superconductivity in rock-salt carbides: "
                      "towards predictive modelling of real-world superconductors', arXiv:2506.07768 (2025), Table I: "
                      "experimental Tc ranges TiC 0-3.4 K, VC 0-3.2 K, NbC 0-11.5 K, TaC 0-10.3 K, MoC 14.1 K", TEXT),
    "nbc2020": ("'Superconductivity and Fermi surface nesting in the candidate Dirac semimetal NbC', arXiv:2010.14259 "
                "(2020): single crystals, Tc = 11.5 K", TEXT),
    "nbctac2020": ("'Superconductivity and topological aspects of the rock-salt carbides NbC and TaC', arXiv preprint (2020): "
                   "magnetization, heat capacity and muon-spin rotation, Tc = 11.5 K (NbC) and 10.3 K (TaC)", TEXT),
    "srep2016": ("Sci. Rep. 6, 22330 (2016), doi:10.1038/srep22330 (superconductivity of hexagonal ε-NbN); its introduction "
                 "quotes Tc = 10 K for ZrN, 8.8 K for HfN and 17.3 K for rock-salt δ-NbN", TEXT),
    "tedrow1984": ("P. M. Tedrow and R. Meservey, 'Tunneling studies of VN thin films', Adv. Cryog. Eng. 30 (1984): "
                   "'vanadium nitride is a superconductor with the B1 crystal structure and a transition temperature of "
                   "8.8 K'", TEXT),
    "ajami1975": ("F. I. Ajami and R. K. MacCrone, 'Magnetic susceptibility and superconductivity of cubic vanadium "
                  "nitrides', J. Phys. Chem. Solids 36, 7 (1975): Tc falls from stoichiometric VN to 2.3 K for the most "
                  "nitrogen-deficient of five cubic VN_x", TEXT),
    "vissers2013": ("M. R. Vissers, J. Gao, J. S. Kline, M. Sandberg, M. P. Weides, D. S. Wisbey and D. P. Pappas, "
                    "'Characterization and in-situ monitoring of sub-stoichiometric adjustable superconducting critical "
                    "temperature titanium nitride growth', Thin Solid Films 548, 485 (2013): sputtered TiN_x films, Tc "
                    "rising to nearly 5 K towards stoichiometric TiN", TEXT),
    "tan2013": ("'Fabrication of superconducting tantalum nitride thin films using infra-red pulsed laser deposition', "
                "arXiv:1302.4579 (2013): face-centred cubic TaN films on MgO, Tc ≈ 8 K", TEXT),
    "ithepalli2025": ("A. Ithepalli et al., 'Growth and characterization of single crystal cubic TaN and hexagonal Ta2N "
                      "films on c-plane sapphire', arXiv:2502.18723 (2025): 30 nm rock-salt δ-TaN film, Tc = 3.6 K", TEXT),
    "nagamatsu2001": ("J. Nagamatsu, N. Nakagawa, T. Muranaka, Y. Zenitani and J. Akimitsu, 'Superconductivity at 39 K in "
                      "magnesium diboride', Nature 410, 63 (2001)", TEXT),
    "buzea2001": ("C. Buzea and T. Yamashita, 'Review of the superconducting properties of MgB2', Supercond. Sci. Technol. "
                  "14, R115 (2001) (includes the other diborides)", COMPILATION),
    "leyarovska1979": ("L. Leyarovska and E. Leyarovski, 'A search for superconductivity below 1 K in transition metal "
                       "borides', J. Less-Common Met. 67, 249 (1979): diborides down to 0.42 K, only NbB2 superconducting "
                       "(0.62 K), as summarized in kaczorowski2001", COMPILATION),
    "kaczorowski2001": ("D. Kaczorowski, J. Klamut and A. J. Zaleski, 'Some comments on superconductivity in diborides', "
                        "arXiv:cond-mat/0104479 (2001): summarizes Cooper et al. (1970, NbB2 3.87 K), Leyarovska et al. "
                        "(down to 0.42 K, only NbB2 at 0.62 K) and the authors' own report of superconductivity in TaB2",
                        TEXT),
    "gasparov2001": ("V. A. Gasparov, N. S. Sidorov, I. I. Zver'kova and M. P. Kulakov, 'Electron transport in diborides: "
                     "observation of superconductivity in ZrB2', JETP Lett. 73, 532 (2001), arXiv:cond-mat/0104323: ZrB2 "
                     "Tc = 5.5 K; NbB2 and TaB2 not superconducting down to 0.37 K", TEXT),
    "rosner2001": ("H. Rosner et al., 'Electronic structure and weak electron-phonon coupling in TaB2', Phys. Rev. B (2001), "
                   "arXiv:cond-mat/0106092: no superconductivity down to 1.5 K", TEXT),
    "yamamoto2002": ("A. Yamamoto, C. Takao, T. Masui, M. Izumi and S. Tajima, 'High-pressure synthesis of superconducting "
                     "Nb1-xB2 (x = 0-0.48) with the maximum Tc = 9.2 K', Physica C 383, 197 (2002): no clear "
                     "superconductivity down to 3 K in stoichiometric NbB2, up to 9.2 K for x = 0.24", TEXT),
    "zrhfb2_2017": ("'Doping-induced superconductivity of ZrB2 and HfB2', arXiv:1703.03253 (2017): 'ZrB2 and HfB2 do not "
                    "superconduct above 1 K'", TEXT),
}

ROCKSALT = {"type": "rock salt (NaCl type, B1)", "prototype": "NaCl", "strukturbericht": "B1", "space_group": 225,
            "international": "Fm-3m", "pearson": "cF8"}
ALB2 = {"type": "AlB2 type (C32)", "prototype": "AlB2", "strukturbericht": "C32", "space_group": 191,
        "international": "P6/mmm", "pearson": "hP3"}


def rocksalt(metal: str, anion: str) -> dict:
    return {**ROCKSALT, "sites": [{"element": metal, "wyckoff": "4a", "position": [0, 0, 0]},
                                  {"element": anion, "wyckoff": "4b", "position": [0.5, 0.5, 0.5]}]}


def alb2(metal: str) -> dict:
    return {**ALB2, "sites": [{"element": metal, "wyckoff": "1a", "position": [0, 0, 0]},
                              {"element": "B", "wyckoff": "2d", "position": ["1/3", "2/3", "1/2"]}]}


def lattice(a: float, c: float | None, sources: list[str], confidence: str, note: str = "") -> dict:
    return {"a_A": a, "c_A": c, "sources": sources, "confidence": confidence, "note": note}


def report(superconducting: bool, sources: list[str], *, tc: float | None = None, down_to: float | None = None,
           phase: str = "", note: str = "", computed_phase: bool = True) -> dict:
    """One measurement. ``computed_phase``: False for another phase or composition than the ordered, stoichiometric
    structure nhm computes (hexagonal WC, metal-deficient Nb1-xB2): recorded, but not counted as a disagreement."""
    return {"superconducting": superconducting, "tc_K": tc, "not_superconducting_down_to_K": down_to, "phase": phase,
            "computed_phase": computed_phase, "sources": sources, "note": note}


# formula: (family, structure, lattice, confidence of the answer, headline report, other reports, note)
# The headline report is what the figure and the confusion matrix use; ``reports`` keeps it first.
CC, NN, BB = "rocksalt-carbides", "rocksalt-nitrides", "diborides"
COMPOUNDS: dict[str, tuple] = {
    # --- rock-salt carbides -------------------------------------------------------------------------
    "TiC": (CC, rocksalt("Ti", "C"), lattice(4.328, None, ["toth1971", "pearson1991"], "approximate"), "disputed",
            report(False, ["toth1971", "roberts1976"], phase="TiC_x near stoichiometry",
                   note="listed as not superconducting; the lowest temperature of the searches is not recorded here"),
            [report(True, ["dicataldo2025"], tc=3.4, phase="TiC_x samples of the references of dicataldo2025",
                    note="dicataldo2025 tabulates reported Tc of 0-3.4 K")],
            "carbon vacancies (TiC_x, 0.5 < x < 1) are always present"),
    "ZrC": (CC, rocksalt("Zr", "C"), lattice(4.698, None, ["toth1971", "pearson1991"], "approximate"), "standard",
            report(False, ["toth1971", "roberts1976"], phase="ZrC_x near stoichiometry",
                   note="listed as not superconducting; the lowest temperature of the searches is not recorded here"),
            [], ""),
    "HfC": (CC, rocksalt("Hf", "C"), lattice(4.640, None, ["toth1971", "pearson1991"], "approximate"), "standard",
            report(False, ["toth1971", "roberts1976"], phase="HfC_x near stoichiometry",
                   note="listed as not superconducting; the lowest temperature of the searches is not recorded here"),
            [], ""),
    "VC": (CC, rocksalt("V", "C"), lattice(4.166, None, ["toth1971", "pearson1991"], "approximate",
                                           "VC_x exists only carbon-deficient (x ≈ 0.72-0.88); a of VC0.88"), "disputed",
           report(False, ["toth1971", "roberts1976"], phase="VC_x, x ≤ 0.88 (no stoichiometric VC exists)",
                  note="listed as not superconducting"),
           [report(True, ["dicataldo2025"], tc=3.2, phase="VC_x samples of the references of dicataldo2025",
                   note="dicataldo2025 tabulates reported Tc of 0-3.2 K")],
           "the computed stoichiometric VC has 9 valence electrons; VC0.88 about 8.5"),
    "NbC": (CC, rocksalt("Nb", "C"), lattice(4.470, None, ["toth1971", "pearson1991"], "approximate"), "approximate",
            report(True, ["toth1971", "roberts1976", "toth1966"], tc=11.1, phase="NbC_x close to stoichiometry (x ≈ 0.98)"),
            [report(True, ["nbc2020", "nbctac2020"], tc=11.5, phase="NbC single crystals"),
             report(True, ["dicataldo2025"], tc=11.5, phase="NbC_x", note="0-11.5 K, falling with carbon vacancies")],
            "Tc falls steeply with carbon vacancies (toth1966)"),
    "TaC": (CC, rocksalt("Ta", "C"), lattice(4.456, None, ["toth1971", "pearson1991"], "approximate"), "approximate",
            report(True, ["toth1971", "roberts1976"], tc=10.35, phase="TaC_x close to stoichiometry"),
            [report(True, ["nbctac2020"], tc=10.3, phase="TaC"),
             report(True, ["dicataldo2025"], tc=10.3, phase="TaC_x", note="0-10.3 K, falling with carbon vacancies")],
            ""),
    "MoC": (CC, rocksalt("Mo", "C"), lattice(4.27, None, ["toth1971", "willens1967"], "uncertain",
                                             "metastable cubic α-MoC1-x (quenched); a depends on the carbon content"),
            "approximate",
            report(True, ["willens1967", "toth1971"], tc=14.3, phase="metastable rock-salt α-MoC1-x (x ≈ 0.25), quenched"),
            [report(True, ["dicataldo2025"], tc=14.1, phase="rock-salt MoC_x")],
            "the stable molybdenum carbides are hexagonal (Mo2C, η-MoC); only the quenched cubic phase is computed here"),
    "WC": (CC, rocksalt("W", "C"), lattice(4.22, None, ["toth1971"], "uncertain",
                                           "metastable cubic β-WC1-x (quenched); a depends on the carbon content"),
           "uncertain",
           report(True, ["willens1967", "toth1971"], tc=10.0, phase="metastable rock-salt β-WC1-x, quenched",
                  note="Tc of about 10 K as remembered from the compilations; not re-read here"),
           [report(False, ["toth1971"], phase="stable hexagonal WC (WC type, P-6m2)", computed_phase=False,
                   note="hexagonal WC is listed as not superconducting")],
           "the stable tungsten monocarbide is hexagonal; rock-salt WC1-x exists only quenched from high temperature"),
    # --- rock-salt nitrides -------------------------------------------------------------------------
    "TiN": (NN, rocksalt("Ti", "N"), lattice(4.240, None, ["toth1971", "pearson1991"], "approximate"), "approximate",
            report(True, ["toth1971", "roberts1976"], tc=5.6, phase="TiN_x close to stoichiometry"),
            [report(True, ["vissers2013"], tc=5.0, phase="sputtered TiN_x films",
                    note="Tc rises to nearly 5 K over a narrow range of nitrogen content")],
            ""),
    "ZrN": (NN, rocksalt("Zr", "N"), lattice(4.578, None, ["toth1971", "pearson1991"], "approximate"), "approximate",
            report(True, ["srep2016", "toth1971", "roberts1976"], tc=10.0, phase="ZrN_x close to stoichiometry"), [], ""),
    "HfN": (NN, rocksalt("Hf", "N"), lattice(4.525, None, ["toth1971", "pearson1991"], "approximate"), "approximate",
            report(True, ["srep2016", "toth1971", "roberts1976"], tc=8.8, phase="HfN_x close to stoichiometry"), [], ""),
    "VN": (NN, rocksalt("V", "N"), lattice(4.139, None, ["toth1971", "pearson1991"], "approximate"), "approximate",
           report(True, ["tedrow1984", "toth1971", "roberts1976"], tc=8.8, phase="B1 VN (films)"),
           [report(True, ["ajami1975"], tc=2.3, phase="the most nitrogen-deficient cubic VN_x", computed_phase=False,
                   note="Tc falls steeply with nitrogen vacancies")],
           ""),
    "NbN": (NN, rocksalt("Nb", "N"), lattice(4.392, None, ["toth1971", "pearson1991"], "approximate",
                                             "δ-NbN_x; a varies with the nitrogen content"), "approximate",
            report(True, ["toth1971", "roberts1976"], tc=16.0, phase="bulk δ-NbN_x (x ≈ 0.9-1)"),
            [report(True, ["srep2016"], tc=17.3, phase="rock-salt δ-NbN (films)")],
            "the hexagonal polymorphs (ε-NbN, δ'-NbN) are other phases"),
    "TaN": (NN, rocksalt("Ta", "N"), lattice(4.33, None, ["toth1971"], "uncertain",
                                             "metastable δ-TaN (films); a of fcc TaN_x near stoichiometry"), "approximate",
            report(True, ["tan2013"], tc=8.0, phase="face-centred cubic TaN films on MgO (≈ 100 nm)"),
            [report(True, ["ithepalli2025"], tc=3.6, phase="30 nm single-crystal δ-TaN film"),
             report(False, ["toth1971"], phase="stable hexagonal ε-TaN", computed_phase=False,
                    note="listed as not superconducting")],
            "rock-salt TaN is metastable and made as films; Tc depends strongly on the film"),
    # --- diborides ----------------------------------------------------------------------------------
    "MgB2": (BB, alb2("Mg"), lattice(3.086, 3.524, ["nagamatsu2001"], "standard"), "standard",
             report(True, ["nagamatsu2001", "buzea2001"], tc=39.0, phase="MgB2"), [], ""),
    "AlB2": (BB, alb2("Al"), lattice(3.009, 3.262, ["wyckoff1963"], "standard",
                                     "real samples are aluminium-deficient (about Al0.9B2)"), "approximate",
             report(False, ["buzea2001"], phase="AlB2 (Al-deficient)",
                    note="listed as not superconducting; the lowest temperature of the search is not recorded here"),
             [], ""),
    "TiB2": (BB, alb2("Ti"), lattice(3.028, 3.228, ["pearson1991"], "approximate"), "approximate",
             report(False, ["leyarovska1979", "kaczorowski2001"], down_to=0.42, phase="TiB2"), [], ""),
    "ZrB2": (BB, alb2("Zr"), lattice(3.169, 3.530, ["pearson1991"], "approximate"), "disputed",
             report(False, ["leyarovska1979", "kaczorowski2001"], down_to=0.42, phase="ZrB2"),
             [report(False, ["zrhfb2_2017"], down_to=1.0, phase="undoped ZrB2"),
              report(True, ["gasparov2001"], tc=5.5, phase="polycrystalline ZrB2",
                     note="not confirmed by later work on undoped ZrB2 (zrhfb2_2017)")],
             ""),
    "HfB2": (BB, alb2("Hf"), lattice(3.142, 3.476, ["pearson1991"], "approximate"), "standard",
             report(False, ["leyarovska1979", "kaczorowski2001"], down_to=0.42, phase="HfB2"),
             [report(False, ["zrhfb2_2017"], down_to=1.0, phase="undoped HfB2")], ""),
    "NbB2": (BB, alb2("Nb"), lattice(3.110, 3.267, ["pearson1991"], "approximate",
                                     "metal-deficient Nb1-xB2 has a larger c"), "disputed",
             report(False, ["gasparov2001"], down_to=0.37, phase="polycrystalline NbB2"),
             [report(True, ["leyarovska1979", "kaczorowski2001"], tc=0.62, phase="NbB2"),
              report(True, ["kaczorowski2001"], tc=3.87, phase="NbB2 of Cooper et al. (1970)"),
              report(False, ["yamamoto2002"], down_to=3.0, phase="stoichiometric NbB2 (high-pressure synthesis)",
                     note="no clear superconductivity down to 3 K"),
              report(True, ["yamamoto2002"], tc=9.2, phase="metal-deficient Nb0.76B2",
                     computed_phase=False)],
             "superconductivity appears with metal deficiency (Nb1-xB2, x > 0.04; yamamoto2002)"),
    "TaB2": (BB, alb2("Ta"), lattice(3.098, 3.227, ["pearson1991"], "approximate"), "disputed",
             report(False, ["gasparov2001"], down_to=0.37, phase="polycrystalline TaB2"),
             [report(False, ["rosner2001"], down_to=1.5, phase="TaB2"),
              report(False, ["leyarovska1979", "kaczorowski2001"], down_to=0.42, phase="TaB2"),
              report(True, ["kaczorowski2001", "buzea2001"], tc=9.5, phase="TaB2 samples of Kaczorowski et al. (2001)",
                     note="the value as these authors' report is quoted in buzea2001; not reproduced by the others")],
             ""),
}

# electrons outside the noble-gas core (see the docstring)
VALENCE = {"B": 3, "C": 4, "N": 5, "Mg": 2, "Al": 3, "Ti": 4, "Zr": 4, "Hf": 4, "V": 5, "Nb": 5, "Ta": 5, "Mo": 6,
           "W": 6}
FAMILIES = {CC: "rock-salt transition-metal carbides", NN: "rock-salt transition-metal nitrides",
            BB: "AlB2-type diborides"}
CONFIDENCE = ("standard", "approximate", "disputed", "uncertain")


def composition(formula: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for element, count in re.findall(r"([A-Z][a-z]?)(\d*)", formula):
        out[element] = out.get(element, 0) + (int(count) if count else 1)
    return out


def _check(name: str, entry: dict) -> None:
    """Every number cites a known source, the confidences are from the vocabulary, the sites match the formula."""
    lat, headline = entry["lattice"], entry["reports"][0]
    assert lat["sources"] and lat["confidence"] in CONFIDENCE, name
    assert entry["confidence"] in CONFIDENCE, name
    for r in entry["reports"]:
        assert r["sources"] and all(s in SOURCES for s in r["sources"]), (name, r)
        assert (r["tc_K"] is not None) == r["superconducting"], (name, r)
        assert r["not_superconducting_down_to_K"] is None or not r["superconducting"], (name, r)
    for s in lat["sources"]:
        assert s in SOURCES, (name, s)
    answers = {r["superconducting"] for r in entry["reports"] if r["computed_phase"]}
    assert (len(answers) > 1) == (entry["confidence"] == "disputed"), (name, answers)
    sites = {s["element"]: s for s in entry["structure"]["sites"]}
    assert set(sites) == set(composition(name)), name
    assert headline is entry["reports"][0]


def build() -> dict:
    compounds: dict[str, dict] = {}
    for name, (family, structure, lat, confidence, headline, others, note) in COMPOUNDS.items():
        comp = composition(name)
        vec = sum(VALENCE[e] * n for e, n in comp.items())
        entry = {
            "formula": name,
            "family": family,
            "structure": structure,
            "lattice": lat,
            "vec": vec,
            "vec_per_atom": round(vec / sum(comp.values()), 4),
            "superconducting": headline["superconducting"],
            "tc_K": headline["tc_K"],
            "not_superconducting_down_to_K": headline["not_superconducting_down_to_K"],
            "phase": headline["phase"],
            "sources": headline["sources"],
            "confidence": confidence,
            "disputed": confidence == "disputed",
            "reports": [headline, *others],
            "note": note,
        }
        _check(name, entry)
        compounds[name] = entry
    return {
        "description": "Measured superconductivity of compounds at ambient pressure: the rock-salt carbides and nitrides of "
        "groups 4-6 and the AlB2-type diborides; structure, measured lattice constants (Å, room temperature), valence "
        "electrons per formula unit (vec), the headline answer (superconducting, tc_K in kelvin, or "
        "not_superconducting_down_to_K) and every report with its phase and sources",
        "generated_by": "scripts/make_compound_tc.py",
        "conventions": {
            "confidence": {
                "standard": "stated alike by the sources cited",
                "approximate": "the yes/no answer is firm; the number depends on stoichiometry or sample, or was entered "
                               "from a compilation from memory",
                "disputed": "published reports disagree on whether it superconducts; the headline is the answer for "
                            "stoichiometric samples; left out of nhm's confusion matrix",
                "uncertain": "few or doubtful measurements, or a value whose attribution is not certain; left out of "
                             "nhm's confusion matrix",
            },
            "sources.checked": {
                TEXT: "the statement used was read in the source while this table was made",
                COMPILATION: "a standard compilation; the value as widely quoted from it, not re-read against the page",
            },
            "vec": "valence electrons per formula unit: group number for groups 1-12, group number - 10 for groups 13-18",
        },
        "families": FAMILIES,
        "sources": {k: {"citation": c, "checked": how} for k, (c, how) in SOURCES.items()},
        "compounds": compounds,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    doc = build()
    out = Path(args.out)
    write_atomically(out, (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode())
    c = doc["compounds"]
    print(f"{out}: {len(c)} compounds, {sum(1 for e in c.values() if e['superconducting'])} superconducting, "
          f"{sum(1 for e in c.values() if e['disputed'])} disputed")


if __name__ == "__main__":
    main()
