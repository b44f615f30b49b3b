"""Every flow test runs against the session's temporary Prefect server (see tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def prefect_server(prefect_harness):
    """Return the session's result storage folder; using it makes a test run under the harness."""
    return prefect_harness


@pytest.fixture
def read_run_artifacts():
    """Return a function that reads a flow run's artifacts as {key: artifact}."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    def read(flow_run_id):
        with get_client(sync_client=True) as client:
            artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
        # Keyless artifacts, such as Prefect's record of a persisted flow result, cannot be looked up by key.
        return {artifact.key: artifact for artifact in artifacts if artifact.key}

    return read
