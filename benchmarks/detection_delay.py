"""Measure how long deploy-model takes to fail after a pod failure appears in the Kubernetes API.

For each failure sequence (CrashLoopBackOff, ErrImagePull, ImagePullBackOff, Unschedulable,
OOMKilled, FailedMount) the script runs the real `deploy-model` flow on the kubernetes runtime against
the fake Kubernetes API and the fake helm, inside a temporary Prefect server, and measures:

- watcher delay: from the moment the fake API stores the failing pod or event to the moment the
  readiness watcher raises (read from the flow run's task states);
- flow delay: from the same moment to the flow run's Failed state, which includes saving the
  pods, events and logs as artifacts and uninstalling the release.

The target is at most 15 s for the flow delay. Watcher settings are the defaults (poll interval 2 s,
watch window 60 s). The condition appears 3 to 6 s after install, when the watches are open.

Usage:
    .venv/bin/python benchmarks/detection_delay.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import uuid
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

TARGET_S = 15.0
CONDITION_AFTER_S = 3.0
RUN_LIMIT_S = 120.0


def run_once(reason: str, work: Path) -> tuple[float, float]:
    """Run one failing deploy-model and return (watcher delay, flow delay) in seconds."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect_kubernetes.credentials import KubernetesClusterConfig

    from blocks.cluster import ModelgateCluster
    from flows.deploy_model import deploy_model
    from flows.kube_release import KubernetesTarget
    from flows.params import BenchmarkLoad
    from tests.doubles.fake_kube_api import RunningFakeApi
    from tests.doubles.kube_scenarios import FAILURE_SCENARIOS

    with RunningFakeApi() as api:
        api.cluster.scenario = FAILURE_SCENARIOS[reason](CONDITION_AFTER_S)
        os.environ["FAKE_HELM_NOTIFY_URL"] = f"{api.base_url}/fake/helm"
        block = f"bench-{uuid.uuid4().hex[:8]}"
        ModelgateCluster(
            cluster_config=KubernetesClusterConfig(config=api.kubeconfig(), context_name="fake"), namespace="llm",
            endpoint_base_url="http://127.0.0.1:9",
        ).save(block)

        started = time.monotonic()
        state = deploy_model(
            model="test-model", runtime="kubernetes", load=BenchmarkLoad(num_requests=1),
            kubernetes=KubernetesTarget(cluster_block=block, release=f"bench-{reason.lower()}"), return_state=True,
        )
        if time.monotonic() - started > RUN_LIMIT_S or not state.is_failed() or reason not in (state.message or ""):
            raise SystemExit(f"{reason}: the run did not fail with its reason: {state.name}: {state.message}")

        condition_at = api.cluster.scenario.condition_at
        flow_runs = FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
        with get_client(sync_client=True) as client:
            task_runs = client.read_task_runs(flow_run_filter=flow_runs)
        watcher = [run for run in task_runs if run.name.startswith("wait-for-pods-")]
        watcher_failed_at = watcher[0].state.timestamp.timestamp()
        return watcher_failed_at - condition_at, state.timestamp.timestamp() - condition_at


def main() -> int:
    """Run every failure sequence `--repeats` times and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per failure sequence (1 to 10, default 3)")
    args = parser.parse_args()
    repeats = max(1, min(args.repeats, 10))

    from prefect.testing.utilities import prefect_test_harness

    from tests.doubles.kube_scenarios import FAILURE_SCENARIOS

    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"modelgate-bench-{uuid.uuid4().hex[:6]}"
    work.mkdir(parents=True)
    os.environ.update({
        "MODELGATE_HELM_PATH": str(REPO / "tests" / "doubles" / "fake_helm"),
        "MODELGATE_WORK_DIR": str(work),
        "FAKE_HELM_RECORD": str(work / "helm-calls.jsonl"),
        "MODELGATE_KUBE_READY_TIMEOUT_S": "60",
    })

    rows = []
    with prefect_test_harness(server_startup_timeout=120):
        for reason in sorted(FAILURE_SCENARIOS):
            measured = [run_once(reason, work) for _ in range(repeats)]
            watcher = [pair[0] for pair in measured]
            flow = [pair[1] for pair in measured]
            rows.append((reason, statistics.median(watcher), max(watcher), statistics.median(flow), max(flow)))

    print(f"Detection delay, {repeats} runs each; machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; date {date.today().isoformat()}")
    print("\n| failure | watcher median s | watcher max s | flow median s | flow max s | within 15 s |")
    print("|---|---|---|---|---|---|")
    for reason, watcher_median, watcher_max, flow_median, flow_max in rows:
        verdict = "yes" if flow_max <= TARGET_S else "NO"
        print(f"| {reason} | {watcher_median:.2f} | {watcher_max:.2f} | {flow_median:.2f} | {flow_max:.2f} | {verdict} |")
    return 0 if all(row[4] <= TARGET_S for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
