"""deploy-model started from `prefect deployment run` and from `modelgate register`, on a real Prefect server."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.e2e.conftest import BIN, KUBERNETES_POOL, PROJECT_DIR, PrefectStack
from tests.e2e.processes import run_command, wait_for

pytestmark = pytest.mark.e2e

# Each run starts the fake engine and sends a few requests: 5-15 s on a 2-core machine.
RUN_TIMEOUT_S = 150
TRIGGER_TIMEOUT_S = 60
LOAD = {"concurrency": 2, "num_requests": 12, "warmup_requests": 1}
TARGETS = {"target_e2e_latency_ms": 5000.0}
IDLE_POOL = "e2e-idle"


def flow_runs(stack: PrefectStack, flow_name: str) -> list[dict]:
    """Return every flow run of the flow named `flow_name`."""
    with stack.api() as api:
        response = api.post("/flow_runs/filter", json={"flows": {"name": {"any_": [flow_name]}}})
    response.raise_for_status()
    return response.json()


def wait_until_final(stack: PrefectStack, flow_run_id: str) -> dict:
    """Wait for the flow run to reach a final state and return it."""

    def final_run() -> dict | None:
        stack.worker.check_running()
        with stack.api() as api:
            run = api.get(f"/flow_runs/{flow_run_id}").json()
        return run if run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

    return wait_for(final_run, RUN_TIMEOUT_S, f"flow run {flow_run_id} reaching a final state", stack.logs)


def run_with_parameter(stack: PrefectStack, flow_name: str, name: str, value: str) -> dict | None:
    """Return the run of `flow_name` whose parameter `name` equals `value`, if there is one."""
    matches = [run for run in flow_runs(stack, flow_name) if run["parameters"].get(name) == value]
    return matches[0] if matches else None


def deployment_run(stack: PrefectStack, *params: str, job_variables: dict | None = None) -> str:
    """Run `prefect deployment run deploy-model/deploy-model -p ...` and return the new flow run id."""
    argv = [str(BIN / "prefect"), "deployment", "run", "deploy-model/deploy-model"]
    for param in params:
        argv += ["-p", param]
    for key, value in (job_variables or {}).items():
        argv += ["--job-variable", f"{key}={json.dumps(value)}"]
    output = run_command(argv, stack.env, PROJECT_DIR).stdout
    match = re.search(r"UUID: ([0-9a-f-]{36})", output)
    assert match, f"no flow run id in the output of prefect deployment run:\n{output}"
    return match.group(1)


def test_deployment_run_completes(prefect_stack: PrefectStack):
    run_id = deployment_run(
        prefect_stack,
        f"model={prefect_stack.model_dir}",
        "served_model_name=e2e-cli",
        f"load={json.dumps(LOAD)}",
        f"targets={json.dumps(TARGETS)}",
    )

    run = wait_until_final(prefect_stack, run_id)

    assert run["state"]["type"] == "COMPLETED", f"{run['state']['message']}\n{prefect_stack.logs()}"
    assert run["parameters"]["model"] == str(prefect_stack.model_dir)
    assert run["parameters"]["served_model_name"] == "e2e-cli"
    assert run["parameters"]["load"] == LOAD
    assert run["parameters"]["targets"] == TARGETS


def test_register_event_starts_run(prefect_stack: PrefectStack):
    output = run_command(
        [
            str(BIN / "modelgate"), "register", str(prefect_stack.model_dir),
            "--served-model-name", "e2e-event",
            "--concurrency", "2", "--num-requests", "12", "--load", '{"warmup_requests": 1}',
            "--target-e2e-latency-ms", "5000",
        ],
        prefect_stack.env,
        PROJECT_DIR,
    ).stdout
    assert "emitted model.registered" in output

    created = wait_for(
        lambda: run_with_parameter(prefect_stack, "deploy-model", "served_model_name", "e2e-event"),
        TRIGGER_TIMEOUT_S,
        "a deploy-model run created by the model.registered trigger",
        prefect_stack.logs,
    )
    run = wait_until_final(prefect_stack, created["id"])

    assert run["state"]["type"] == "COMPLETED", f"{run['state']['message']}\n{prefect_stack.logs()}"
    assert run["parameters"]["model"] == str(prefect_stack.model_dir)
    assert run["parameters"]["runtime"] == "local"
    assert run["parameters"]["load"] == {"warmup_requests": 1, "concurrency": 2, "num_requests": 12}
    assert run["parameters"]["targets"] == TARGETS


def test_submitted_benchmark_result_read(prefect_stack: PrefectStack):
    run_id = deployment_run(
        prefect_stack,
        f"model={prefect_stack.model_dir}",
        "served_model_name=e2e-remote",
        "benchmark_deployment=run-benchmark/run-benchmark-local",
        f"load={json.dumps(LOAD)}",
        f"targets={json.dumps(TARGETS)}",
    )

    run = wait_until_final(prefect_stack, run_id)
    benchmark = run_with_parameter(prefect_stack, "run-benchmark", "served_model_name", "e2e-remote")

    assert run["state"]["type"] == "COMPLETED", f"{run['state']['message']}\n{prefect_stack.logs()}"
    # The verdict needs mean_e2el_ms, which only the benchmark run's persisted result carries.
    assert "passes every performance check that is set" in run["state"]["message"]
    assert benchmark is not None, "no run-benchmark run with served_model_name e2e-remote"
    assert benchmark["state"]["type"] == "COMPLETED"
    # deploy-model passes the whole validated load, defaults included.
    assert {key: benchmark["parameters"]["load"][key] for key in LOAD} == LOAD
    assert benchmark["parent_task_run_id"] is not None


def test_gpu_pool_template_stored(prefect_stack: PrefectStack):
    with prefect_stack.api() as api:
        pool = api.get(f"/work_pools/{KUBERNETES_POOL}").json()
    variables = pool["base_job_template"]["variables"]["properties"]
    container = pool["base_job_template"]["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]["containers"][0]

    assert pool["type"] == "kubernetes"
    assert variables["gpu_count"]["default"] == 0
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "{{ gpu_count }}"


def test_pool_script_sets_result_storage(prefect_stack: PrefectStack):
    argv = [sys.executable, "deployments/work_pools.py", "--only", "kubernetes", "--kubernetes-pool", KUBERNETES_POOL]
    output = run_command(argv + ["--result-storage-block", "s3-bucket/e2e-results"], prefect_stack.env, PROJECT_DIR).stdout
    with prefect_stack.api() as api:
        pool = api.get(f"/work_pools/{KUBERNETES_POOL}").json()
    env_default = pool["base_job_template"]["variables"]["properties"]["env"].get("default")

    assert output.startswith("updated kubernetes work pool")
    assert env_default == {"PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK": "s3-bucket/e2e-results"}


def apply_benchmark_deployment(stack: PrefectStack, name: str, pool: str) -> None:
    """Create the run-benchmark deployment `name` on `pool`, beside the one from prefect.yaml."""
    script = f"from flows.run_benchmark import run_benchmark_flow\nrun_benchmark_flow.to_deployment(name={name!r}, work_pool_name={pool!r}).apply()\n"
    run_command([sys.executable, "-c", script], stack.env, PROJECT_DIR)


def test_benchmark_wait_bounded(prefect_stack: PrefectStack):
    # No worker polls this pool, so the submitted benchmark never starts.
    run_command([sys.executable, "deployments/work_pools.py", "--only", "process", "--process-pool", IDLE_POOL], prefect_stack.env, PROJECT_DIR)
    apply_benchmark_deployment(prefect_stack, "idle", IDLE_POOL)
    run_id = deployment_run(
        prefect_stack,
        f"model={prefect_stack.model_dir}",
        "served_model_name=e2e-idle",
        "benchmark_deployment=run-benchmark/idle",
        f"load={json.dumps(LOAD)}",
        job_variables={"env": {"MODELGATE_BENCHMARK_TIMEOUT_S": "4"}},
    )

    run = wait_until_final(prefect_stack, run_id)
    benchmark = run_with_parameter(prefect_stack, "run-benchmark", "served_model_name", "e2e-idle")

    assert run["state"]["type"] == "FAILED"
    assert "did not finish within 4 s" in run["state"]["message"]
    assert benchmark["state"]["type"] == "CANCELLED"


def test_kubernetes_benchmark_checked_first(prefect_stack: PrefectStack):
    # A run-benchmark deployment on the Kubernetes pool, whose jobs can reach neither
    # a loopback model server nor local result files.
    script = (
        "import sys\n"
        "from flows.run_benchmark import check_benchmark_deployment\n"
        "from modelgate.errors import InvalidInputError\n"
        "for url in sys.argv[1:]:\n"
        "    try:\n"
        "        check_benchmark_deployment('run-benchmark/k8s-check', url)\n"
        "        print('accepted')\n"
        "    except InvalidInputError as error:\n"
        "        print('rejected:', error)\n"
    )
    env = prefect_stack.env
    run_command([sys.executable, "deployments/work_pools.py", "--only", "kubernetes", "--kubernetes-pool", KUBERNETES_POOL], env, PROJECT_DIR)
    apply_benchmark_deployment(prefect_stack, "k8s-check", KUBERNETES_POOL)
    output = run_command([sys.executable, "-c", script, "http://127.0.0.1:8000", "http://vllm.llm.svc:8000"], env, PROJECT_DIR).stdout
    loopback, no_storage = output.strip().splitlines()[-2:]

    assert loopback.startswith("rejected:")
    assert "cannot reach" in loopback
    assert no_storage.startswith("rejected:")
    assert "PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK" in no_storage


def emit_with_prefect_cli(stack: PrefectStack, model: str, payload: dict) -> None:
    """Emit model.registered with Prefect's own CLI, which does not check the contract."""
    resource = {"prefect.resource.id": f"model.{model}", "prefect.resource.name": model}
    argv = [str(BIN / "prefect"), "event", "emit", "model.registered", "--resource", json.dumps(resource), "--payload", json.dumps(payload)]
    run_command(argv, stack.env, PROJECT_DIR)


