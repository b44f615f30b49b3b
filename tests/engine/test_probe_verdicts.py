import httpx
import pytest

from modelgate.probe import CHAT, CLASSIFY, COMPLETIONS, EMBEDDINGS, PREDICT, RERANK, classify
from modelgate.probe import shapes
from modelgate.probe.runner import EndpointResult
from modelgate.probe.verdicts import Verdict, error_text, judge


def answer(status, body=None, text=None):
    if text is not None:
        return httpx.Response(status, text=text)
    return httpx.Response(status, json=body)


EMBEDDING = {"object": "list", "data": [{"index": 0, "embedding": [0.1, -0.2]}]}


@pytest.mark.parametrize(
    "body",
    [
        {"data": []},
        {"data": [{"embedding": []}]},
        {"data": [{"embedding": ["0.1"]}]},
        {"data": [{"embedding": [True, False]}]},
        {"data": [{"embedding": [float("nan")]}]},
        {"data": [{"embedding": "AAAA"}]},
        {"error": {"message": "boom"}},
        [0.1, 0.2],
    ],
)
def test_embedding_shape_rejects(body):
    assert not shapes.is_embedding_body(body)


def test_embedding_shape_accepts_vector():
    assert shapes.is_embedding_body(EMBEDDING)


@pytest.mark.parametrize(
    ("check", "body"),
    [
        (shapes.is_chat_body, {"choices": [{"message": {"role": "assistant", "content": None}}]}),
        (shapes.is_completion_body, {"choices": [{"text": ""}]}),
        (shapes.is_rerank_body, {"results": [{"index": 0, "relevance_score": 0.3}]}),
        (shapes.is_rerank_body, {"data": [{"index": 0, "relevance_score": 0.3}]}),
        (shapes.is_rerank_body, [{"index": 0, "score": 0.3}]),
        (shapes.is_score_body, {"data": [{"index": 0, "score": 1}]}),
        (shapes.is_classification_body, {"data": [{"label": "a", "probs": [0.4, 0.6]}]}),
        (shapes.is_classification_body, {"data": [[{"label": "a", "score": 0.6}]]}),
        (shapes.is_prediction_body, [{"label": "positive", "score": 0.8}]),
        (shapes.is_pooling_body, {"data": [{"data": [0.1, 0.2]}]}),
        (shapes.is_pooling_body, {"data": [{"data": [[0.1], [0.2]]}]}),
    ],
)
def test_shape_accepts(check, body):
    assert check(body)


@pytest.mark.parametrize(
    ("check", "body"),
    [
        (shapes.is_chat_body, {"choices": [{"text": "hi"}]}),
        (shapes.is_chat_body, {"choices": []}),
        (shapes.is_completion_body, {"choices": [{"message": {}}]}),
        (shapes.is_rerank_body, {"results": [{"index": 0, "score": 0.3}]}),
        (shapes.is_rerank_body, [{"score": 0.3}]),
        (shapes.is_rerank_body, []),
        (shapes.is_score_body, {"data": [{"score": "high"}]}),
        (shapes.is_classification_body, {"data": [{"label": "a"}]}),
        (shapes.is_prediction_body, [{"label": 1, "score": 0.8}]),
        (shapes.is_pooling_body, {"data": [{"data": "base64"}]}),
    ],
)
def test_shape_rejects(check, body):
    assert not check(body)


def test_valid_body_is_supported():
    assert judge(answer(200, EMBEDDING), shapes.is_embedding_body).verdict == Verdict.SUPPORTED


def test_error_body_with_200_is_unsupported():
    judgement = judge(answer(200, {"error": {"message": "no route"}}), shapes.is_embedding_body)
    assert judgement.verdict == Verdict.UNSUPPORTED
    assert "no route" in judgement.error


def test_wrong_shape_with_200_is_inconclusive():
    judgement = judge(answer(200, {"data": []}), shapes.is_embedding_body)
    assert judgement.verdict == Verdict.INCONCLUSIVE
    assert "wrong shape" in judgement.error


def test_non_json_200_is_inconclusive():
    assert judge(answer(200, text="<html>ok</html>"), shapes.is_embedding_body).verdict == Verdict.INCONCLUSIVE


