"""Test double of Hugging Face text-embeddings-inference (TEI), router/src/http/server.rs.

TEI serves one model and ignores the `model` field. It has no /v1/models, and GET /info names the
model (`model_id`). Routes: /embed, /v1/embeddings and /embeddings (OpenAI shape), /rerank (TEI
shape: `{"query", "texts"}` in, `[{"index", "score"}]` out), /predict (classification), /health.

A route the model type cannot serve returns 424 (`error_type` backend): "Backend error: Model is
not an embedding model" on the embedding routes, "... model is not a re-ranker model" on /rerank
and "... Model is not a classifier model" on /predict, which serves classifiers and re-rankers.
Native routes send errors as `{"error", "error_type"}`, the OpenAI route as
`{"message", "code", "type"}`. A missing request field gets axum's 422 plain-text rejection.
Unknown routes return 404 with an empty body. With `--api-key`, every route except /health, /ping
and /metrics returns 401 with an empty body when the key is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.doubles.serving import bearer_matches, json_body

PUBLIC_PATHS = ("/health", "/metrics", "/ping")


@dataclass
class TeiConfig:
    """The served model and its TEI model type."""

    model_id: str = "BAAI/bge-small-en-v1.5"
    model_type: Literal["embedding", "reranker", "classifier"] = "embedding"
    api_key: str | None = None


def build_tei_app(config: TeiConfig) -> Starlette:
    """Return the TEI double."""

    def missing_field(name: str) -> PlainTextResponse:
        text = f"Failed to deserialize the JSON body into the target type: missing field `{name}` at line 1 column 2"
        return PlainTextResponse(text, status_code=422)

    async def info(request: Request) -> Response:
        model_type = {"embedding": {"embedding": {"pooling": "cls"}},
                      "reranker": {"reranker": {"id2label": {"0": "LABEL_0"}}},
                      "classifier": {"classifier": {"id2label": {"0": "negative", "1": "positive"}}}}[config.model_type]
        return JSONResponse({"model_id": config.model_id, "model_sha": None, "model_dtype": "float32",
                             "model_type": model_type, "max_input_length": 512, "version": "1.8.0"})

    async def health(request: Request) -> Response:
        return Response(status_code=200)

    async def openai_embeddings(request: Request) -> Response:
        body = await json_body(request)
        if body is None or "input" not in body:
            return missing_field("input")
        if config.model_type != "embedding":
            return JSONResponse({"message": "Backend error: Model is not an embedding model", "code": 424, "type": "backend"}, status_code=424)
        data = [{"object": "embedding", "embedding": [0.6, 0.8], "index": 0}]
        return JSONResponse({"object": "list", "data": data, "model": config.model_id,
                             "usage": {"prompt_tokens": 3, "total_tokens": 3}})

    async def rerank(request: Request) -> Response:
        body = await json_body(request)
        if body is None or "query" not in body:
            return missing_field("query")
        if "texts" not in body:
            return missing_field("texts")
        if config.model_type != "reranker":
            return JSONResponse({"error": "Backend error: model is not a re-ranker model", "error_type": "backend"}, status_code=424)
        return JSONResponse([{"index": index, "score": 0.9} for index, _ in enumerate(body["texts"])])

    async def predict(request: Request) -> Response:
        body = await json_body(request)
        if body is None or "inputs" not in body:
            return missing_field("inputs")
        if config.model_type == "embedding":
            return JSONResponse({"error": "Backend error: Model is not a classifier model", "error_type": "backend"}, status_code=424)
        return JSONResponse([{"score": 0.8, "label": "positive"}, {"score": 0.2, "label": "negative"}])

    async def not_found(request: Request, exc: Exception) -> Response:
        return Response(status_code=404)

    app = Starlette(
        routes=[
            Route("/info", info, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Route("/v1/embeddings", openai_embeddings, methods=["POST"]),
            Route("/embeddings", openai_embeddings, methods=["POST"]),
            Route("/rerank", rerank, methods=["POST"]),
            Route("/predict", predict, methods=["POST"]),
        ],
        exception_handlers={404: not_found, 405: not_found},
    )

    async def auth_layer(scope, receive, send):
        if scope["type"] == "http" and scope["path"] not in PUBLIC_PATHS:
            request = Request(scope)
            if not bearer_matches(request, config.api_key):
                await Response(status_code=401)(scope, receive, send)
                return
        await app(scope, receive, send)

    return auth_layer
