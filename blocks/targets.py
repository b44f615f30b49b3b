"""`PerformanceTargets`: a named set of latency targets (an SLO set) kept as a Prefect block."""

from __future__ import annotations

from typing import ClassVar

from prefect.blocks.core import Block
from pydantic import ConfigDict

from modelgate.verify import LatencyTargets


class PerformanceTargets(Block, LatencyTargets):
    """Latency, throughput and failure-rate targets that a team saves once and names in flow runs.

    A bare number is a target on the mean; `{"value": 50, "statistic": "p99"}` picks the statistic.
    """

    _block_type_name = "Performance Targets"
    _block_type_slug = "performance-targets"
    _description = "Latency, throughput and failure-rate targets (an SLO set) that deploy-model checks a benchmark against."
    _documentation_url = "https://docs.prefect.io/v3/concepts/blocks"
    _code_example = """
```python
from blocks.targets import PerformanceTargets

PerformanceTargets(target_e2e_latency_ms={"value": 50, "statistic": "p99"}).save("embeddings-p99-50ms")
targets_block = PerformanceTargets.load("BLOCK_NAME")
```
Then start deploy-model with `targets="embeddings-p99-50ms"`."""

    # Unknown fields are rejected so that a misspelt target cannot be saved and silently ignored.
    model_config: ClassVar[ConfigDict] = ConfigDict(**{**Block.model_config, "extra": "forbid"})

    def to_targets(self) -> LatencyTargets:
        """Return the targets as the engine's plain model, without block metadata."""
        return LatencyTargets.model_validate(self.model_dump(include=set(LatencyTargets.model_fields)))


def load_targets(targets: LatencyTargets | str) -> LatencyTargets:
    """Return inline targets unchanged, or load the `PerformanceTargets` block named by `targets`.

    Raises:
        ValueError: no PerformanceTargets block has that name.
    """
    if isinstance(targets, LatencyTargets):
        return targets.to_targets() if isinstance(targets, PerformanceTargets) else targets

    try:
        block = PerformanceTargets.load(targets)
    except ValueError as error:
        raise ValueError(
            f"performance targets block {targets!r} was not found ({error}); create it with "
            f"`PerformanceTargets(...).save({targets!r})` or pass the targets inline"
        ) from error
    return block.to_targets()
