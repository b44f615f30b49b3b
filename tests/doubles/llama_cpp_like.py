"""Test doubles of llama.cpp's `llama-server` and of llama-cpp-python's server.

llama-server (tools/server in ggml-org/llama.cpp) sends errors as `{"error": {"code", "message",
"type"}}`. A feature the start flags disable returns 501 `not_supported_error`: chat on an
`--embeddings` server, embeddings without `--embeddings`, rerank without `--reranking` (the double
has no `--reranking` mode). Unknown routes return 404 "File Not Found". With `--api-key`, requests
without the key get 401 "Invalid API Key" `authentication_error`, while /health and /v1/models stay
public. While loading, it returns 503 "Loading model". It ignores the `model` field.

llama-cpp-python 0.3 (`python -m llama_cpp.server`) is a FastAPI app with no /health route. Errors
raised by the model become 500 `{"error": {"message", "type": "internal_server_error", ...}}`, so
/v1/embeddings on a model started without `embedding=True` returns 500 "Llama model must be created
with embedding=True to call this method" (measured on this project's machines). With
`embedding=True` the same server serves chat and embeddings.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.doubles.serving import bearer_matches, json_body

VECTOR = [0.5, 0.5, 0.5, 0.5]
PUBLIC_PATHS = ("/health", "/v1/health", "/models", "/v1/models")


def _llama_error(code: int, message: str, error_type: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "type": error_type}}, status_code=code)


def _chat_body(model: str) -> dict:
    message = {"role": "assistant", "content": "Hi"}
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": model, "created": int(time.time()),
            "choices": [{"index": 0, "message": message, "finish_reason": "length"}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10}}


def _completion_body(model: str) -> dict:
    return {"id": "cmpl-1", "object": "text_completion", "model": model, "created": int(time.time()),
            "choices": [{"index": 0, "text": " there", "logprobs": None, "finish_reason": "length"}],
            "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}}


def _embedding_body(model: str) -> dict:
    return {"object": "list", "model": model, "data": [{"object": "embedding", "index": 0, "embedding": VECTOR}],
            "usage": {"prompt_tokens": 2, "total_tokens": 2}}


@dataclass
class LlamaServerConfig:
    """How the llama-server double was started: `mode` mirrors `--embeddings`."""

    mode: Literal["chat", "embeddings"] = "chat"
    alias: str = "SmolLM2-135M-Instruct"
    api_key: str | None = None
    loading: bool = False


def build_llama_server_app(config: LlamaServerConfig) -> Starlette:
    """Return the llama-server double."""

    async def gate(request: Request) -> Response | None:
        if config.loading and request.url.path != "/health":
            return _llama_error(503, "Loading model", "unavailable_error")
        if request.url.path not in PUBLIC_PATHS and not bearer_matches(request, config.api_key):
            return _llama_error(401, "Invalid API Key", "authentication_error")
        return None

    async def health(request: Request) -> Response:
        if config.loading:
            return _llama_error(503, "Loading model", "unavailable_error")
        return JSONResponse({"status": "ok"})

    async def models(request: Request) -> Response:
        blocked = await gate(request)
        if blocked:
            return blocked
        entry = {"id": config.alias, "object": "model", "created": int(time.time()), "owned_by": "llamacpp", "meta": {}}
        return JSONResponse({"object": "list", "data": [entry]})

    async def generate(request: Request) -> Response:
        blocked = await gate(request)
        if blocked:
            return blocked
        if config.mode == "embeddings":
            return _llama_error(501, "This server does not support completions. Start it without `--embeddings`", "not_supported_error")
        if await json_body(request) is None:
            return _llama_error(400, "Invalid JSON body", "invalid_request_error")
        if request.url.path.endswith("/chat/completions"):
            return JSONResponse(_chat_body(config.alias))
        return JSONResponse(_completion_body(config.alias))

    async def embeddings(request: Request) -> Response:
        blocked = await gate(request)
        if blocked:
            return blocked
        if config.mode == "chat":
            return _llama_error(501, "This server does not support embeddings. Start it with `--embeddings`", "not_supported_error")
        return JSONResponse(_embedding_body(config.alias))

    async def rerank(request: Request) -> Response:
        blocked = await gate(request)
        if blocked:
            return blocked
        return _llama_error(501, "This server does not support reranking. Start it with `--reranking`", "not_supported_error")

    async def not_found(request: Request, exc: Exception) -> Response:
        return _llama_error(404, "File Not Found", "not_found_error")

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/models", models, methods=["GET"]),
        Route("/v1/chat/completions", generate, methods=["POST"]),
        Route("/chat/completions", generate, methods=["POST"]),
        Route("/v1/completions", generate, methods=["POST"]),
        Route("/completions", generate, methods=["POST"]),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
        Route("/embeddings", embeddings, methods=["POST"]),
    ]
    routes += [Route(path, rerank, methods=["POST"]) for path in ("/rerank", "/reranking", "/v1/rerank", "/v1/reranking")]
    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})


@dataclass
class LlamaCppPythonConfig:
    """How the llama-cpp-python double was started: `embedding` mirrors `--embedding true`."""

    model_alias: str = "SmolLM2-135M-Instruct"
    embedding: bool = False


def build_llama_cpp_python_app(config: LlamaCppPythonConfig) -> Starlette:
    """Return the llama-cpp-python double."""

    def internal_error(message: str) -> JSONResponse:
        body = {"error": {"message": message, "type": "internal_server_error", "param": None, "code": None}}
        return JSONResponse(body, status_code=500)

    async def models(request: Request) -> Response:
        entry = {"id": config.model_alias, "object": "model", "owned_by": "me", "permissions": []}
        return JSONResponse({"object": "list", "data": [entry]})

    async def chat(request: Request) -> Response:
        return JSONResponse(_chat_body(config.model_alias))

    async def completions(request: Request) -> Response:
        return JSONResponse(_completion_body(config.model_alias))

    async def embeddings(request: Request) -> Response:
        if not config.embedding:
            return internal_error("Llama model must be created with embedding=True to call this method")
        return JSONResponse(_embedding_body(config.model_alias))

    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"detail": "Not Found"}, status_code=404)

    routes = [
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/completions", completions, methods=["POST"]),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found})
