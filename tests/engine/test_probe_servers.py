"""The probe against doubles of llama.cpp, llama-cpp-python, infinity, TEI and Ollama."""

import asyncio

import pytest

from modelgate.errors import CredentialsRejectedError, ProbeError
from modelgate.health import poll_health
from modelgate.probe import CHAT, CLASSIFY_V1, EMBEDDINGS, PREDICT, RERANK, RERANK_V1, probe_server
from tests.doubles.infinity_like import InfinityConfig, build_infinity_app
from tests.doubles.llama_cpp_like import (
    LlamaCppPythonConfig,
    LlamaServerConfig,
    build_llama_cpp_python_app,
    build_llama_server_app,
)
from tests.doubles.ollama_like import OllamaConfig, build_ollama_app
from tests.doubles.serving import ServedApp
from tests.doubles.tei_like import TeiConfig, build_tei_app


def probe_app(app, model=None, url_suffix="", **kwargs):
    with ServedApp(app) as server:
        return asyncio.run(probe_server(f"{server.base_url}{url_suffix}", model, timeout_s=5, deadline_s=15, **kwargs))


# llama.cpp's llama-server


def test_llama_server_chat_is_llm():
    report = probe_app(build_llama_server_app(LlamaServerConfig()))
    assert report.model_type == "llm"
    assert report.model == "SmolLM2-135M-Instruct"


def test_llama_server_embeddings_501_unsupported():
    embeddings = probe_app(build_llama_server_app(LlamaServerConfig())).endpoints[EMBEDDINGS]
    assert embeddings.status_code == 501
    assert embeddings.verdict == "unsupported"
    assert "--embeddings" in embeddings.error


def test_llama_server_unknown_route_unsupported():
    classify = probe_app(build_llama_server_app(LlamaServerConfig())).endpoints[CLASSIFY_V1]
    assert classify.status_code == 404
    assert classify.verdict == "unsupported"


def test_llama_server_embeddings_mode_is_embedding():
    report = probe_app(build_llama_server_app(LlamaServerConfig(mode="embeddings")))
    assert report.model_type == "embedding"
    assert report.endpoints[CHAT].status_code == 501


def test_llama_server_key_rejects_probe():
    app = build_llama_server_app(LlamaServerConfig(api_key="server-key"))
    with pytest.raises(CredentialsRejectedError, match="requires an API key"):
        probe_app(app)


def test_llama_server_key_accepted():
    app = build_llama_server_app(LlamaServerConfig(api_key="server-key"))
    assert probe_app(app, api_key="server-key").model_type == "llm"


# llama-cpp-python


def test_llama_cpp_python_chat_is_llm():
    report = probe_app(build_llama_cpp_python_app(LlamaCppPythonConfig()))
    assert report.model_type == "llm"
    assert report.capabilities == ["chat", "completions"]


def test_llama_cpp_python_embeddings_500_unsupported():
    embeddings = probe_app(build_llama_cpp_python_app(LlamaCppPythonConfig())).endpoints[EMBEDDINGS]
    assert embeddings.status_code == 500
    assert embeddings.verdict == "unsupported"


def test_llama_cpp_python_embedding_llm_keeps_both():
    report = probe_app(build_llama_cpp_python_app(LlamaCppPythonConfig(embedding=True)))
    assert report.model_type == "llm"
    assert report.capabilities == ["chat", "completions", "embeddings"]


# infinity


def test_infinity_embedder_is_embedding():
    report = probe_app(build_infinity_app(InfinityConfig()))
    assert report.model_type == "embedding"
    assert report.capabilities == ["embeddings"]


def test_infinity_rerank_400_unsupported():
    rerank = probe_app(build_infinity_app(InfinityConfig())).endpoints[RERANK_V1]
    assert rerank.status_code == 400
    assert rerank.verdict == "unsupported"


def test_infinity_root_rerank_absent():
    assert probe_app(build_infinity_app(InfinityConfig())).endpoints[RERANK].status_code == 404


def test_infinity_v1_base_url_works():
    report = probe_app(build_infinity_app(InfinityConfig()), url_suffix="/v1")
    assert report.model_type == "embedding"


