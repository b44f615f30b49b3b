"""Static checks of prefect.yaml: Prefect drops unknown keys without a word, so a typo only shows here.

The known keys come from Prefect's own models of the file (prefect/cli/deploy/_models.py and
the deployment trigger models), so the checks follow the installed Prefect version.
"""

from __future__ import annotations

import copy
import fnmatch
import importlib
import importlib.util
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import yaml
from prefect.cli.deploy._models import DeploymentConfig, PrefectYamlModel, WorkPoolConfig
from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger
from prefect.flows import load_flow_from_entrypoint
from prefect.utilities.callables import parameter_schema
from prefect.utilities.schema_tools import validate
from prefect.utilities.schema_tools.hydration import HydrationError

from modelgate.events import MODEL_REGISTERED, PAYLOAD_KEYS, model_registered

PROJECT_DIR = Path(__file__).resolve().parent.parent
PREFECT_YAML = PROJECT_DIR / "prefect.yaml"
K8S_TEMPLATE = PROJECT_DIR / "deployments" / "benchmark-job-template.json"

# `definitions` contains YAML anchors. Prefect's docs recommend it, and the parser ignores it.
EXTRA_TOP_LEVEL_KEYS = {"definitions"}
# Deployment name -> flow name.
FLOWS = {"deploy-model": "deploy-model", "run-benchmark": "run-benchmark", "run-benchmark-local": "run-benchmark"}


def load_config() -> dict[str, Any]:
    """Return prefect.yaml parsed, anchors resolved."""
    return yaml.safe_load(PREFECT_YAML.read_text())


def field_names(model: type) -> set[str]:
    """Return the keys a pydantic model reads: field names and their aliases."""
    return {info.alias or name for name, info in model.model_fields.items()} | set(model.model_fields)


def unknown_keys(config: dict[str, Any]) -> list[str]:
    """Return the path of every key in `config` that Prefect would ignore."""
    problems = [key for key in config if key not in field_names(PrefectYamlModel) | EXTRA_TOP_LEVEL_KEYS]
    trigger_keys = field_names(DeploymentEventTrigger) | {"type"}
    for index, deployment in enumerate(config.get("deployments") or []):
        where = f"deployments[{index}]"
        problems += [f"{where}.{key}" for key in deployment if key not in field_names(DeploymentConfig)]
        problems += [f"{where}.work_pool.{key}" for key in deployment.get("work_pool") or {} if key not in field_names(WorkPoolConfig)]
        for number, trigger in enumerate(deployment.get("triggers") or []):
            problems += [f"{where}.triggers[{number}].{key}" for key in trigger if key not in trigger_keys]
    return problems


def deployment(name: str) -> dict[str, Any]:
    """Return the deployment entry named `name`."""
    matches = [entry for entry in load_config()["deployments"] if entry["name"] == name]
    assert len(matches) == 1, f"prefect.yaml has {len(matches)} deployments named {name}"
    return matches[0]


def render_trigger_parameters(parameters: dict[str, Any], resource: dict[str, str], payload: dict[str, Any]) -> dict[str, Any]:
    """Render trigger parameters for one event the way the server's RunDeployment action does."""
    from prefect.server.events.actions import RunDeployment
    from prefect.server.events.schemas.events import ReceivedEvent
    from prefect.utilities.schema_tools.hydration import HydrationContext, hydrate

    parameters = copy.deepcopy(parameters)
    RunDeployment._upgrade_v1_templates(parameters)
    event = ReceivedEvent(event=MODEL_REGISTERED, resource=resource, payload=payload, occurred=datetime.now(timezone.utc), id=uuid4())
    return hydrate(parameters, HydrationContext(raise_on_error=True, render_jinja=True, jinja_context={"event": event}))


def test_yaml_has_no_unknown_keys():
    assert unknown_keys(load_config()) == []


def test_key_check_catches_typo():
    config = load_config()
    config["deployments"][0]["trigger"] = config["deployments"][0].pop("triggers")

    assert unknown_keys(config) == ["deployments[0].trigger"]


