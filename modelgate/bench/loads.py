"""Load descriptions of a benchmark run: the load shape plus the inputs of embedding or LLM requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from modelgate.bench.scheduler import LoadShape
from modelgate.errors import InvalidInputError

# Per-request metrics an SLO may name, in ms; a request meets the SLO when each is at most its value.
SLO_METRICS = ("ttft", "ttfct", "tpot", "e2el")


@dataclass(frozen=True)
class BenchLoad:
    """Load settings shared by every model type; see LoadShape for the shape fields.

    Attributes:
        warmup_requests: requests sent before the measured run and not counted.
        timeout_s: time limit of one request, from its start to the last byte of its response.
        input_tokens: target length of each synthetic input in tokens.
        dataset: JSONL or CSV file of inputs, used in place of synthetic text.
        dataset_column: the dataset's text column (default: the first of text, prompt, input).
        slo_ms: per-request thresholds in ms by metric (ttft, ttfct, tpot, e2el) for SLO attainment.
    """

    concurrency: int | None = 8
    num_requests: int = 200
    max_duration_s: float = 600.0
    request_rate: float | None = None
    arrival: Literal["poisson", "constant"] = "poisson"
    warmup_requests: int = 4
    timeout_s: float = 60.0
    input_tokens: int = 32
    dataset: str | None = None
    dataset_column: str | None = None
    slo_ms: dict[str, float] = field(default_factory=dict)
    seed: int = 0

    def shape(self) -> LoadShape:
        """Return the scheduler's part of the load."""
        return LoadShape(self.concurrency, self.num_requests, self.max_duration_s, self.request_rate, self.arrival, self.seed)

    def check(self) -> None:
        """Raise InvalidInputError naming the first value out of range."""
        self.shape().check()
        if self.input_tokens < 1:
            raise InvalidInputError(f"input_tokens={self.input_tokens} is invalid; it must be at least 1")
        if self.warmup_requests < 0:
            raise InvalidInputError(f"warmup_requests={self.warmup_requests} is invalid; it must be 0 or more")
        if not self.timeout_s > 0:
            raise InvalidInputError(f"timeout_s={self.timeout_s} is invalid; it must be above 0")
        for metric, value in self.slo_ms.items():
            if metric not in SLO_METRICS:
                raise InvalidInputError(f"SLO metric {metric!r} is unknown; use one of {', '.join(SLO_METRICS)}")
            if not value > 0:
                raise InvalidInputError(f"SLO {metric}={value} is invalid; it must be above 0 ms")


@dataclass(frozen=True)
class EmbeddingLoad(BenchLoad):
    """An embeddings load; `batch_size` inputs go in each request."""

    batch_size: int = 1

    def check(self) -> None:
        """Raise InvalidInputError naming the first value out of range."""
        super().check()
        if self.batch_size < 1:
            raise InvalidInputError(f"batch_size={self.batch_size} is invalid; it must be at least 1")


@dataclass(frozen=True)
class LlmLoad(BenchLoad):
    """A streaming LLM load.

    Attributes:
        api: `chat` (/v1/chat/completions) or `completions` (/v1/completions).
        output_tokens: max_tokens of each request.
        ignore_eos: ask the server to generate all output_tokens (a vLLM extension). When the first
            warm-up request is rejected with 400 or 422, the run drops the vLLM extensions and reports `server_extensions: false`.
    """

    api: Literal["chat", "completions"] = "chat"
    output_tokens: int = 128
    ignore_eos: bool = True

    def check(self) -> None:
        """Raise InvalidInputError naming the first value out of range."""
        super().check()
        if self.api not in ("chat", "completions"):
            raise InvalidInputError(f"api={self.api!r} is invalid; use chat or completions")
        if self.output_tokens < 1:
            raise InvalidInputError(f"output_tokens={self.output_tokens} is invalid; it must be at least 1")
