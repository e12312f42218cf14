"""Generate src/nhm/data/elements_superconductivity.json: measured superconductivity of the elements at
ambient pressure, the structure of the measured phase, what the NHM as nhm computes it does not cover,
and a comparison with pymatgen's element data.

Provenance. The table below (LITERATURE) is entered by hand from the compilations and papers in SOURCES;
every entry names its sources. ``superconducting`` is the measured answer at ambient pressure
(True/False; None where nothing reliable is known); ``tc_K`` the transition temperature of the phase in
``phase``; ``confidence`` is "uncertain" where the bulk superconductivity itself is in doubt or rests on
a single old measurement, and the note says why. Values differ between compilations by a few per cent
(purity, strain, criterion of the transition); the notes give the spread where it is larger. Only the
yes/no answer enters the confusion matrix of ``nhm screen --report``; the values mark the figure.

Also recorded, not entered by hand: for every element whether ASE has a reference crystal that
``nhm.crystal.read_crystal`` builds (its space group and Pearson symbol), whether that crystal is the
measured phase (Pearson symbols compared), and whether GPAW has a PBE PAW setup.

pymatgen (not a dependency of nhm) carries an ambient-pressure "Superconduction temperature" per
element. Give this script the wheel that holds it (since 2026 the data is in ``pymatgen-core``:
``pip download --no-deps pymatgen-core -d /tmp/pmg``), or ``periodic_table.json[.gz]``, or nothing (then an
installed pymatgen is looked up without importing it);
every element where pymatgen and the literature table disagree is recorded in ``disagreements`` (and
each element's value in ``pymatgen_tc_K``). A disagreement is: one says superconducting and the other
not (or has no value), the values differ by more than ``--tolerance`` (relative, default 5 %), or
pymatgen's value is that of another phase than the ambient one.

    .venv/bin/pip download --no-deps pymatgen-core -d /tmp/pmg
    .venv/bin/python scripts/make_element_tc.py /tmp/pmg/pymatgen_core-*.whl [--tolerance 0.05]
"""

from __future__ import annotations

import argparse
import gzip
import importlib.metadata
import importlib.util
import json
import sys
import zipfile
from pathlib import Path

from nhm.atomic import write_atomically

OUT = Path(__file__).resolve().parents[1] / "src" / "nhm" / "data" / "elements_superconductivity.json"

SOURCES = {
    "buzea2005": "C. Buzea and K. Robbie, 'Assembling the puzzle of superconducting elements: a review', "
    "Supercond. Sci. Technol. 18, R1 (2005) (ambient- and high-pressure superconductivity of the elements)",
    "kittel": "C. Kittel, Introduction to Solid State Physics, 8th ed. (Wiley, 2005), ch. 10, Table 1 "
    "(superconductivity parameters of the elements)",
    "matthias1963": "B. T. Matthias, T. H. Geballe and V. B. Compton, 'Superconductivity', Rev. Mod. Phys. 35, 1 (1963)",
    "crc": "CRC Handbook of Chemistry and Physics, section 12, 'Properties of superconductors' (table of the "
    "superconducting elements)",
    "webb2015": "G. W. Webb, F. Marsiglio and J. E. Hirsch, 'Superconductivity in the elements, alloys and simple "
    "compounds', Physica C 514, 17 (2015), arXiv:1502.04724 (31 elements superconduct at ambient pressure)",
    "tuoriniemi2007": "J. Tuoriniemi, K. Juntunen-Nurmilaukas, J. Uusvuori, E. Pentti, A. Salmela and A. Sebedash, "
    "'Superconductivity in lithium below 0.4 millikelvin at ambient pressure', Nature 447, 187 (2007)",
    "prakash2017": "O. Prakash, A. Kumar, A. Thamizhavel and S. Ramakrishnan, 'Evidence for bulk superconductivity "
    "in pure bismuth single crystals at ambient pressure', Science 355, 52 (2017) (Bi-I, Tc = 0.53 mK)",
    "buchal1983": "Ch. Buchal, F. Pobell, R. M. Mueller, M. Kubota and J. R. Owers-Bradley, 'Superconductivity of "
    "rhodium at ultralow temperatures', Phys. Rev. Lett. 50, 64 (1983) (Tc = 325 µK)",
    "finnemore1966": "D. K. Finnemore, T. F. Stromberg and C. A. Swenson, 'Superconducting properties of high-purity "
    "niobium', Phys. Rev. 149, 231 (1966) (Tc = 9.25 K)",
    "gibson1964": "J. W. Gibson and R. A. Hein, 'Superconductivity of tungsten', Phys. Rev. Lett. 12, 688 (1964)",
    "koenig1999": "R. König, A. Schindler and T. Herrmannsdörfer, 'Superconductivity of compacted platinum powder "
    "at very low temperatures', Phys. Rev. Lett. 82, 4528 (1999)",
    "donohue1974": "J. Donohue, The Structures of the Elements (Wiley, New York, 1974)",
    "fawcett1988": "E. Fawcett, 'Spin-density-wave antiferromagnetism in chromium', Rev. Mod. Phys. 60, 209 (1988)",
    "hobbs2003": "D. Hobbs, J. Hafner and D. Spišák, 'Understanding the complex metallic element Mn. I.', "
    "Phys. Rev. B 68, 014407 (2003) (α-Mn, 58 atoms, antiferromagnetic)",
    "jensen1991": "J. Jensen and A. R. Mackintosh, Rare Earth Magnetism (Clarendon Press, Oxford, 1991)",
}