def failed_actions(stack: PrefectStack, count: int) -> list[dict] | None:
    """Return the automation action failures once there are `count` of them."""
    with stack.api() as api:
        response = api.post("/events/filter", json={"filter": {"event": {"name": ["prefect.automation.action.failed"]}}, "limit": 50})
    events = response.json()["events"] if response.is_success else []
    return events if len(events) >= count else None


def test_unfit_payloads_reported(prefect_stack: PrefectStack):
    emit_with_prefect_cli(prefect_stack, "unfit-missing", {"served_model_name": "e2e-missing", "runtime": "local", "targets": {}})
    emit_with_prefect_cli(
        prefect_stack, "unfit-type", {"served_model_name": "e2e-type", "runtime": "local", "targets": {}, "load": {"concurrency": "2"}, "request": None}
    )

    events = wait_for(lambda: failed_actions(prefect_stack, 2), TRIGGER_TIMEOUT_S, "two prefect.automation.action.failed events", prefect_stack.logs)
    reasons = sorted(event["payload"]["reason"] for event in events)

    assert {event["resource"]["prefect.resource.name"] for event in events} == {"deploy-model-on-model-registered"}
    # Prefect 3.9.1 reports a missing payload key only as this bare rendering error.
    assert reasons[0] == "Unable to create flow run from deployment: InvalidJinja()"
    assert "'load.concurrency'. Failure reason: '2' is not of type 'integer'" in reasons[1]
    assert run_with_parameter(prefect_stack, "deploy-model", "served_model_name", "e2e-missing") is None
    assert run_with_parameter(prefect_stack, "deploy-model", "served_model_name", "e2e-type") is None


