"""The deployment request of the system modelgate replaces, accepted as deploy-model's `request` parameter.

Teams that called the original with a JSON body such as
`{"cluster_id": ..., "endpoint_name": "bge-embeddings", "model": "BAAI/bge-base-en-v1.5",
"concurrency": 100, "target_e2e_latency": 50}` can pass the same object as `request`, from the UI,
`prefect deployment run -p request=...`, the REST API or a `model.registered` event. The fields keep
the original's meaning and units: latencies in milliseconds, throughput per user in output tokens per
second. Where modelgate's own name differs, both spellings are accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flows.kube_release import KubernetesTarget
from flows.params import BenchmarkLoad
from modelgate.errors import InvalidInputError
from modelgate.verify import LatencyTargets

# (original field, modelgate field) pairs that name the same value.
SPELLINGS = (
    ("endpoint_name", "served_model_name"),
    ("target_ttft", "target_ttft_ms"),
    ("target_e2e_latency", "target_e2e_latency_ms"),
)
# Request fields that set a field of the `load` or `targets` parameter, by that field's name.
LOAD_FIELDS = ("concurrency", "input_tokens", "output_tokens")
TARGET_FIELDS = {
    "target_ttft": "target_ttft_ms",
    "target_ttft_ms": "target_ttft_ms",
    "target_e2e_latency": "target_e2e_latency_ms",
    "target_e2e_latency_ms": "target_e2e_latency_ms",
    "target_throughput_per_user": "target_throughput_per_user",
}


class DeployRequest(BaseModel):
    """The original's deployment request fields; a field left out keeps the deploy-model parameter's value."""

    model_config = ConfigDict(extra="forbid")

    cluster_id: str | None = Field(default=None, min_length=1, description="Name of the cluster block to deploy to.")
    endpoint_name: str | None = Field(default=None, min_length=1, description="Release and served model name.")
    served_model_name: str | None = Field(default=None, min_length=1, description="modelgate's name for endpoint_name.")
    model: str | None = Field(default=None, min_length=1, description="Model folder, packaged model name or hub id.")
    concurrency: int | None = Field(default=None, ge=1, description="Benchmark requests in flight at once.")
    input_tokens: int | None = Field(default=None, ge=1, description="Approximate tokens per benchmark input.")
    output_tokens: int | None = Field(default=None, ge=1, description="Tokens each LLM benchmark request generates.")
    target_ttft: float | None = Field(default=None, gt=0, description="Mean time to first token target in ms.")
    target_ttft_ms: float | None = Field(default=None, gt=0, description="modelgate's name for target_ttft.")
    target_e2e_latency: float | None = Field(default=None, gt=0, description="Mean end-to-end latency target in ms.")
    target_e2e_latency_ms: float | None = Field(default=None, gt=0, description="modelgate's name for target_e2e_latency.")
    target_throughput_per_user: float | None = Field(
        default=None, gt=0, description="Minimum output tokens per second of one request (LLMs)."
    )
    error_threshold: float | None = Field(
        default=None, ge=0, le=10, description="Allowed relative excess over each target, 0.5 for 50 %."
    )

    @model_validator(mode="after")
    def _one_value_per_field(self) -> DeployRequest:
        for original, own in SPELLINGS:
            first, second = getattr(self, original), getattr(self, own)
            if first is not None and second is not None and first != second:
                raise ValueError(f"{original}={first!r} and {own}={second!r} name the same field with different values; set one of them")
        return self


@dataclass(frozen=True)
class ResolvedParameters:
    """The deploy-model parameters after a request was applied to them."""

    model: str
    served_model_name: str | None
    runtime: str
    load: BenchmarkLoad
    targets: LatencyTargets | str
    error_threshold: float | None
    kubernetes: KubernetesTarget


def apply_request(
    request: DeployRequest | None,
    model: str,
    served_model_name: str | None,
    runtime: str,
    load: BenchmarkLoad,
    targets: LatencyTargets | str,
    error_threshold: float | None,
    kubernetes: KubernetesTarget,
) -> ResolvedParameters:
    """Return the parameters with every field the request sets taking precedence over them.

    `cluster_id` selects the Kubernetes runtime and its cluster block, as in the original, where every
    deployment went to a cluster. There `endpoint_name` also names the Helm release, unless
    `kubernetes.release` is set.

    Raises:
        InvalidInputError: a merged load or targets value is out of range, or the request sets targets
            while `targets` names a saved block. The message names the field.
    """
    if request is None:
        return ResolvedParameters(model, served_model_name, runtime, load, targets, error_threshold, kubernetes)

    load_updates = {name: getattr(request, name) for name in LOAD_FIELDS if getattr(request, name) is not None}
    target_updates = {own: getattr(request, name) for name, own in TARGET_FIELDS.items() if getattr(request, name) is not None}
    if isinstance(targets, str) and target_updates:
        raise InvalidInputError(
            f"the request sets {', '.join(sorted(target_updates))} while targets names the saved block {targets!r}; "
            "set the targets in one place"
        )
    try:
        merged_load = BenchmarkLoad.model_validate({**load.model_dump(), **load_updates})
        merged_targets = targets if isinstance(targets, str) else LatencyTargets.model_validate({**targets.model_dump(), **target_updates})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors())
        raise InvalidInputError(f"request does not fit deploy-model: {problems}") from None

    endpoint_name = request.endpoint_name or request.served_model_name
    if request.cluster_id is not None:
        runtime = "kubernetes"
        kubernetes = kubernetes.model_copy(update={"cluster_block": request.cluster_id})
    if runtime == "kubernetes" and endpoint_name and not kubernetes.release:
        kubernetes = kubernetes.model_copy(update={"release": endpoint_name})

    return ResolvedParameters(
        model=request.model or model,
        served_model_name=endpoint_name or served_model_name,
        runtime=runtime,
        load=merged_load,
        targets=merged_targets,
        error_threshold=error_threshold if request.error_threshold is None else request.error_threshold,
        kubernetes=kubernetes,
    )


def request_summary(request: DeployRequest) -> dict[str, Any]:
    """Return the fields the request sets, for the run log."""
    return request.model_dump(exclude_none=True)
