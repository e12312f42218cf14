"""nhm screen: many crystals through ``nhm analyze`` on Dask, results in an ASE database, and the report
against the measured superconductivity of the elements and of compounds.

- :mod:`nhm.screen.run` — ``screen(...)``: the client (reads the crystals, skips finished rows, submits,
  writes one row per crystal) and ``plan(...)`` (what a screen would do);
- :mod:`nhm.screen.task` — the Dask task: one crystal in a supervised child process (timeout, crash
  isolation), returning a plain JSON-able record;
- :mod:`nhm.screen.database` — rows, resumption keys, ASE database connections (SQLite, PostgreSQL);
- :mod:`nhm.screen.inputs`, :mod:`nhm.screen.params` — what is screened, and with which parameters;
- :mod:`nhm.screen.elements` — feasibility of the elements, Pearson symbols, the shipped literature data;
- :mod:`nhm.screen.compounds` — the shipped table of compounds and the crystals built from it;
- :mod:`nhm.screen.centres` — every choice of Wannier centres among a crystal's atom orbits;
- :mod:`nhm.screen.report` — the rows against the measurements: confusion matrices, precision/recall, sweep;
  :mod:`nhm.screen.console` prints it, :mod:`nhm.screen.exports` writes CSV/JSON and the figures
  (:mod:`nhm.screen.figure`: periodic table and sweep, :mod:`nhm.screen.compound_figure`: Tc against VEC) and
  the plotly pages (:mod:`nhm.screen.pages`);
- the ``nhm screen`` command (typer) is :mod:`nhm.cli.screen`, with the other commands.

Nothing is imported here: ``import nhm.screen`` stays cheap for the command line.
"""

from nhm._callable import make_callable as _make_callable  # noqa: E402

_make_callable(__name__, "nhm.api:screen")  # nhm.screen(...) runs nhm.api.screen; the package stays the package
del _make_callable