# symbol: (superconducting, tc_K, (phase name, Pearson symbol, space group) | None, sources, extra)
# extra: confidence ("standard" default), note, flags (model coverage: magnetic ground states),
#        down_to (not superconducting down to this temperature, K), pymatgen_phase (pymatgen's value is
#        that of another phase: the note says which), pymatgen_note (said with a disagreement)
MAG = "magnetic"
F4 = ("open 4f shell: local 4f moments, magnetically ordered ground state (jensen1991); Krüger treats magnetic "
      "states with magnetic bands, nhm computes non-magnetic bands")
NOT_AMBIENT = "not superconducting at ambient pressure; superconducts only under pressure (buzea2005)"
LITERATURE: dict[str, tuple] = {
    "H": (False, None, None, ["buzea2005"], {"note": "molecular solid, insulator"}),
    "He": (False, None, None, ["buzea2005"], {"note": "solid only under pressure; insulator"}),
    "Li": (True, 0.0004, ("Li, bcc at room temperature", "cI2", 229), ["tuoriniemi2007", "webb2015"],
           {"note": "Tc 0.4 mK; below about 75 K bcc Li transforms in part martensitically to close-packed "
                    "(9R/fcc) structures, so the measured samples were not pure bcc"}),
    "Be": (True, 0.026, ("Be, hcp", "hP2", 194), ["buzea2005", "kittel", "crc"], {}),
    "B": (False, None, ("β-rhombohedral B", "hR105", 166), ["buzea2005"], {"note": NOT_AMBIENT + "; semiconductor"}),
    "C": (False, None, ("diamond", "cF8", 227), ["buzea2005", "donohue1974"],
          {"note": "neither diamond (ASE's reference crystal) nor graphite (the stable form at ambient conditions, "
                   "hP4) superconducts undoped"}),
    "N": (False, None, None, ["buzea2005"], {"note": "molecular solid, insulator"}),
    "O": (False, None, None, ["buzea2005"], {"note": "molecular solid; " + NOT_AMBIENT}),
    "F": (False, None, None, ["buzea2005"], {"note": "molecular solid, insulator"}),
    "Ne": (False, None, ("solid Ne, fcc", "cF4", 225), ["buzea2005"], {"note": "insulator"}),
    "Na": (False, None, ("Na, bcc at room temperature", "cI2", 229), ["buzea2005"],
           {"note": "below about 35 K bcc Na transforms in part martensitically to close-packed structures"}),
    "Mg": (False, None, ("Mg, hcp", "hP2", 194), ["buzea2005"], {}),
    "Al": (True, 1.175, ("Al, fcc", "cF4", 225), ["crc", "kittel", "buzea2005"],
           {"note": "reported values 1.14-1.18 K"}),
    "Si": (False, None, ("Si, diamond", "cF8", 227), ["buzea2005"], {"note": NOT_AMBIENT + "; semiconductor"}),
    "P": (False, None, ("black P", "oS8", 64), ["buzea2005"], {"note": NOT_AMBIENT + "; semiconductor"}),
    "S": (False, None, ("α-S", "oF128", 70), ["buzea2005"], {"note": NOT_AMBIENT + "; insulator"}),
    "Cl": (False, None, None, ["buzea2005"], {"note": "molecular solid, insulator"}),
    "Ar": (False, None, ("solid Ar, fcc", "cF4", 225), ["buzea2005"], {"note": "insulator"}),
    "K": (False, None, ("K, bcc", "cI2", 229), ["buzea2005"], {}),
    "Ca": (False, None, ("Ca, fcc", "cF4", 225), ["buzea2005"], {"note": NOT_AMBIENT}),
    "Sc": (False, None, ("Sc, hcp", "hP2", 194), ["buzea2005"], {"note": NOT_AMBIENT, "pymatgen_note": NOT_AMBIENT}),
    "Ti": (True, 0.40, ("α-Ti, hcp", "hP2", 194), ["crc", "kittel", "buzea2005"],
           {"note": "reported values 0.39-0.49 K (purity)"}),
    "V": (True, 5.40, ("V, bcc", "cI2", 229), ["crc", "kittel", "buzea2005"], {"note": "reported values 5.38-5.43 K"}),
    "Cr": (False, None, ("Cr, bcc", "cI2", 229), ["buzea2005", "fawcett1988"],
           {"flags": [(MAG, "antiferromagnetic ground state (spin-density wave, T_N = 311 K; fawcett1988)")]}),
    "Mn": (False, None, ("α-Mn", "cI58", 217), ["buzea2005", "hobbs2003"],
           {"flags": [(MAG, "α-Mn (58 atoms) is antiferromagnetic (hobbs2003)")]}),
    "Fe": (False, None, ("α-Fe, bcc", "cI2", 229), ["buzea2005", "kittel"],
           {"note": "ε-Fe superconducts under pressure",
            "flags": [(MAG, "ferromagnetic ground state (T_C = 1043 K)")]}),
    "Co": (False, None, ("ε-Co, hcp", "hP2", 194), ["buzea2005", "kittel"],
           {"flags": [(MAG, "ferromagnetic ground state (T_C = 1388 K)")]}),
    "Ni": (False, None, ("Ni, fcc", "cF4", 225), ["buzea2005", "kittel"],
           {"flags": [(MAG, "ferromagnetic ground state (T_C = 627 K)")]}),
    "Cu": (False, None, ("Cu, fcc", "cF4", 225), ["buzea2005"], {}),
    "Zn": (True, 0.85, ("Zn, hcp", "hP2", 194), ["crc", "kittel", "buzea2005"], {"note": "reported values 0.85-0.88 K"}),
    "Ga": (True, 1.083, ("α-Ga", "oS8", 64), ["crc", "kittel", "buzea2005"], {"note": "reported values 1.08-1.09 K"}),
    "Ge": (False, None, ("Ge, diamond", "cF8", 227), ["buzea2005"], {"note": NOT_AMBIENT + "; semiconductor"}),
    "As": (False, None, ("α-As (A7)", "hR2", 166), ["buzea2005"], {"note": NOT_AMBIENT + "; semimetal"}),
    "Se": (False, None, ("trigonal Se", "hP3", 152), ["buzea2005"], {"note": NOT_AMBIENT + "; semiconductor"}),
    "Br": (False, None, None, ["buzea2005"], {"note": "molecular solid; " + NOT_AMBIENT}),
    "Kr": (False, None, ("solid Kr, fcc", "cF4", 225), ["buzea2005"], {"note": "insulator"}),
    "Rb": (False, None, ("Rb, bcc", "cI2", 229), ["buzea2005"], {}),
    "Sr": (False, None, ("Sr, fcc", "cF4", 225), ["buzea2005"], {"note": NOT_AMBIENT}),
    "Y": (False, None, ("Y, hcp", "hP2", 194), ["buzea2005"], {"note": NOT_AMBIENT, "pymatgen_note": NOT_AMBIENT}),
    "Zr": (True, 0.61, ("α-Zr, hcp", "hP2", 194), ["crc", "kittel", "buzea2005"],
           {"note": "reported values 0.55-0.61 K (purity)"}),
    "Nb": (True, 9.25, ("Nb, bcc", "cI2", 229), ["finnemore1966", "crc", "kittel", "buzea2005"],
           {"note": "9.25 K in high-purity samples (finnemore1966); older compilations list up to 9.5 K"}),
    "Mo": (True, 0.915, ("Mo, bcc", "cI2", 229), ["crc", "kittel", "buzea2005"], {"note": "reported values 0.915-0.92 K"}),
    "Tc": (True, 7.8, ("Tc, hcp", "hP2", 194), ["crc", "kittel", "buzea2005"], {"note": "reported values 7.7-8.2 K"}),
    "Ru": (True, 0.49, ("Ru, hcp", "hP2", 194), ["crc", "kittel", "buzea2005"], {"note": "reported values 0.49-0.51 K"}),
    "Rh": (True, 0.000325, ("Rh, fcc", "cF4", 225), ["buchal1983", "webb2015"], {"note": "Tc 325 µK"}),
    "Pd": (False, None, ("Pd, fcc", "cF4", 225), ["buzea2005"],
           {"note": "strongly exchange-enhanced paramagnet (close to ferromagnetism); not covered by a magnetic flag "
                    "because its ground state is not ordered"}),
    "Ag": (False, None, ("Ag, fcc", "cF4", 225), ["buzea2005"], {}),
    "Cd": (True, 0.517, ("Cd, hcp", "hP2", 194), ["crc", "kittel", "buzea2005"], {"note": "reported values 0.52-0.56 K"}),
    "In": (True, 3.408, ("In, body-centred tetragonal", "tI2", 139), ["crc", "kittel", "buzea2005"], {}),
    "Sn": (True, 3.722, ("β-Sn (white tin)", "tI4", 141), ["crc", "kittel", "buzea2005"],
           {"note": "α-Sn (grey tin, diamond, stable below 13 °C) does not superconduct; β-Sn persists metastably "
                    "at low temperature"}),
    "Sb": (False, None, ("Sb (A7)", "hR2", 166), ["buzea2005"], {"note": NOT_AMBIENT + "; semimetal"}),
    "Te": (False, None, ("trigonal Te", "hP3", 152), ["buzea2005"], {"note": NOT_AMBIENT + "; semiconductor"}),
    "I": (False, None, ("solid I2", "oS8", 64), ["buzea2005"], {"note": "molecular solid; " + NOT_AMBIENT}),
    "Xe": (False, None, ("solid Xe, fcc", "cF4", 225), ["buzea2005"], {"note": "insulator"}),
    "Cs": (False, None, ("Cs, bcc", "cI2", 229), ["buzea2005"], {"note": NOT_AMBIENT}),
    "Ba": (False, None, ("Ba, bcc", "cI2", 229), ["buzea2005"], {"note": NOT_AMBIENT}),
    "La": (True, 4.88, ("α-La, double hcp", "hP4", 194), ["crc", "kittel", "buzea2005"],
           {"note": "metastable β-La (fcc) superconducts at 6.0 K", "pymatgen_phase": 6.0}),
    "Ce": (False, None, ("γ-Ce, fcc (room temperature)", "cF4", 225), ["buzea2005", "jensen1991"],
           {"note": "superconducts only under pressure (buzea2005); on cooling γ-Ce transforms to β-Ce (dhcp) and "
                    "α-Ce (collapsed fcc)", "pymatgen_note": NOT_AMBIENT, "flags": [(MAG, F4)]}),
    "Pr": (False, None, ("Pr, double hcp", "hP4", 194), ["buzea2005", "jensen1991"],
           {"flags": [(MAG, "open 4f shell (singlet crystal-field ground state; jensen1991); nhm computes "
                            "non-magnetic bands")]}),
    "Nd": (False, None, ("Nd, double hcp", "hP4", 194), ["buzea2005", "jensen1991"], {"flags": [(MAG, F4)]}),
    "Pm": (False, None, ("Pm, double hcp", "hP4", 194), ["buzea2005"],
           {"confidence": "uncertain", "note": "radioactive; little measured", "flags": [(MAG, F4)]}),
    "Sm": (False, None, ("Sm (Sm type)", "hR3", 166), ["buzea2005", "jensen1991"], {"flags": [(MAG, F4)]}),
    "Eu": (False, None, ("Eu, bcc", "cI2", 229), ["buzea2005", "jensen1991"],
           {"note": NOT_AMBIENT, "flags": [(MAG, "4f⁷ local moments (Eu²⁺), antiferromagnetic helix (jensen1991)")]}),
    "Gd": (False, None, ("Gd, hcp", "hP2", 194), ["buzea2005", "jensen1991"],
           {"pymatgen_note": "pymatgen's 1.083 K is the Tc of gallium (α-Ga), apparently copied into the wrong row",
            "flags": [(MAG, "ferromagnetic ground state (T_C ≈ 293 K; jensen1991)")]}),
    "Tb": (False, None, ("Tb, hcp", "hP2", 194), ["buzea2005", "jensen1991"], {"flags": [(MAG, F4)]}),
    "Dy": (False, None, ("Dy, hcp", "hP2", 194), ["buzea2005", "jensen1991"], {"flags": [(MAG, F4)]}),
    "Ho": (False, None, ("Ho, hcp", "hP2", 194), ["buzea2005", "jensen1991"], {"flags": [(MAG, F4)]}),
    "Er": (False, None, ("Er, hcp", "hP2", 194), ["buzea2005", "jensen1991"], {"flags": [(MAG, F4)]}),
    "Tm": (False, None, ("Tm, hcp", "hP2", 194), ["buzea2005", "jensen1991"], {"flags": [(MAG, F4)]}),
    "Yb": (False, None, ("β-Yb, fcc", "cF4", 225), ["buzea2005"],
           {"note": NOT_AMBIENT + "; full 4f shell (divalent, non-magnetic); below room temperature part of a sample "
                    "may transform to hcp α-Yb"}),
    "Lu": (True, 0.1, ("Lu, hcp", "hP2", 194), ["kittel", "buzea2005"],
           {"confidence": "uncertain", "note": "an ambient-pressure Tc of about 0.1 K is listed in compilations; "
                                                "later work finds Lu superconducting mainly under pressure, so bulk "
                                                "superconductivity at ambient pressure is uncertain"}),
    "Hf": (True, 0.128, ("α-Hf, hcp", "hP2", 194), ["crc", "kittel", "buzea2005"], {"note": "reported values 0.12-0.13 K"}),
    "Ta": (True, 4.47, ("Ta, bcc", "cI2", 229), ["crc", "kittel", "buzea2005"], {"note": "reported values 4.47-4.48 K"}),
    "W": (True, 0.015, ("α-W, bcc", "cI2", 229), ["gibson1964", "crc", "kittel", "buzea2005"],
          {"note": "reported values 0.012-0.0154 K, strongly purity dependent (gibson1964)"}),
    "Re": (True, 1.697, ("Re, hcp", "hP2", 194), ["crc", "kittel", "buzea2005"], {"note": "reported values 1.4-1.7 K (strain)"}),
    "Os": (True, 0.66, ("Os, hcp", "hP2", 194), ["crc", "kittel", "buzea2005"], {"note": "reported values 0.655-0.66 K"}),
    "Ir": (True, 0.1125, ("Ir, fcc", "cF4", 225), ["crc", "kittel", "buzea2005"], {"note": "reported values 0.11-0.14 K"}),
    "Pt": (False, None, ("Pt, fcc", "cF4", 225), ["buzea2005", "koenig1999"],
           {"note": "bulk Pt does not superconduct; compacted Pt powders (granular, not bulk) superconduct in the "
                    "millikelvin range (koenig1999)"}),
    "Au": (False, None, ("Au, fcc", "cF4", 225), ["buzea2005"], {}),
    "Hg": (True, 4.154, ("α-Hg, rhombohedral", "hR1", 166), ["crc", "kittel", "buzea2005"],
           {"note": "β-Hg (body-centred tetragonal, formed under stress) superconducts at 3.95 K", "pymatgen_phase": 3.95}),
    "Tl": (True, 2.38, ("α-Tl, hcp", "hP2", 194), ["crc", "kittel", "buzea2005"], {"note": "reported values 2.38-2.39 K"}),
    "Pb": (True, 7.196, ("Pb, fcc", "cF4", 225), ["crc", "kittel", "buzea2005"], {"note": "reported values 7.19-7.20 K"}),
    "Bi": (True, 0.00053, ("Bi-I (A7)", "hR2", 166), ["prakash2017"],
           {"note": "Tc 0.53 mK in pure single crystals (prakash2017); amorphous and high-pressure Bi superconduct at "
                    "several K"}),
    "Po": (None, None, ("α-Po, simple cubic", "cP1", 221), ["donohue1974"], {"note": "radioactive; not known"}),
    "Th": (True, 1.38, ("Th, fcc", "cF4", 225), ["crc", "kittel", "buzea2005"], {"note": "reported values 1.37-1.38 K"}),
    "Pa": (True, 1.4, ("Pa, body-centred tetragonal", "tI2", 139), ["crc", "kittel", "buzea2005"],
           {"confidence": "uncertain", "note": "radioactive; few measurements"}),
    "U": (True, 0.2, ("α-U, orthorhombic", "oS4", 63), ["crc", "kittel", "buzea2005"],
          {"confidence": "uncertain", "note": "Tc of α-U is strongly sample dependent (charge-density-wave phases below "
                                              "43 K); values from 0.1 to about 0.8 K are reported"}),
    "Np": (None, None, ("α-Np", "oP8", 62), ["donohue1974"], {"note": "radioactive; not known"}),
    "Pu": (False, None, ("α-Pu, monoclinic", "mP16", 11), ["buzea2005"],
           {"confidence": "uncertain", "note": "no superconductivity of elemental Pu reported"}),
    "Am": (True, 0.6, ("α-Am, double hcp", "hP4", 194), ["crc", "buzea2005"],
           {"confidence": "uncertain", "note": "radioactive (self-heating); reported values 0.6-1.0 K"}),
}


