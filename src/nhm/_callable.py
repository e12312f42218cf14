"""Sub-packages that are also functions: ``nhm.kspace``, ``nhm.screen`` and ``nhm.manybody``.

Each of these names is both a sub-package (``nhm.kspace.sources``, ``nhm.screen.run``, ...) and an entry point
of the public API (``nhm.kspace("Nb")``). Python sets the attribute ``nhm.kspace`` to the package as soon as any
of its modules is imported, so a plain function of that name at the top level would be replaced by the package,
or not, depending on what was imported before. Instead the package itself is callable: its ``__init__`` calls
`make_callable`, which gives the module object a subclass of `types.ModuleType` whose
``__call__`` runs the API function. ``nhm.kspace`` is then the package in every import order, and calling it
runs the pipeline; its ``__signature__`` and ``__call__.__doc__`` are those of the API function.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__all__ = ["CallableModule", "make_callable"]


class CallableModule(types.ModuleType):
    """A module that, called, runs the function named by its ``__nhm_entry__`` (``"module:function"``)."""

    def _entry(self) -> Any:
        module, _, name = self.__dict__["__nhm_entry__"].partition(":")
        return getattr(importlib.import_module(module), name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the API function of this package (see the package's ``__signature__``)."""
        return self._entry()(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name == "__signature__":  # inspect.signature(nhm.kspace): the API function's, built on first use
            import inspect

            return inspect.signature(self._entry())
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")


def make_callable(module_name: str, entry: str) -> None:
    """Make the module ``module_name`` (already in `sys.modules`) callable: ``module(...)`` runs ``entry``
    (``"package.module:function"``, imported on the first call, so that importing the package stays cheap)."""
    module = sys.modules[module_name]
    module.__dict__["__nhm_entry__"] = entry
    module.__class__ = CallableModule
