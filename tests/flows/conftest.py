"""Every flow test runs against the session's temporary Prefect server (see tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def prefect_server(prefect_harness):
    """Return the session's result storage folder; using it makes a test run under the harness."""
    return prefect_harness