def test_both_deployments_declared():
    names = sorted(entry["name"] for entry in load_config()["deployments"])

    assert names == sorted(FLOWS)


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_entrypoint_loads_flow(name):
    flow = load_flow_from_entrypoint(str(PROJECT_DIR / deployment(name)["entrypoint"]))

    assert flow.name == FLOWS[name]


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_parameters_fit_flow(name):
    entry = deployment(name)
    flow = load_flow_from_entrypoint(str(PROJECT_DIR / entry["entrypoint"]))
    parameters = entry.get("parameters") or {}

    # Required parameters without a default come with each run, so only the given ones are checked.
    errors = validate(parameters, parameter_schema(flow).model_dump_for_openapi(), ignore_required=True)

    assert [error.message for error in errors] == []


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_every_parameter_described(name):
    # The UI shows these descriptions; Prefect takes them from the docstring's Args section.
    flow = load_flow_from_entrypoint(str(PROJECT_DIR / deployment(name)["entrypoint"]))
    properties = parameter_schema(flow).model_dump_for_openapi()["properties"]

    assert [parameter for parameter, schema in properties.items() if not schema.get("description")] == []


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_parameter_schema_enforced(name):
    assert deployment(name)["enforce_parameter_schema"] is True


def test_pull_steps_importable():
    for step in load_config()["pull"]:
        (qualified_name,) = step
        module_name, function_name = qualified_name.rsplit(".", 1)

        assert callable(getattr(importlib.import_module(module_name), function_name))


def test_trigger_is_event_trigger():
    (trigger,) = deployment("deploy-model")["triggers"]
    parsed = DeploymentEventTrigger.model_validate(trigger)

    assert parsed.expect == {MODEL_REGISTERED}
    assert parsed.enabled is True


def test_trigger_matches_register_resource():
    (trigger,) = deployment("deploy-model")["triggers"]
    resource_id = model_registered("BAAI/bge-base-en-v1.5").resource()["prefect.resource.id"]

    assert fnmatch.fnmatchcase(resource_id, trigger["match"]["prefect.resource.id"])


def test_trigger_reads_every_payload_key():
    (trigger,) = deployment("deploy-model")["triggers"]
    templates = " ".join(trigger["parameters"].values())

    assert [key for key in PAYLOAD_KEYS if f"event.payload.{key}" not in templates] == []


def test_trigger_renders_event_parameters():
    (trigger,) = deployment("deploy-model")["triggers"]
    event = model_registered(
        "/models/bge", served_model_name="bge", targets={"target_e2e_latency_ms": 50.0}, load={"concurrency": 100}
    )

    rendered = render_trigger_parameters(trigger["parameters"], event.resource(), event.payload())

    assert rendered == event.flow_parameters()


def test_trigger_keeps_json_types():
    (trigger,) = deployment("deploy-model")["triggers"]
    event = model_registered("m", load={"concurrency": 4}, targets={"target_e2e_latency_ms": 50.5})

    rendered = render_trigger_parameters(trigger["parameters"], event.resource(), event.payload())

    assert isinstance(rendered["load"]["concurrency"], int)
    assert isinstance(rendered["targets"]["target_e2e_latency_ms"], float)
    assert rendered["served_model_name"] is None


def test_trigger_fails_without_payload_key():
    # Why the event contract makes every payload key mandatory.
    (trigger,) = deployment("deploy-model")["triggers"]
    event = model_registered("m")
    payload = {key: value for key, value in event.payload().items() if key != "load"}

    with pytest.raises(HydrationError, match="Undefined is not JSON serializable"):
        render_trigger_parameters(trigger["parameters"], event.resource(), payload)


def test_trigger_parameters_exist():
    entry = deployment("deploy-model")
    flow = load_flow_from_entrypoint(str(PROJECT_DIR / entry["entrypoint"]))
    known = set(parameter_schema(flow).model_dump_for_openapi()["properties"])

    assert set(entry["triggers"][0]["parameters"]) - known == set()


def test_gpu_job_variables_declared():
    variables = json.loads(K8S_TEMPLATE.read_text())["variables"]["properties"]
    job_variables = deployment("run-benchmark")["work_pool"]["job_variables"]

    assert set(job_variables) - set(variables) == set()


def load_work_pools_script() -> Any:
    """Import deployments/work_pools.py, which is a script and not part of a package."""
    spec = importlib.util.spec_from_file_location("work_pools", PROJECT_DIR / "deployments" / "work_pools.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pool_names_match_script():
    defaults = load_work_pools_script().build_parser().parse_args([])

    assert deployment("deploy-model")["work_pool"]["name"] == defaults.process_pool
    assert deployment("run-benchmark-local")["work_pool"]["name"] == defaults.process_pool
    assert deployment("run-benchmark")["work_pool"]["name"] == defaults.kubernetes_pool