@pytest.mark.parametrize("status", [404, 405, 501])
def test_missing_route_statuses_are_unsupported(status):
    assert judge(answer(status, {"detail": "Not Found"}), shapes.is_chat_body).verdict == Verdict.UNSUPPORTED


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"object": "error", "message": "The model does not support Chat Completions API", "code": 400}),
        (400, {"error": {"message": '"all-minilm:latest" does not support chat'}}),
        (422, {"error": {"message": "this model does not support embeddings"}}),
        (424, {"message": "Backend error: Model is not an embedding model", "code": 424, "type": "backend"}),
        (424, {"error": "Backend error: model is not a re-ranker model", "error_type": "backend"}),
        (500, {"error": {"message": "Llama model must be created with embedding=True to call this method"}}),
    ],
)
def test_not_supported_messages_are_unsupported(status, body):
    assert judge(answer(status, body), shapes.is_chat_body).verdict == Verdict.UNSUPPORTED


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"error": {"message": "1 validation error: body.input Field required"}}),
        (500, {"error": {"message": "EngineCore encountered an issue."}}),
        (424, {"error": "Backend error: inference failed", "error_type": "backend"}),
        (418, {"detail": "teapot"}),
    ],
)
def test_other_errors_are_inconclusive(status, body):
    assert judge(answer(status, body), shapes.is_chat_body).verdict == Verdict.INCONCLUSIVE


def test_unknown_model_404_is_inconclusive():
    body = {"error": {"message": "The model `other` does not exist.", "type": "NotFoundError", "code": 404}}
    judgement = judge(answer(404, body), shapes.is_embedding_body)
    assert judgement.verdict == Verdict.INCONCLUSIVE
    assert "model not found" in judgement.error


def test_error_text_flattens_newlines():
    assert error_text({"error": {"message": "2 validation errors:\n  a\n  b"}}) == "2 validation errors: a b"


def test_error_text_plain_text_is_none():
    assert error_text("404 page not found") is None


def result(path, capability, verdict, error=None):
    return EndpointResult(path, capability, verdict == "supported", verdict, 200, 1.0, error)


def results(**verdicts):
    paths = {"chat": CHAT, "completions": COMPLETIONS, "embeddings": EMBEDDINGS, "rerank": RERANK, "classify": CLASSIFY,
             "predict": PREDICT}
    capabilities = {"predict": "classify"}
    return {paths[name]: result(paths[name], capabilities.get(name, name), verdict) for name, verdict in verdicts.items()}


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ({"chat": "supported", "embeddings": "unsupported"}, "llm"),
        ({"chat": "unsupported", "completions": "supported"}, "llm"),
        ({"chat": "supported", "embeddings": "supported"}, "llm"),
        ({"chat": "unsupported", "embeddings": "supported", "rerank": "supported"}, "embedding"),
        ({"chat": "unsupported", "embeddings": "unsupported", "rerank": "supported", "classify": "supported"}, "reranker"),
        ({"chat": "unsupported", "embeddings": "unsupported", "rerank": "unsupported", "predict": "supported"}, "classifier"),
        ({"chat": "unsupported", "embeddings": "unsupported", "rerank": "unsupported"}, "unknown"),
    ],
)
def test_classify_ranks_types(verdicts, expected):
    assert classify(results(**verdicts)).model_type == expected


def test_llm_with_embeddings_keeps_both():
    classification = classify(results(chat="supported", completions="supported", embeddings="supported"))
    assert classification.capabilities == ("chat", "completions", "embeddings")


def test_inconclusive_chat_blocks_embedding():
    classification = classify(results(chat="inconclusive", embeddings="supported"))
    assert classification.model_type == "unknown"
    assert "/v1/chat/completions" in classification.reason


def test_inconclusive_rerank_does_not_block_embedding():
    assert classify(results(chat="unsupported", embeddings="supported", rerank="inconclusive")).model_type == "embedding"


def test_basic_details_rebuild_result():
    rebuilt = EndpointResult.from_dict(EMBEDDINGS, {"supported": True, "status_code": 200, "error": None, "latency_ms": 3.0})
    assert rebuilt.capability == "embeddings"
    assert rebuilt.verdict == "supported"


def test_flags_alone_classify():
    from modelgate.probe import classify_model

    assert classify_model({CHAT: False, EMBEDDINGS: True}) == "embedding"
