import asyncio

import pytest

from modelgate.errors import CredentialsRejectedError, ProbeError
from modelgate.probe import CHAT, EMBEDDINGS, classify_model, probe_endpoints
from tests.doubles.vllm_like import RunningDouble, VllmLikeConfig


def probe(url, model="test-model", api_key=None):
    return asyncio.run(probe_endpoints(url, model, api_key=api_key, timeout_s=5))


def test_embedding_model_serves_embeddings(embedding_server):
    results = probe(embedding_server.base_url)
    assert results[EMBEDDINGS].supported


def test_embedding_model_chat_is_404(embedding_server):
    results = probe(embedding_server.base_url)
    assert not results[CHAT].supported
    assert results[CHAT].status_code == 404


def test_chat_model_serves_chat(chat_server):
    results = probe(chat_server.base_url)
    assert results[CHAT].supported


def test_chat_model_embeddings_unsupported(chat_server):
    results = probe(chat_server.base_url)
    assert not results[EMBEDDINGS].supported


def test_probe_sends_served_model_id(embedding_server):
    probe(embedding_server.base_url)
    models = {request["body"]["model"] for request in embedding_server.config.requests}
    assert models == {"test-model"}


def test_wrong_model_name_is_unsupported(embedding_server):
    results = probe(embedding_server.base_url, model="other")
    assert "does not exist" in results[EMBEDDINGS].error


def test_base_url_with_v1_works(embedding_server):
    results = probe(f"{embedding_server.base_url}/v1/")
    assert results[EMBEDDINGS].supported


def test_missing_key_is_credentials_error():
    with RunningDouble(VllmLikeConfig(api_key="secret-key")) as server:
        with pytest.raises(CredentialsRejectedError, match="credentials rejected"):
            probe(server.base_url)


def test_key_is_sent_as_bearer():
    with RunningDouble(VllmLikeConfig(api_key="secret-key")) as server:
        results = probe(server.base_url, api_key="secret-key")
    assert results[EMBEDDINGS].supported


def test_unreachable_server_is_probe_error(unused_port_url):
    with pytest.raises(ProbeError, match="no endpoint"):
        probe(unused_port_url)


def test_wrong_count_body_is_unsupported():
    with RunningDouble(VllmLikeConfig(wrong_count=True)) as server:
        results = probe(server.base_url)
    assert not results[EMBEDDINGS].supported


@pytest.mark.parametrize(
    ("supported", "expected"),
    [
        ({EMBEDDINGS: True, CHAT: False}, "embedding"),
        ({EMBEDDINGS: False, CHAT: True}, "llm"),
        ({EMBEDDINGS: True, CHAT: True}, "llm"),
        ({EMBEDDINGS: False, CHAT: False}, "unknown"),
    ],
)
def test_classify(supported, expected):
    assert classify_model(supported) == expected
