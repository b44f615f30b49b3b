"""The `modelgate-cluster` block: which Kubernetes cluster and namespace a release goes to, and how it is reached."""

from __future__ import annotations

from typing import Any

from prefect.blocks.core import Block
from prefect_kubernetes.credentials import KubernetesClusterConfig
from pydantic import Field, SecretStr, field_validator

from modelgate.helm import BUNDLED_CHART, validate_namespace
from modelgate.kube.client import KubeConnection


class ModelgateCluster(Block):
    """A Kubernetes cluster that model servers are released to.

    Example:
        ```python
        from prefect_kubernetes.credentials import KubernetesClusterConfig
        from blocks.cluster import ModelgateCluster

        ModelgateCluster(
            cluster_config=KubernetesClusterConfig.from_file("~/.kube/config", context_name="gpu-prod"),
            namespace="models",
            chart_values={"nodeSelector": {"nvidia.com/gpu.product": "NVIDIA-L4"}},
        ).save("gpu-prod")
        ```
    """

    _block_type_name = "Modelgate Cluster"
    _block_type_slug = "modelgate-cluster"
    _description = "Kubernetes cluster, namespace and chart defaults for modelgate's vLLM releases."

    cluster_config: KubernetesClusterConfig | None = Field(
        default=None,
        description=(
            "Kubeconfig and context of the cluster. Empty: the pod's service account when the flow "
            "runs in the cluster, else KUBECONFIG or ~/.kube/config."
        ),
    )
    namespace: str = Field(default="modelgate", description="Namespace releases go to unless a run names another.")
    chart: str = Field(
        default="",
        description="Chart to install: a folder, a .tgz or an oci:// reference. Empty: the bundled modelgate-vllm chart.",
    )
    chart_values: dict[str, Any] = Field(
        default_factory=dict,
        description="Chart values for every release on this cluster (node selector, tolerations, image mirror); a run's values override them.",
    )
    endpoint_base_url: str = Field(
        default="",
        description=(
            "Base URL of an ingress or gateway that routes to the release, with {release} and {namespace} "
            "placeholders, such as https://{release}.models.example.com. Empty: the Service's in-cluster DNS name."
        ),
    )
    cluster_domain: str = Field(default="cluster.local", description="DNS domain of the cluster's Services.")
    gpu_resource: str = Field(
        default="nvidia.com/gpu", description="Extended resource name of the GPUs; sets the chart's gpu.resourceName."
    )
    hf_token: SecretStr | None = Field(
        default=None,
        description="Hugging Face token for gated models. Sent to helm in a private values file, never on the command line.",
    )

    @field_validator("namespace")
    @classmethod
    def _check_namespace(cls, value: str) -> str:
        return validate_namespace(value)

    def connection(self) -> KubeConnection:
        """Return the engine's description of how to reach the API server."""
        if self.cluster_config is None:
            return KubeConnection()
        return KubeConnection(kubeconfig=self.cluster_config.config, context=self.cluster_config.context_name)

    def chart_ref(self) -> str:
        """Return the chart to install."""
        return self.chart or str(BUNDLED_CHART)

    def secrets(self) -> list[str]:
        """Return the secret values that must never reach logs or artifacts."""
        return [self.hf_token.get_secret_value()] if self.hf_token else []
