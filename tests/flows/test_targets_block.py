import os
import re
import subprocess
import sys

import pytest
from pydantic import ValidationError

from blocks.targets import PerformanceTargets, load_targets
from modelgate.verify import LatencyTargets, MetricTarget


def test_block_roundtrip_keeps_statistic():
    PerformanceTargets(target_ttft_ms={"value": 200, "statistic": "p99"}, max_failure_rate=0.05).save("block-roundtrip", overwrite=True)
    loaded = PerformanceTargets.load("block-roundtrip")
    assert loaded.target_ttft_ms == MetricTarget(value=200, statistic="p99")
    assert loaded.max_failure_rate == 0.05


def test_load_targets_returns_plain_model():
    PerformanceTargets(target_e2e_latency_ms=50).save("block-plain", overwrite=True)
    targets = load_targets("block-plain")
    assert type(targets) is LatencyTargets
    assert targets.target_e2e_latency_ms.value == 50


def test_inline_targets_pass_through():
    targets = LatencyTargets(target_e2e_latency_ms=5)
    assert load_targets(targets) is targets


def test_missing_block_named_in_error():
    with pytest.raises(ValueError, match="performance targets block 'absent-block' was not found"):
        load_targets("absent-block")


def test_block_rejects_misspelt_field():
    with pytest.raises(ValidationError, match="target_e2e_latency"):
        PerformanceTargets(target_e2e_latency=50)


def test_block_fields_described():
    for name, field in PerformanceTargets.model_fields.items():
        assert field.description and field.description.endswith("."), name


def test_block_code_example_loads():
    assert re.search(r'= PerformanceTargets\.load\("BLOCK_NAME"\)', PerformanceTargets.get_code_example())


def test_block_registers_from_cli():
    from prefect.settings import PREFECT_API_URL

    command = [sys.executable, "-m", "prefect", "block", "register", "-m", "blocks.targets"]
    environment = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}  # the test server, not a new ephemeral one
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, env=environment)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "performance-targets" in completed.stdout.lower().replace(" ", "-")