def _pymatgen_table(path: str | None) -> tuple[dict[str, float | None] | None, str | None]:
    """pymatgen's ``Superconduction temperature`` per element and a description of where it came from."""
    if path is None:
        spec = importlib.util.find_spec("pymatgen")  # finds the package without importing pymatgen.core
        if spec is None or not spec.submodule_search_locations:
            return None, None
        base = Path(list(spec.submodule_search_locations)[0]) / "core"
        found = [base / n for n in ("periodic_table.json.gz", "periodic_table.json") if (base / n).exists()]
        if not found:
            return None, None
        path = str(found[0])
        try:
            version = importlib.metadata.version("pymatgen-core")
        except importlib.metadata.PackageNotFoundError:
            version = importlib.metadata.version("pymatgen")
        origin = f"installed pymatgen {version}: {found[0].name}"
    else:
        origin = Path(path).name
    p = Path(path)
    if p.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(p) as z:
            members = [n for n in z.namelist() if n.endswith(("core/periodic_table.json", "core/periodic_table.json.gz"))]
            if not members:
                raise SystemExit(f"{p}: no pymatgen/core/periodic_table.json in this archive (since 2026 it is in the "
                                 "pymatgen-core wheel: pip download --no-deps pymatgen-core)")
            raw = z.read(members[0])
            origin = f"{p.name}: {members[0]}"
        if members[0].endswith(".gz"):
            raw = gzip.decompress(raw)
    elif p.suffix == ".gz":
        raw = gzip.decompress(p.read_bytes())
    else:
        raw = p.read_bytes()
    table = json.loads(raw)
    out: dict[str, float | None] = {}
    for symbol, entry in table.items():
        if not isinstance(entry, dict) or "Atomic no" not in entry:
            continue
        value = entry.get("Superconduction temperature")
        try:
            out[symbol] = float(str(value).split()[0]) if value not in (None, "no data") else None
        except ValueError:
            out[symbol] = None
    return out, origin