def test_request_parameter_round_trip(prefect_stack: PrefectStack):
    request = {"endpoint_name": "e2e-original", "model": str(prefect_stack.model_dir), "concurrency": 2, "target_e2e_latency": 5000}
    run_id = deployment_run(prefect_stack, f"request={json.dumps(request)}", f"load={json.dumps(LOAD)}")

    run = wait_until_final(prefect_stack, run_id)

    assert run["state"]["type"] == "COMPLETED", f"{run['state']['message']}\n{prefect_stack.logs()}"
    assert run["parameters"]["request"] == request


def test_request_event_round_trip(prefect_stack: PrefectStack):
    request = {"endpoint_name": "e2e-original-event", "concurrency": 2, "target_e2e_latency": 5000}
    argv = [str(BIN / "modelgate"), "register", str(prefect_stack.model_dir), "--request", json.dumps(request), "--load", json.dumps(LOAD)]
    run_command(argv, prefect_stack.env, PROJECT_DIR)

    def created() -> dict | None:
        runs = [run for run in flow_runs(prefect_stack, "deploy-model") if (run["parameters"].get("request") or {}).get("endpoint_name") == "e2e-original-event"]
        return runs[0] if runs else None

    run = wait_until_final(prefect_stack, wait_for(created, TRIGGER_TIMEOUT_S, "a deploy-model run with the event's request", prefect_stack.logs)["id"])

    assert run["state"]["type"] == "COMPLETED", f"{run['state']['message']}\n{prefect_stack.logs()}"
    assert run["parameters"]["request"] == request


def test_unknown_request_field_rejected(prefect_stack: PrefectStack):
    argv = [str(BIN / "prefect"), "deployment", "run", "deploy-model/deploy-model", "-p", 'request={"endpoint_name": "x", "hf_token": "t"}']
    completed = subprocess.run(argv, env=prefect_stack.env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=90, check=False)
    output = completed.stdout + completed.stderr

    assert completed.returncode != 0
    assert "'hf_token' was unexpected" in output


READ_RESULT = """
import sys
from prefect.client.orchestration import get_client
with get_client(sync_client=True) as client:
    print(client.read_flow_run(sys.argv[1]).state.result(raise_on_failure=False).model_dump_json())
"""


def test_rest_api_run_result(prefect_stack: PrefectStack):
    # The REST calls the README shows: look up the deployment, then create a run with the request.
    request = {"endpoint_name": "e2e-rest", "model": str(prefect_stack.model_dir), "concurrency": 2, "target_e2e_latency": 5000}
    with prefect_stack.api() as api:
        deployment = api.get("/deployments/name/deploy-model/deploy-model").json()
        created = api.post(f"/deployments/{deployment['id']}/create_flow_run", json={"parameters": {"request": request, "load": LOAD}}).json()

    run = wait_until_final(prefect_stack, created["id"])
    output = run_command([sys.executable, "-c", READ_RESULT, created["id"]], prefect_stack.env, PROJECT_DIR).stdout
    result = json.loads(output.strip().splitlines()[-1])

    assert run["state"]["type"] == "COMPLETED", f"{run['state']['message']}\n{prefect_stack.logs()}"
    assert result["served_model_name"] == "e2e-rest"
    assert "/v1/embeddings" in result["supported_endpoints"]
    assert result["model_type"] == "embedding"
    assert result["deployment_url"].startswith("http://127.0.0.1:")
    assert result["benchmark_status"] is True
    assert result["performance_status"] is True
