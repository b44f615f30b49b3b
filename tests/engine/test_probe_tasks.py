"""The flow's probe tasks, called without a Prefect server (their run logger disabled)."""

import pytest
from prefect.logging import disable_run_logger

from flows.probe_tasks import capabilities_of, classify_model, probe_endpoints
from modelgate.errors import ProbeError
from tests.doubles.llama_cpp_like import LlamaCppPythonConfig, build_llama_cpp_python_app
from tests.doubles.serving import ServedApp


def probe_task(url, name="test-model"):
    with disable_run_logger():
        return probe_endpoints.fn(url, name, 5.0)


def classify_task(details, name="test-model"):
    with disable_run_logger():
        return classify_model.fn(name, details)


def test_probe_task_returns_details(embedding_server):
    details = probe_task(embedding_server.base_url)
    assert details["/v1/embeddings"]["supported"] is True
    assert details["/v1/chat/completions"]["status_code"] == 404


def test_classify_task_embedding(embedding_server):
    assert classify_task(probe_task(embedding_server.base_url)) == "embedding"


def test_classify_task_llm(chat_server):
    assert classify_task(probe_task(chat_server.base_url)) == "llm"


def test_unknown_type_lists_every_endpoint():
    details = {
        "/v1/embeddings": {"supported": False, "status_code": 500, "error": "HTTP 500: boom", "latency_ms": 1.0},
        "/v1/chat/completions": {"supported": False, "status_code": 404, "error": "HTTP 404: Not Found", "latency_ms": 1.0},
    }
    with pytest.raises(ProbeError) as caught:
        classify_task(details)
    assert "/v1/embeddings: unsupported, HTTP 500, HTTP 500: boom" in str(caught.value)
    assert "/v1/chat/completions: unsupported, HTTP 404" in str(caught.value)


def test_basic_details_still_classify():
    details = {"/v1/embeddings": {"supported": True, "status_code": 200, "error": None, "latency_ms": 2.0}}
    assert classify_task(details) == "embedding"


def test_llm_that_embeds_records_both():
    with ServedApp(build_llama_cpp_python_app(LlamaCppPythonConfig(embedding=True))) as server:
        details = probe_task(server.base_url, name="SmolLM2-135M-Instruct")
    assert classify_task(details, name="SmolLM2-135M-Instruct") == "llm"
    assert capabilities_of(details) == ["chat", "completions", "embeddings"]
