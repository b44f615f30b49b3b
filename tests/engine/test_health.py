import asyncio

import pytest

from modelgate.errors import CredentialsRejectedError, InvalidInputError, NotReadyError
from modelgate.health import poll_health
from tests.doubles.vllm_like import RunningDouble, VllmLikeConfig


def poll(url, name="test-model", window=3.0, **kwargs):
    return asyncio.run(poll_health(url, name, window_s=window, poll_interval_s=0.05, **kwargs))


def test_healthy_server_passes(embedding_server):
    assert poll(embedding_server.base_url) >= 0


def test_loading_server_passes_once_ready():
    with RunningDouble(VllmLikeConfig(ready_after_s=0.5)) as server:
        seconds = poll(server.base_url)
    assert seconds >= 0.4


def test_loading_server_times_out():
    with RunningDouble(VllmLikeConfig(ready_after_s=30)) as server:
        with pytest.raises(NotReadyError, match="not healthy after"):
            poll(server.base_url, window=0.5)


def test_other_served_name_fails_fast(embedding_server):
    with pytest.raises(InvalidInputError, match="lists \\['test-model'\\]"):
        poll(embedding_server.base_url, name="missing-model")


def test_rejected_key_fails_fast():
    with RunningDouble(VllmLikeConfig(api_key="k")) as server:
        with pytest.raises(CredentialsRejectedError):
            poll(server.base_url)


def test_dead_process_stops_the_wait(unused_port_url):
    def check_alive():
        raise RuntimeError("engine exited")

    with pytest.raises(RuntimeError, match="engine exited"):
        poll(unused_port_url, check_alive=check_alive)