def _reference_crystal(symbol: str) -> dict:
    from nhm.screen.elements import feasible

    f = feasible(symbol)
    doc = {"space_group": f.space_group, "pearson": f.pearson}
    if f.space_group is None:
        doc["error"] = f.reason
    return doc


def _has_setup(symbol: str) -> bool:
    from nhm.screen.elements import _has_setup as has

    return has(symbol, "PBE")[0]


def build(pymatgen: dict[str, float | None] | None, origin: str | None, tolerance: float) -> dict:
    from ase.data import chemical_symbols

    from nhm.screen.elements import same_pearson

    elements: dict[str, dict] = {}
    disagreements: list[dict] = []
    for z, symbol in enumerate(chemical_symbols[1:104], start=1):
        sc, tc, phase, sources, extra = LITERATURE.get(symbol, (None, None, None, [], {"note": "no entry"}))
        for s in sources:
            assert s in SOURCES, (symbol, s)
        ref = _reference_crystal(symbol)
        setup = _has_setup(symbol)
        flags = [{"flag": kind, "reason": reason} for kind, reason in extra.get("flags", [])]
        phase_doc = None if phase is None else {"name": phase[0], "pearson": phase[1], "space_group": phase[2]}
        if phase_doc and ref.get("pearson"):
            matches = same_pearson(ref["pearson"], phase_doc["pearson"])
            ref["is_measured_phase"] = matches
            if not matches:
                flags.append({"flag": "phase", "reason": f"ASE's reference crystal ({ref['pearson']}, space group "
                                                         f"{ref['space_group']}) is not the measured phase "
                                                         f"{phase_doc['name']} ({phase_doc['pearson']})"})
        entry = {
            "Z": z,
            "superconducting": sc,
            "tc_K": tc,
            "not_superconducting_down_to_K": extra.get("down_to") if sc is False else None,
            "phase": phase_doc,
            "confidence": extra.get("confidence", "standard") if sc is not None else "unknown",
            "sources": sources,
            "note": extra.get("note", ""),
            "model_flags": flags,
            "ase_reference": ref,
            "gpaw_setup_pbe": setup,
            "feasible": bool(ref.get("space_group") is not None and setup),
        }
        if pymatgen is not None:
            p = pymatgen.get(symbol)
            entry["pymatgen_tc_K"] = p
            d = _disagreement(symbol, sc, tc, p, extra.get("pymatgen_phase"), tolerance)
            if d is not None:
                d["note"] = extra.get("pymatgen_note") or entry["note"]
                disagreements.append(d)
        elements[symbol] = entry
    n_sc = sum(1 for e in elements.values() if e["superconducting"])
    return {
        "description": "Measured superconductivity of the elements at ambient pressure, the structure of the measured "
        "phase, what nhm's model does not cover (model_flags), ASE's reference crystal and GPAW's PAW setup; "
        "tc_K in kelvin (null: not superconducting or not known); superconducting null: not known",
        "generated_by": "scripts/make_element_tc.py",
        "sources": SOURCES,
        "superconducting_at_ambient_pressure": n_sc,
        "pymatgen": None if pymatgen is None else {"origin": origin, "relative_tolerance": tolerance},
        "elements": elements,
        "disagreements": disagreements,
    }


