"""What is not a verdict: rejected keys, retryable returns, timeouts, unreachable servers, gateways."""

import asyncio

import pytest

from modelgate.errors import CredentialsRejectedError, InvalidInputError, ProbeError
from modelgate.probe import CHAT, EMBEDDINGS, probe_server
from tests.doubles.proxy_like import ProxyConfig, build_proxy_app
from tests.doubles.serving import ServedApp
from tests.doubles.vllm_like import RunningDouble, VllmLikeConfig


def probe(url, model="test-model", **kwargs):
    kwargs.setdefault("timeout_s", 5)
    kwargs.setdefault("deadline_s", 15)
    kwargs.setdefault("max_attempts", 4)
    return asyncio.run(probe_server(url, model, **kwargs))


@pytest.fixture
def keyed_server():
    with RunningDouble(VllmLikeConfig(api_key="secret-key")) as server:
        yield server


def proxied(upstream_url, **config):
    proxy_config = ProxyConfig(upstream=upstream_url, **config)
    return proxy_config, ServedApp(build_proxy_app(proxy_config))


def test_missing_key_is_credentials_error(keyed_server):
    with pytest.raises(CredentialsRejectedError, match="credentials rejected \\(HTTP 401\\); the server requires an API key"):
        probe(keyed_server.base_url)


def test_wrong_key_is_named_not_shown(keyed_server):
    with pytest.raises(CredentialsRejectedError) as caught:
        probe(keyed_server.base_url, api_key="wrong-key-value")
    assert "was not accepted" in str(caught.value)
    assert "wrong-key-value" not in str(caught.value)


def test_key_is_sent_as_bearer(keyed_server):
    assert probe(keyed_server.base_url, api_key="secret-key").endpoints[EMBEDDINGS].supported


def test_gateway_403_is_credentials_error(embedding_server):
    _, gateway = proxied(embedding_server.base_url, required_key="gateway-key")
    with gateway, pytest.raises(CredentialsRejectedError, match="HTTP 403"):
        probe(gateway.base_url)


def test_unreachable_server_names_url(unused_port_url):
    with pytest.raises(ProbeError, match=f"GET {unused_port_url}/v1/models: .*ConnectError"):
        probe(unused_port_url, deadline_s=2)


def test_error_body_with_200_is_unsupported(embedding_server):
    _, gateway = proxied(embedding_server.base_url, errors_as_200=True)
    with gateway:
        report = probe(gateway.base_url)
    assert report.endpoints[CHAT].status_code == 200
    assert report.endpoints[CHAT].verdict == "unsupported"
    assert "upstream returned 404" in report.endpoints[CHAT].error


def test_error_body_gateway_keeps_type(embedding_server):
    _, gateway = proxied(embedding_server.base_url, errors_as_200=True)
    with gateway:
        assert probe(gateway.base_url).model_type == "embedding"


@pytest.mark.parametrize("statuses", [[503], [429, 502], [504, 503, 429]])
def test_retryable_statuses_are_retried(embedding_server, statuses):
    _, gateway = proxied(embedding_server.base_url, scripted={"/v1/embeddings": list(statuses)}, retry_after="0")
    with gateway:
        embeddings = probe(gateway.base_url).endpoints[EMBEDDINGS]
    assert embeddings.supported
    assert embeddings.attempts == len(statuses) + 1


def test_loading_model_list_is_retried(embedding_server):
    config, gateway = proxied(embedding_server.base_url, scripted={"/v1/models": [503, 503]}, retry_after="0")
    with gateway:
        assert probe(gateway.base_url).model_type == "embedding"
    assert config.hits["/v1/models"] == 3


def test_attempt_limit_names_endpoint(embedding_server):
    _, gateway = proxied(embedding_server.base_url, scripted={"/v1/embeddings": [502] * 10}, retry_after="0")
    with gateway, pytest.raises(ProbeError, match="POST /v1/embeddings: no usable response after 3 attempts.*HTTP 502"):
        probe(gateway.base_url, max_attempts=3)


def test_deadline_stops_retries(embedding_server):
    config, gateway = proxied(embedding_server.base_url, scripted={"/v1/embeddings": [503] * 50}, retry_after="0.2")
    with gateway, pytest.raises(ProbeError, match="/v1/embeddings"):
        probe(gateway.base_url, deadline_s=1.5, max_attempts=50)
    assert config.hits["/v1/embeddings"] < 50


def test_timeout_is_retried(embedding_server):
    _, gateway = proxied(embedding_server.base_url, scripted={"/v1/chat/completions": ["hang"]}, hang_s=2.5)
    with gateway:
        chat = probe(gateway.base_url, timeout_s=1.0).endpoints[CHAT]
    assert chat.attempts == 2
    assert chat.verdict == "unsupported"


def test_timeouts_until_limit_fail(embedding_server):
    _, gateway = proxied(embedding_server.base_url, scripted={"/v1/completions": ["hang", "hang"]}, hang_s=2.5)
    with gateway, pytest.raises(ProbeError, match="POST /v1/completions: .*timed out after 1.0 s"):
        probe(gateway.base_url, timeout_s=1.0, max_attempts=2)


def test_empty_model_list_fails():
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def models(request):
        return JSONResponse({"object": "list", "data": []})

    with ServedApp(Starlette(routes=[Route("/v1/models", models)])) as server:
        with pytest.raises(ProbeError, match="lists no model"):
            probe(server.base_url, model=None)


def test_html_model_list_fails():
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    async def models(request):
        return HTMLResponse("<html>login</html>")

    with ServedApp(Starlette(routes=[Route("/v1/models", models)])) as server:
        with pytest.raises(ProbeError, match="returned no model list \\(HTTP 200\\)"):
            probe(server.base_url)


def test_invalid_url_is_input_error():
    with pytest.raises(InvalidInputError, match="'localhost:8000' is invalid"):
        probe("localhost:8000")


@pytest.mark.parametrize("field", ["timeout_s", "deadline_s"])
def test_non_positive_limits_rejected(embedding_server, field):
    with pytest.raises(InvalidInputError, match=f"{field} is 0"):
        probe(embedding_server.base_url, **{field: 0})
