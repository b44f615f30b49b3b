"""Validated parameters and the result of the `deploy-model` flow."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from modelgate.bench.loads import EmbeddingLoad, LlmLoad


class BenchmarkLoad(BaseModel):
    """The benchmark load; every loop it drives is bounded by `num_requests` and `max_duration_s`."""

    model_config = ConfigDict(extra="forbid")

    concurrency: int = Field(default=8, ge=1, le=4096, description="Requests in flight at once.")
    num_requests: int = Field(default=200, ge=1, le=1_000_000, description="Measured requests, warm-up excluded.")
    batch_size: int = Field(default=1, ge=1, le=2048, description="Inputs per embeddings request.")
    input_tokens: int = Field(default=32, ge=1, le=32768, description="Approximate tokens per input.")
    warmup_requests: int = Field(default=4, ge=0, le=1000, description="Requests sent first and not counted.")
    timeout_s: float = Field(default=60.0, gt=0, le=3600, description="Timeout of one request in seconds.")
    max_duration_s: float = Field(default=600.0, gt=0, le=86400, description="Time limit of the measured run in seconds.")
    request_rate: float | None = Field(
        default=None, gt=0, le=100_000, description="Open loop: requests per second (Poisson arrivals); concurrency then caps requests in flight."
    )
    api: Literal["chat", "completions"] = Field(default="chat", description="LLM API to stream from.")
    output_tokens: int = Field(default=128, ge=1, le=32768, description="LLM: max_tokens of each request.")

    def _common(self) -> dict[str, Any]:
        return self.model_dump(exclude={"batch_size", "api", "output_tokens"})

    def to_embedding_load(self) -> EmbeddingLoad:
        """Return the engine's load description for an embeddings benchmark."""
        return EmbeddingLoad(**self._common(), batch_size=self.batch_size)

    def to_llm_load(self) -> LlmLoad:
        """Return the engine's load description for a streaming LLM benchmark."""
        return LlmLoad(**self._common(), api=self.api, output_tokens=self.output_tokens)


class DeployResult(BaseModel):
    """Outcome of one `deploy-model` run: where the model runs, what it serves, how fast, and the verdict."""

    model: str
    served_model_name: str
    runtime: str
    base_url: str | None = None
    engine_pid: int | None = Field(default=None, description="Process id of the local engine (local runtime only).")
    engine_log: str | None = Field(default=None, description="Path of the local engine's log file.")
    model_type: str | None = None
    endpoints: dict[str, bool] = Field(default_factory=dict)
    endpoint_details: dict[str, dict[str, Any]] = Field(default_factory=dict)
    capabilities: list[str] = Field(
        default_factory=list, description="Working capabilities, such as chat and embeddings for an LLM that also embeds."
    )
    summary: dict[str, Any] = Field(default_factory=dict)
    verdict: dict[str, Any] | None = None
    timings_s: dict[str, float] = Field(default_factory=dict, description="Wall time of each step in seconds.")
    release: str | None = Field(default=None, description="Helm release of the model server (Kubernetes runtime only).")
    namespace: str | None = Field(default=None, description="Namespace of the release (Kubernetes runtime only).")

    # The fields below carry the original system's result names, computed from the fields above.
    @computed_field
    @property
    def deployment_url(self) -> str | None:
        """Root URL of the model server, the same as base_url."""
        return self.base_url

    @computed_field
    @property
    def supported_endpoints(self) -> list[str]:
        """Paths of the endpoints the server serves, as a list; `endpoints` is the detailed map."""
        return [path for path, supported in self.endpoints.items() if supported]

    @computed_field
    @property
    def benchmark_status(self) -> bool:
        """True when the benchmark ran and at least one request succeeded."""
        return bool(self.summary.get("completed"))

    @computed_field
    @property
    def performance_status(self) -> bool:
        """True when the verdict passed, that is, every target that is set was met."""
        return bool(self.verdict and self.verdict["passed"])


def artifact_slug(name: str) -> str:
    """Turn a served model name into the lowercase, dash-only form Prefect artifact keys require."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "model"
