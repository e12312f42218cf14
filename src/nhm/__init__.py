"""nhm — the nonadiabatic Heisenberg model: superconducting bands, k-space magnetism, and their group theory.

The public API, a few calls from a crystal to the answer (each imported on first use, so ``import nhm`` stays
fast; the functions live in `nhm.api`, their results in `nhm.results`):

- `nhm.analyze` — DFT bands, irreps, connected superconducting bands and the verdict (``nhm analyze``);
- `nhm.kspace` — k-space magnetism of a band: a model, a tight-binding band or a material's own (``nhm kspace``);
- `nhm.classify` — Krüger's tests U and S on a band given by its irreps (``nhm classify``);
- `nhm.manybody` — exact ground states of the NHM Hamiltonian, ΔE and the selection rule (``nhm manybody``);
- `nhm.screen` — many crystals on Dask into an ASE database (``nhm screen``);
- `nhm.irreps`, `nhm.ebr` — character tables and (elementary) band representations.

``nhm.kspace``, ``nhm.manybody`` and ``nhm.screen`` are also the sub-packages of those names; the packages are
callable (`nhm._callable`), so ``nhm.kspace("Nb")`` runs the pipeline and ``nhm.kspace.sources`` is the
package, in whatever order they are imported.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a tenth of `import nhm`'s time)

from nhm.version import __version__

__all__ = ["__version__", "analyze", "classify", "ebr", "irreps", "kspace", "manybody", "screen"]

_FUNCTIONS = {"analyze", "classify", "ebr", "irreps"}  # plain functions of nhm.api
_PACKAGES = {"kspace", "manybody", "screen"}  # callable sub-packages (their call runs nhm.api's function)

if TYPE_CHECKING:  # for type checkers and IDEs: the names as the functions they run
    from typing import Any

    from nhm.api import analyze, classify, ebr, irreps, kspace, manybody, screen  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _FUNCTIONS:
        value = getattr(importlib.import_module("nhm.api"), name)
    elif name in _PACKAGES:
        value = importlib.import_module(f"nhm.{name}")  # the package, callable
    else:
        raise AttributeError(f"module 'nhm' has no attribute {name!r}")
    globals()[name] = value  # once: later look-ups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
