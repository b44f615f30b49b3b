"""Tasks that start the model server, wait for its health and stop it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from modelgate.errors import HealthTimeoutError, NotReadyError
from modelgate.health import poll_health
from modelgate.models import resolve_model
from modelgate.runtime.local import LocalServer, LocalVllmRuntime
from modelgate.settings import ModelgateSettings


@task(task_run_name="start-runtime-{served_model_name}", cache_policy=NO_CACHE)
def start_runtime(model: str, served_model_name: str, engine_args: list[str], settings: ModelgateSettings) -> LocalServer:
    """Resolve the model, then start vLLM on the CPU on 127.0.0.1 and a free port."""
    logger = get_run_logger()
    runtime = LocalVllmRuntime(settings)
    resolved = resolve_model(model, runtime.engine_python)
    logger.info("starting vLLM for %s (%s) with engine args %s", served_model_name, resolved.source, engine_args)

    server = runtime.start(resolved, served_model_name, engine_args)
    logger.info("engine %s is up as pid %d at %s; log %s", served_model_name, server.pid, server.base_url, server.log_path)
    return server


def retry_while_not_ready(task, task_run, state) -> bool:
    """Retry only attempts that ended with NotReadyError; a dead engine or the deadline ends the wait."""
    try:
        state.result()
    except NotReadyError:
        return True
    except Exception:
        return False
    return False


def health_retry_delays(settings: ModelgateSettings) -> list[float]:
    """Return backoff delays (1, 2, 4, 8, 8, ... s) whose attempts together span the health deadline."""
    delays: list[float] = []
    covered = 0.0
    while covered < settings.health_timeout_s and len(delays) < 50:
        delay = float(min(8, 2 ** len(delays)))
        delays.append(delay)
        covered += delay + settings.health_attempt_window_s
    return delays


def poll_health_window(
    base_url: str,
    served_model_name: str,
    deadline: float,
    settings: ModelgateSettings,
    timeout_message: str,
    check_alive: Callable[[], None] | None = None,
) -> float:
    """Poll the health check for one attempt window, cut short by `deadline`; return the seconds it took.

    Raises:
        HealthTimeoutError: `deadline` has passed, with `timeout_message`; the caller's retries stop here.
        NotReadyError: not healthy within this window; the caller's retry policy runs another.
    """
    remaining = deadline - time.time()
    if remaining <= 0:
        raise HealthTimeoutError(timeout_message)

    window = min(settings.health_attempt_window_s, remaining)
    get_run_logger().info("waiting up to %.0f s for %s at %s (%.0f s left)", window, served_model_name, base_url, remaining)
    return asyncio.run(
        poll_health(base_url, served_model_name, window_s=window, poll_interval_s=settings.health_poll_interval_s, check_alive=check_alive)
    )


@task(task_run_name="wait-until-healthy-{server.served_model_name}", cache_policy=NO_CACHE, retry_condition_fn=retry_while_not_ready)
def wait_until_healthy(server: LocalServer, deadline: float, settings: ModelgateSettings) -> float:
    """Poll GET /health and GET /v1/models for one attempt window; Prefect retries with backoff until `deadline`.

    Args:
        server: the started engine.
        deadline: `time.time()` after which the wait fails for good.
        settings: poll interval, attempt window and log settings.
    """
    runtime = LocalVllmRuntime(settings)
    seconds = poll_health_window(
        server.base_url,
        server.served_model_name,
        deadline,
        settings,
        timeout_message=f"{server.served_model_name} at {server.base_url} was not healthy within "
        f"{settings.health_timeout_s:.0f} s; see the engine log {server.log_path}",
        check_alive=lambda: runtime.check_alive(server),
    )
    get_run_logger().info("%s is healthy and lists its served model", server.served_model_name)
    return seconds


@task(task_run_name="stop-runtime-{server.served_model_name}", cache_policy=NO_CACHE)
def stop_runtime(server: LocalServer, settings: ModelgateSettings) -> None:
    """Stop the engine's whole process group."""
    logger = get_run_logger()
    logger.info("stopping engine %s (pid %d)", server.served_model_name, server.pid)
    LocalVllmRuntime(settings).stop(server)
    logger.info("engine %s stopped", server.served_model_name)
