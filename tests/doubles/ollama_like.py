"""Test double of Ollama's OpenAI-compatible routes: /v1/models, /v1/chat/completions,
/v1/completions and /v1/embeddings.

Ollama lists models as `name:tag` and accepts `name` for `name:latest`. Its OpenAI middleware wraps
every error as `{"error": {"message", "type", "param": null, "code": null}}`, with type
`invalid_request_error` for 400, `not_found_error` for 404 and `api_error` otherwise. A model that
lacks the capability returns 400 `"m:latest" does not support chat` (or `generate` on completions),
and an unknown model returns 404 `model "m" not found, try pulling it first`.

Embeddings on a generation model return 501 "This server does not support embeddings. Start it with
`--embeddings`", as reported for Ollama 0.32, which passes on llama.cpp's runner message. Earlier
releases returned vectors for generation models too, so a chat model also served embeddings
(`chat_model_embeds`). Routes Ollama lacks return gin's plain-text 404 "404 page not found".
Ollama has no API keys.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.doubles.serving import json_body


@dataclass
class OllamaConfig:
    """Pulled models: `name:tag` -> capabilities (`completion` for generation, `embedding`)."""

    models: dict[str, set[str]] = field(default_factory=lambda: {"all-minilm:latest": {"embedding"}})
    chat_model_embeds: bool = False


def _openai_error(status: int, message: str) -> JSONResponse:
    error_type = {400: "invalid_request_error", 404: "not_found_error"}.get(status, "api_error")
    return JSONResponse({"error": {"message": message, "type": error_type, "param": None, "code": None}}, status_code=status)


def build_ollama_app(config: OllamaConfig) -> Starlette:
    """Return the Ollama double."""

    def resolve(model: str | None) -> str | None:
        if model in config.models:
            return model
        if model and f"{model}:latest" in config.models:
            return f"{model}:latest"
        return None

    async def prepare(request: Request) -> tuple[str, dict] | Response:
        body = await json_body(request)
        if body is None:
            return _openai_error(400, "invalid request body")
        name = resolve(body.get("model"))
        if name is None:
            return _openai_error(404, f'model "{body.get("model")}" not found, try pulling it first')
        return name, body

    async def root(request: Request) -> Response:
        return PlainTextResponse("Ollama is running")

    async def models(request: Request) -> Response:
        data = [{"id": name, "object": "model", "created": int(time.time()), "owned_by": "library"} for name in config.models]
        return JSONResponse({"object": "list", "data": data})

    async def chat(request: Request) -> Response:
        prepared = await prepare(request)
        if isinstance(prepared, Response):
            return prepared
        name, _ = prepared
        if "completion" not in config.models[name]:
            return _openai_error(400, f'"{name}" does not support chat')
        choice = {"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "length"}
        return JSONResponse({"id": "chatcmpl-7", "object": "chat.completion", "created": int(time.time()), "model": name,
                             "system_fingerprint": "fp_ollama", "choices": [choice],
                             "usage": {"prompt_tokens": 8, "completion_tokens": 1, "total_tokens": 9}})

    async def completions(request: Request) -> Response:
        prepared = await prepare(request)
        if isinstance(prepared, Response):
            return prepared
        name, _ = prepared
        if "completion" not in config.models[name]:
            return _openai_error(400, f'"{name}" does not support generate')
        choice = {"text": " there", "index": 0, "finish_reason": "length"}
        return JSONResponse({"id": "cmpl-7", "object": "text_completion", "created": int(time.time()), "model": name,
                             "system_fingerprint": "fp_ollama", "choices": [choice],
                             "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}})

    async def embeddings(request: Request) -> Response:
        prepared = await prepare(request)
        if isinstance(prepared, Response):
            return prepared
        name, _ = prepared
        if "embedding" not in config.models[name] and not config.chat_model_embeds:
            return _openai_error(501, "This server does not support embeddings. Start it with `--embeddings`")
        data = [{"object": "embedding", "embedding": [0.1, 0.2, 0.3], "index": 0}]
        return JSONResponse({"object": "list", "data": data, "model": name, "usage": {"prompt_tokens": 2, "total_tokens": 2}})

    async def not_found(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("404 page not found", status_code=404)

    routes = [
        Route("/", root, methods=["GET"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/completions", completions, methods=["POST"]),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
