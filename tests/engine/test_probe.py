"""The probe against the vLLM double: every model kind, route styles and served-name handling."""

import asyncio

import pytest

from modelgate.errors import ProbeError
from modelgate.probe import CHAT, CLASSIFY, EMBEDDINGS, RERANK_V1, SCORE, probe_server
from tests.doubles.vllm_like import RunningDouble, VllmLikeConfig


def probe(url, model="test-model", **kwargs):
    kwargs.setdefault("timeout_s", 5)
    kwargs.setdefault("deadline_s", 15)
    kwargs.setdefault("max_attempts", 3)
    return asyncio.run(probe_server(url, model, **kwargs))


def probe_double(**config):
    with RunningDouble(VllmLikeConfig(**config)) as server:
        return probe(server.base_url)


def test_embedding_model_is_embedding(embedding_server):
    assert probe(embedding_server.base_url).model_type == "embedding"


def test_embedding_model_serves_embeddings(embedding_server):
    assert probe(embedding_server.base_url).endpoints[EMBEDDINGS].supported


def test_embedding_model_chat_is_404(embedding_server):
    chat = probe(embedding_server.base_url).endpoints[CHAT]
    assert not chat.supported
    assert chat.status_code == 404
    assert chat.verdict == "unsupported"


def test_embedding_model_capabilities(embedding_server):
    assert probe(embedding_server.base_url).capabilities == ["embeddings", "rerank", "score", "pooling"]


def test_chat_model_is_llm(chat_server):
    report = probe(chat_server.base_url)
    assert report.model_type == "llm"
    assert report.capabilities == ["chat", "completions"]


def test_chat_model_embeddings_unsupported(chat_server):
    embeddings = probe(chat_server.base_url).endpoints[EMBEDDINGS]
    assert not embeddings.supported
    assert embeddings.status_code == 404


def test_cross_encoder_is_reranker():
    report = probe_double(kind="reranker")
    assert report.model_type == "reranker"
    assert report.capabilities == ["rerank", "score", "classify", "pooling"]


def test_classifier_model_is_classifier():
    report = probe_double(kind="classifier")
    assert report.model_type == "classifier"
    assert not report.endpoints[RERANK_V1].supported
    assert report.endpoints[CLASSIFY].supported


@pytest.mark.parametrize("status", [400, 501])
def test_registered_unsupported_routes(status):
    report = probe_double(kind="embedding", unsupported_status=status)
    assert report.model_type == "embedding"
    assert report.endpoints[CHAT].status_code == status
    assert report.endpoints[CHAT].verdict == "unsupported"
    assert "does not support Chat Completions API" in report.endpoints[CHAT].error


def test_chat_model_with_legacy_errors_is_llm():
    assert probe_double(kind="chat", unsupported_status=400).model_type == "llm"


def test_probe_sends_served_model_id(embedding_server):
    probe(embedding_server.base_url)
    models = {request["body"]["model"] for request in embedding_server.config.requests}
    assert models == {"test-model"}


def test_no_model_probes_the_listed_one(embedding_server):
    assert probe(embedding_server.base_url, model=None).model == "test-model"


def test_hub_id_resolves_to_served_name():
    config = VllmLikeConfig(served_name="minilm", root="sentence-transformers/all-MiniLM-L6-v2")
    with RunningDouble(config) as server:
        report = probe(server.base_url, model="sentence-transformers/all-MiniLM-L6-v2")
    assert report.model == "minilm"
    assert report.model_type == "embedding"
    assert {request["body"]["model"] for request in config.requests} == {"minilm"}


def test_model_path_resolves_by_root():
    config = VllmLikeConfig(served_name="minilm", root="/srv/models/minilm-v2")
    with RunningDouble(config) as server:
        assert probe(server.base_url, model="/srv/models/minilm-v2").model == "minilm"


def test_unserved_model_lists_served_ones(embedding_server):
    with pytest.raises(ProbeError, match="lists test-model; pass one of these"):
        probe(embedding_server.base_url, model="other-model")


def test_unserved_model_sends_no_probe(embedding_server):
    with pytest.raises(ProbeError):
        probe(embedding_server.base_url, model="other-model")
    assert embedding_server.config.requests == []


@pytest.mark.parametrize("suffix", ["/v1", "/v1/", "/"])
def test_base_url_forms_work(embedding_server, suffix):
    report = probe(f"{embedding_server.base_url}{suffix}")
    assert report.endpoints[EMBEDDINGS].supported


def test_probe_urls_follow_route_prefix(embedding_server):
    report = probe(f"{embedding_server.base_url}/v1")
    assert report.endpoints[EMBEDDINGS].url == f"{embedding_server.base_url}/v1/embeddings"
    assert report.endpoints[CLASSIFY].url == f"{embedding_server.base_url}/classify"


def test_details_keep_flow_keys(embedding_server):
    details = probe(embedding_server.base_url).details()
    for path, entry in details.items():
        assert {"supported", "status_code", "error", "latency_ms"} <= set(entry), path


def test_latency_is_measured(embedding_server):
    assert probe(embedding_server.base_url).endpoints[SCORE].latency_ms > 0


def test_missing_vector_is_not_embedding():
    report = probe_double(wrong_count=True)
    assert report.endpoints[EMBEDDINGS].verdict == "inconclusive"
    assert report.model_type == "unknown"


def test_engine_errors_leave_type_unknown():
    report = probe_double(fail_every=1)
    assert report.model_type == "unknown"
    assert "EngineCore encountered an issue" in report.classification.reason


def test_results_shortcut_keys_paths(embedding_server):
    from modelgate.probe import probe_endpoints

    results = asyncio.run(probe_endpoints(embedding_server.base_url, "test-model", timeout_s=5))
    assert results[EMBEDDINGS].supported
