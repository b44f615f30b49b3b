"""`modelgate probe` as a user runs it: JSON and table output, exit codes, one-line errors."""

import json

import pytest

from modelgate.cli.main import main
from tests.doubles.vllm_like import RunningDouble, VllmLikeConfig


def run_probe(capsys, *args):
    code = main(["probe", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_report_fields(capsys, embedding_server):
    code, out, _ = run_probe(capsys, embedding_server.base_url, "--json")
    report = json.loads(out)
    assert code == 0
    assert report["model"] == "test-model"
    assert report["model_type"] == "embedding"
    assert report["endpoints"]["/v1/embeddings"] is True
    assert report["endpoints"]["/v1/chat/completions"] is False


def test_json_details_per_endpoint(capsys, embedding_server):
    _, out, _ = run_probe(capsys, embedding_server.base_url, "--json")
    chat = json.loads(out)["details"]["/v1/chat/completions"]
    assert chat["status_code"] == 404
    assert chat["latency_ms"] > 0
    assert chat["error"] == "HTTP 404: Not Found"


def test_json_lists_capabilities(capsys, chat_server):
    _, out, _ = run_probe(capsys, f"{chat_server.base_url}/v1", "--json")
    assert json.loads(out)["capabilities"] == ["chat", "completions"]


def test_table_names_model_type(capsys, chat_server):
    code, out, _ = run_probe(capsys, chat_server.base_url)
    assert code == 0
    assert out.startswith("model test-model: llm")


def test_unknown_type_still_exits_zero(capsys):
    with RunningDouble(VllmLikeConfig(fail_every=1)) as server:
        code, out, _ = run_probe(capsys, server.base_url, "--json")
    assert code == 0
    assert json.loads(out)["model_type"] == "unknown"


def test_unreachable_exits_two(capsys, unused_port_url):
    code, out, err = run_probe(capsys, unused_port_url, "--deadline", "1")
    assert code == 2
    assert out == ""
    assert err.startswith("modelgate probe: GET ")
    assert err.count("\n") == 1


def test_rejected_key_exits_two(capsys):
    with RunningDouble(VllmLikeConfig(api_key="secret-key")) as server:
        code, _, err = run_probe(capsys, server.base_url, "--api-key", "bad-key")
    assert code == 2
    assert "credentials rejected" in err
    assert "bad-key" not in err


def test_key_from_environment(capsys, monkeypatch):
    monkeypatch.setenv("MODELGATE_API_KEY", "secret-key")
    with RunningDouble(VllmLikeConfig(api_key="secret-key")) as server:
        code, out, _ = run_probe(capsys, server.base_url, "--json")
    assert code == 0
    assert json.loads(out)["model_type"] == "embedding"


def test_unserved_model_exits_two(capsys, embedding_server):
    code, _, err = run_probe(capsys, embedding_server.base_url, "--model", "missing")
    assert code == 2
    assert "lists test-model" in err


@pytest.mark.parametrize("value", ["0", "-1"])
def test_bad_timeout_exits_two(capsys, embedding_server, value):
    code, _, err = run_probe(capsys, embedding_server.base_url, "--timeout", value)
    assert code == 2
    assert "timeout_s is" in err
