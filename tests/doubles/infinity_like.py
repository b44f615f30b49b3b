"""Test double of infinity-emb's server (`infinity_emb v2`), as of release 0.0.78.

Routes live under `--url-prefix` (empty by default, `/v1` on this project's machines) except
/health, which stays at the root. `/models` lists each engine with its `capabilities`. A route the
loaded model cannot serve returns 400 "ModelNotDeployedError: model=`m` does not support `rerank`";
a model name no engine serves returns 400 "Invalid model: Engine for model name `m` not found"
(with one engine, any name selects it); unknown routes return FastAPI's 404 `{"detail": "Not Found"}`;
a missing key returns 401 `{"detail": "Unauthorized"}`. Errors use the OpenAI shape.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.doubles.serving import bearer_matches, json_body


@dataclass
class InfinityConfig:
    """Served engines: served name -> capabilities (`embed`, `rerank`, `classify`)."""

    engines: dict[str, set[str]] = field(default_factory=lambda: {"all-MiniLM-L6-v2": {"embed"}})
    url_prefix: str = "/v1"
    api_key: str | None = None


def _openai_error(message: str, code: int) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": None, "param": None, "code": code}}, status_code=code)


def build_infinity_app(config: InfinityConfig) -> Starlette:
    """Return the infinity double."""
    usage = {"prompt_tokens": 2, "total_tokens": 2}

    def resolve(model: str | None) -> str | JSONResponse:
        if len(config.engines) == 1:
            return next(iter(config.engines))
        if model in config.engines:
            return model
        names = list(config.engines)
        return _openai_error(
            f"Invalid model: Engine for model name `{model}` not found. Available model names are {names}", 400
        )

    async def prepare(request: Request, capability: str) -> tuple[str, dict] | Response:
        if not bearer_matches(request, config.api_key):
            return JSONResponse({"detail": "Unauthorized"}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        body = await json_body(request)
        if body is None:
            return JSONResponse({"detail": [{"type": "json_invalid", "msg": "JSON decode error"}]}, status_code=422)
        engine = resolve(body.get("model"))
        if isinstance(engine, Response):
            return engine
        if capability not in config.engines[engine]:
            options = sorted(config.engines[engine])
            return _openai_error(
                f"ModelNotDeployedError: model=`{body.get('model')}` does not support `{capability}`. "
                f"Reason: the loaded model offers {options}.",
                400,
            )
        return engine, body

    async def health(request: Request) -> Response:
        return JSONResponse({"unix": time.time()})

    async def models(request: Request) -> Response:
        if not bearer_matches(request, config.api_key):
            return JSONResponse({"detail": "Unauthorized"}, status_code=401)
        data = [
            {"id": name, "object": "model", "owned_by": "infinity", "created": int(time.time()),
             "backend": "torch", "capabilities": sorted(capabilities)}
            for name, capabilities in config.engines.items()
        ]
        return JSONResponse({"object": "list", "data": data})

    async def embeddings(request: Request) -> Response:
        prepared = await prepare(request, "embed")
        if isinstance(prepared, Response):
            return prepared
        engine, body = prepared
        inputs = body.get("input") if isinstance(body.get("input"), list) else [body.get("input")]
        data = [{"object": "embedding", "embedding": [0.6, 0.8], "index": index} for index, _ in enumerate(inputs)]
        return JSONResponse({"object": "list", "data": data, "model": engine, "usage": usage, "id": "infinity-1"})

    async def rerank(request: Request) -> Response:
        prepared = await prepare(request, "rerank")
        if isinstance(prepared, Response):
            return prepared
        engine, body = prepared
        results = [{"relevance_score": 0.9, "index": index, "document": None} for index, _ in enumerate(body.get("documents", []))]
        return JSONResponse({"object": "rerank", "results": results, "model": engine, "usage": usage, "id": "infinity-2"})

    async def classify(request: Request) -> Response:
        prepared = await prepare(request, "classify")
        if isinstance(prepared, Response):
            return prepared
        engine, body = prepared
        labels = [[{"score": 0.7, "label": "positive"}, {"score": 0.3, "label": "negative"}] for _ in body.get("input", [])]
        return JSONResponse({"object": "classify", "data": labels, "model": engine, "usage": usage, "id": "infinity-3"})

    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"detail": "Not Found"}, status_code=404)

    prefix = config.url_prefix
    routes = [
        Route("/health", health, methods=["GET"]),
        Route(f"{prefix}/models", models, methods=["GET"]),
        Route(f"{prefix}/embeddings", embeddings, methods=["POST"]),
        Route(f"{prefix}/rerank", rerank, methods=["POST"]),
        Route(f"{prefix}/classify", classify, methods=["POST"]),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found})
