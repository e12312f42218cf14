"""Wannier centres of a crystal with several atom orbits: the verdict for every choice among them.

The NHM puts the localized states at the atoms, but it does not say which atoms: in NbC they may sit on Nb
alone, on C alone, or on both; in MgB2 on Mg, on the B honeycomb, or on both. A screen therefore judges every
crystal with more than one atom orbit once for each orbit alone and once for all of them together (the
headline: ``nhm analyze``'s default), from the same DFT run: :func:`nhm.report.analyze.analyze` is called again
with ``centres=...`` and reads the SCF and the zone from the DFT cache, so only the connected-band search and
the verdict run again (the zone is computed for the default, whose band count μ is the largest and whose search
range therefore covers the others').

A choice is named by its Wyckoff labels in nhm's standard setting (``4b``; several joined by ``+``) and
described by its elements (``Nb 4b``). The row keeps each choice's whole analysis in ``data["centre_choices"]``
and a few key-value pairs: ``centres`` (the headline choice), ``centre_verdicts`` (every choice and its
verdict), ``centres_superconducting`` (the choices that give a superconducting band, or ``none``) and, per
single orbit, ``verdict_<label>`` and ``best_filling_<label>`` (``ase db FILE verdict_4b=superconducting``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["CentreChoice", "centre_choices", "centre_key_values"]


@dataclass(frozen=True)
class CentreChoice:
    """Wyckoff labels of the chosen atom orbits, their elements, and whether it is the headline (all atoms)."""

    labels: tuple[str, ...]
    elements: tuple[str, ...]
    default: bool

    @property
    def key(self) -> str:
        """``4b`` or ``4a+4b``: the choice in the row's key-value pairs."""
        return "+".join(self.labels)

    @property
    def name(self) -> str:
        """``Nb 4b``, or ``all atoms (C 4a + Nb 4b)``."""
        parts = " + ".join(f"{e} {lbl}" for e, lbl in zip(self.elements, self.labels))
        return f"all atoms ({parts})" if self.default and len(self.labels) > 1 else parts


def centre_choices(crystal) -> list[CentreChoice]:
    """Each atom orbit alone, then all together (the headline); one choice for a crystal of one orbit.

    Orbits that share a Wyckoff position (the same letter with other free parameters) are one centre choice,
    as in :func:`nhm.report.analyze.wannier_centres`."""
    by_label: dict[str, list[str]] = {}
    for orbit in crystal.orbits:
        by_label.setdefault(orbit.label, [])
        if orbit.element not in by_label[orbit.label]:
            by_label[orbit.label].append(orbit.element)
    labels = list(by_label)
    elements = tuple("".join(by_label[lbl]) for lbl in labels)
    everything = CentreChoice(tuple(labels), elements, True)
    if len(labels) == 1:
        return [everything]
    return [CentreChoice((lbl,), (el,), False) for lbl, el in zip(labels, elements)] + [everything]


def centre_key_values(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The row's key-value pairs for the stored choices (see the module docstring)."""
    if len(entries) < 2:
        return {}
    out: dict[str, Any] = {}
    verdicts, sc = [], []
    for e in entries:
        s = e.get("summary") or {}
        verdict = "failed" if e.get("error") else s.get("verdict", "none")
        verdicts.append(f"{e['name']}: {verdict}")
        if verdict == "superconducting":
            sc.append(e["name"])
        if e["default"]:
            out["centres"] = e["key"]
        else:
            out[f"verdict_{e['key']}"] = verdict
            if s.get("best_filling") is not None:
                out[f"best_filling_{e['key']}"] = s["best_filling"]
    out["centre_verdicts"] = "; ".join(verdicts)
    out["centres_superconducting"] = "; ".join(sc) or "none"
    return out
