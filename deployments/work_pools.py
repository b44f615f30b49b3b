"""Create or update modelgate's work pools on the Prefect server at PREFECT_API_URL.

Two pools, matching prefect.yaml:
- a process pool for deploy-model; its flow runs start in this checkout (`working_dir`), where
  the pull step `set_working_directory: .` finds the flows;
- a Kubernetes pool for run-benchmark jobs, from benchmark-job-template.json (GPU count,
  node selector, tolerations, affinity, image, namespace, service account).

Run from anywhere, as often as needed; an existing pool gets the new template:

    python deployments/work_pools.py
    python deployments/work_pools.py --result-storage-block s3-bucket/modelgate-results
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import sys
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
KUBERNETES_TEMPLATE = Path(__file__).resolve().parent / "benchmark-job-template.json"
RESULT_STORAGE_BLOCK_ENV = "PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK"


def process_template(project_dir: Path) -> dict[str, Any]:
    """Return Prefect's process pool template with `working_dir` defaulting to `project_dir`."""
    from prefect.workers.process import ProcessWorker

    template = copy.deepcopy(ProcessWorker.get_default_base_job_template())
    working_dir = template["variables"]["properties"]["working_dir"]
    working_dir["default"] = str(project_dir)
    working_dir["description"] = "Folder the flow-run process starts in: the modelgate checkout that holds flows/."
    return template


def kubernetes_template(result_storage_block: str | None) -> dict[str, Any]:
    """Return the benchmark job template; with a storage block, jobs write their results there.

    Args:
        result_storage_block: block slug such as `s3-bucket/modelgate-results`, set as the
            default of PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK in every job's environment.
    """
    template = json.loads(KUBERNETES_TEMPLATE.read_text())
    if result_storage_block:
        if "/" not in result_storage_block:
            raise ValueError(f"result storage block {result_storage_block!r} must be written as block-type/name, such as s3-bucket/modelgate-results")
        env = template["variables"]["properties"]["env"]
        env["default"] = {**(env.get("default") or {}), RESULT_STORAGE_BLOCK_ENV: result_storage_block}
    return template


async def apply_pool(name: str, pool_type: str, template: dict[str, Any]) -> str:
    """Create the pool, or replace the base job template of the existing one; return what happened."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from prefect.exceptions import ObjectAlreadyExists

    async with get_client() as client:
        try:
            await client.create_work_pool(WorkPoolCreate(name=name, type=pool_type, base_job_template=template))
            return "created"
        except ObjectAlreadyExists:
            existing = await client.read_work_pool(name)
            if existing.type != pool_type:
                raise ValueError(f"work pool {name!r} exists with type {existing.type}, not {pool_type}; pick another name") from None
            await client.update_work_pool(name, WorkPoolUpdate(base_job_template=template))
            return "updated"


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser; the pool names default to those in prefect.yaml."""
    parser = argparse.ArgumentParser(description="Create or update modelgate's work pools.")
    parser.add_argument("--process-pool", default="modelgate-process", help="name of the process pool for deploy-model")
    parser.add_argument("--kubernetes-pool", default="modelgate-gpu", help="name of the Kubernetes pool for run-benchmark")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help="checkout the process pool runs flows from (default: this one)")
    parser.add_argument("--result-storage-block", help="storage block slug for run-benchmark results on Kubernetes, such as s3-bucket/modelgate-results")
    parser.add_argument("--only", choices=("process", "kubernetes"), help="apply one pool only")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Apply the pools the options select; exit 2 with a message when the server rejects one."""
    args = build_parser().parse_args(argv)

    if not (args.project_dir / "flows").is_dir():
        print(f"work_pools: {args.project_dir} has no flows/ folder; pass the modelgate checkout as --project-dir", file=sys.stderr)
        return 2

    pools = []
    if args.only in (None, "process"):
        pools.append((args.process_pool, "process", process_template(args.project_dir.resolve())))
    if args.only in (None, "kubernetes"):
        try:
            pools.append((args.kubernetes_pool, "kubernetes", kubernetes_template(args.result_storage_block)))
        except ValueError as error:
            print(f"work_pools: {error}", file=sys.stderr)
            return 2

    for name, pool_type, template in pools:
        try:
            outcome = asyncio.run(apply_pool(name, pool_type, template))
        except Exception as error:  # the server's validation and connection errors, reported per pool
            print(f"work_pools: {pool_type} pool {name!r} was not applied: {error}", file=sys.stderr)
            return 2
        print(f"{outcome} {pool_type} work pool {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