def _disagreement(symbol, sc, tc, p, other_phase, tolerance) -> dict | None:
    base = {"element": symbol, "literature_superconducting": sc, "literature_tc_K": tc, "pymatgen_tc_K": p}
    if sc is None:
        return None if p is None else {**base, "kind": "pymatgen lists a Tc, the literature table has no answer"}
    if sc and p is None:
        return {**base, "kind": "missing in pymatgen"}
    if not sc and p is not None:
        return {**base, "kind": "pymatgen lists a Tc for an element that does not superconduct at ambient pressure"}
    if sc and p is not None:
        if other_phase is not None and abs(p - other_phase) <= tolerance * other_phase:
            return {**base, "kind": f"pymatgen's value is that of another phase ({other_phase} K)"}
        rel = abs(p - tc) / tc
        if rel > tolerance:
            return {**base, "kind": f"values differ by {100 * rel:.0f} %"}
    return None


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pymatgen", nargs="?", help="pymatgen wheel, or its periodic_table.json[.gz] (default: installed pymatgen)")
    ap.add_argument("--tolerance", type=float, default=0.05, help="relative difference of Tc counted as a disagreement")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    pymatgen, origin = _pymatgen_table(args.pymatgen)
    if pymatgen is None:
        print("note: no pymatgen data given or installed: the comparison is left out", file=sys.stderr)
    doc = build(pymatgen, origin, args.tolerance)
    out = Path(args.out)
    write_atomically(out, (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode())
    print(f"{out}: {len(doc['elements'])} elements, {doc['superconducting_at_ambient_pressure']} superconducting at "
          f"ambient pressure, {len(doc['disagreements'])} disagreements with pymatgen")
    for d in doc["disagreements"]:
        print(f"  {d['element']}: literature {d['literature_tc_K']}, pymatgen {d['pymatgen_tc_K']}: {d['kind']}")


if __name__ == "__main__":
    main()
