import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture()
def sample_server():
    """The bundled sample news, with the bad feeds and pages, on 127.0.0.1."""
    from akhbar.sample.server import SampleNewsServer

    with SampleNewsServer(faults=True) as server:
        yield server
