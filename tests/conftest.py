"""Shared fixtures and the suite's layout over pytest-xdist workers.

- One DFT cache for the whole run (``dft_cache``; also ``$NHM_CACHE_DIR`` of every test that does not set its own,
  so no test reads or writes the user's ~/.cache/nhm): the same crystal at the same parameters is computed once,
  whichever test asks first. Under xdist the workers share it (the cache writes atomically, so two workers that
  compute the same entry at once both leave a whole file).
- Modules with slow tests are collected first, and each worker runs with one BLAS thread.
- Tests of one module run on one worker (``--dist loadfile``: their module fixtures — DFT runs, models — are built
  once); the tests of an expensive DFT run live in one module (Zr: tests/test_zr_dft.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    # a worker per core: BLAS threads of one worker would only take the other workers' cores
    for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # modules with slow (end-to-end) tests first, each module kept in one piece (its module fixtures are built
    # once): the long modules start early and the short ones fill the gaps at the end
    slow = {item.module for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: item.module not in slow)