def test_infinity_health_at_root():
    with ServedApp(build_infinity_app(InfinityConfig())) as server:
        seconds = asyncio.run(poll_health(f"{server.base_url}/v1", "all-MiniLM-L6-v2", window_s=5, poll_interval_s=0.1))
    assert seconds >= 0


def test_infinity_without_prefix_uses_root():
    report = probe_app(build_infinity_app(InfinityConfig(url_prefix="")))
    assert report.model_type == "embedding"
    assert report.endpoints[EMBEDDINGS].url == f"{report.base_url}/embeddings"


def test_infinity_reranker_is_reranker():
    app = build_infinity_app(InfinityConfig(engines={"mxbai-rerank-xsmall-v1": {"rerank"}}))
    assert probe_app(app).model_type == "reranker"


def test_infinity_classifier_is_classifier():
    app = build_infinity_app(InfinityConfig(engines={"roberta-go-emotions": {"classify"}}))
    report = probe_app(app)
    assert report.model_type == "classifier"
    assert report.endpoints[CLASSIFY_V1].supported


def test_infinity_several_models_need_choice():
    app = build_infinity_app(InfinityConfig(engines={"minilm": {"embed"}, "reranker": {"rerank"}}))
    with pytest.raises(ProbeError, match="lists several models \\(minilm, reranker\\)"):
        probe_app(app)


def test_infinity_chosen_model_is_probed():
    app = build_infinity_app(InfinityConfig(engines={"minilm": {"embed"}, "reranker": {"rerank"}}))
    assert probe_app(app, model="reranker").model_type == "reranker"


# text-embeddings-inference


def test_tei_embedder_is_embedding():
    report = probe_app(build_tei_app(TeiConfig()))
    assert report.model_type == "embedding"
    assert report.model == "BAAI/bge-small-en-v1.5"


def test_tei_rerank_424_unsupported():
    rerank = probe_app(build_tei_app(TeiConfig())).endpoints[RERANK]
    assert rerank.status_code == 424
    assert rerank.verdict == "unsupported"


def test_tei_reranker_is_reranker():
    report = probe_app(build_tei_app(TeiConfig(model_id="BAAI/bge-reranker-base", model_type="reranker")))
    assert report.model_type == "reranker"
    assert report.endpoints[EMBEDDINGS].status_code == 424


def test_tei_classifier_is_classifier():
    report = probe_app(build_tei_app(TeiConfig(model_id="SamLowe/roberta-base-go_emotions", model_type="classifier")))
    assert report.model_type == "classifier"
    assert report.endpoints[PREDICT].supported


def test_tei_key_rejects_model_lookup():
    with pytest.raises(CredentialsRejectedError, match="HTTP 401"):
        probe_app(build_tei_app(TeiConfig(api_key="tei-key")))


def test_tei_key_accepted():
    assert probe_app(build_tei_app(TeiConfig(api_key="tei-key")), api_key="tei-key").model_type == "embedding"


# Ollama


def test_ollama_short_name_resolves_tag():
    report = probe_app(build_ollama_app(OllamaConfig()), model="all-minilm", url_suffix="/v1")
    assert report.model == "all-minilm:latest"
    assert report.model_type == "embedding"


def test_ollama_chat_400_unsupported():
    chat = probe_app(build_ollama_app(OllamaConfig()), model="all-minilm").endpoints[CHAT]
    assert chat.status_code == 400
    assert chat.verdict == "unsupported"
    assert "does not support chat" in chat.error


def test_ollama_unknown_route_unsupported():
    rerank = probe_app(build_ollama_app(OllamaConfig()), model="all-minilm").endpoints[RERANK_V1]
    assert rerank.status_code == 404
    assert rerank.error == "HTTP 404: 404 page not found"


def test_ollama_chat_model_is_llm():
    app = build_ollama_app(OllamaConfig(models={"smollm2:135m": {"completion"}}))
    report = probe_app(app)
    assert report.model_type == "llm"
    assert report.endpoints[EMBEDDINGS].status_code == 501


def test_ollama_embedding_llm_keeps_both():
    app = build_ollama_app(OllamaConfig(models={"llama3.2:1b": {"completion"}}, chat_model_embeds=True))
    assert probe_app(app).capabilities == ["chat", "completions", "embeddings"]
