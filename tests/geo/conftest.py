import pytest

from akhbar.lib.geo.gazetteer import load_gazetteer
from akhbar.lib.geo.resolve import Resolver


@pytest.fixture(scope="session")
def gazetteer():
    """The real gazetteer (built from the installed packages on first use, then read from the cache)."""
    return load_gazetteer()


@pytest.fixture(scope="session")
def resolver(gazetteer):
    return Resolver(gazetteer)
