"""Shared fixtures: one DFT cache for the slow GPAW tests of a session (the same crystal at the same
parameters is computed once, whichever test asks first)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def dft_cache(tmp_path_factory):
    """A DFT cache directory shared by the slow tests of this session (never the user's ~/.cache/nhm)."""
    return tmp_path_factory.mktemp("dft-cache")
