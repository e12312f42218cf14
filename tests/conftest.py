"""Shared fixtures and the suite's layout over pytest-xdist workers.

- One DFT cache for the whole run (``dft_cache``; also ``$NHM_CACHE_DIR`` of every test that does not set its own,
  so no test reads or writes the user's ~/.cache/nhm): the same crystal at the same parameters is computed once,
  whichever test asks first. Under xdist the workers share it (the cache writes atomically, so two workers that
  compute the same entry at once both leave a whole file).
- The longest modules are collected first (``HEAVY_FIRST``), then the other slow ones, and the workers take them
  in that order (``--no-loadscope-reorder`` in pyproject.toml); each worker runs with one BLAS thread and one GPAW process.
- Tests of one module run on one worker (``--dist loadfile``: their module fixtures — DFT runs, models — are built
  once); the tests of an expensive DFT run live in one module (Zr: tests/test_zr_dft.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    # a worker per core: BLAS threads, or a second GPAW process of the zone stage, would only take the other
    # workers' cores (as in a screen, where each crystal's analysis runs one GPAW process)
    for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NHM_ZONE_WORKERS"):
        os.environ.setdefault(_name, "1")


def _run_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's directory, shared by its workers
    path = root / "dft-cache"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def dft_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The DFT cache directory of this test run (never the user's ~/.cache/nhm)."""
    return _run_cache(tmp_path_factory)


@pytest.fixture(scope="session", autouse=True)
def _cache_of_the_run(dft_cache: Path):
    mp = pytest.MonkeyPatch()
    mp.setenv("NHM_CACHE_DIR", str(dft_cache))
    yield
    mp.undo()


# The modules that take longest (measured with --durations on two cores), longest first, in the order the workers take
# them (--no-loadscope-reorder: xdist would otherwise put the modules with the most tests first). Zr and Nb start
# at once on the two workers: test_analyze computes Nb at the defaults, which test_api, test_dft and the other Nb
# tests that follow then read from the run's cache instead of computing it again side by side.
HEAVY_FIRST = ("test_zr_dft", "test_analyze", "test_verdict_dft", "test_api", "test_screen", "test_dft",
               "test_nothing_lost", "test_manybody", "test_screen_compounds", "test_robust_runs", "test_bandrep",
               "test_connected", "test_groups", "test_kspace")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # then the other modules with slow (end-to-end) tests, then the fast ones; each module stays in one piece (its
    # module fixtures are built once)
    slow = {item.module for item in items if item.get_closest_marker("slow") is not None}

    def rank(item: pytest.Item) -> tuple[int, int]:
        name = item.module.__name__ if item.module else ""
        if name in HEAVY_FIRST:
            return 0, HEAVY_FIRST.index(name)
        return (1 if item.module in slow else 2), 0

    items.sort(key=rank)
