"""Every flow test runs against the session's temporary Prefect server."""

import pytest


@pytest.fixture(autouse=True)
def _flows_use_harness(prefect_harness):
    yield
