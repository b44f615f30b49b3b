"""A gateway in front of another double, with the failure modes gateways add.

- `errors_as_200`: returns 200 with `{"error": {...}}` where the upstream returned an error, as some
  API gateways and OpenAI-compatible proxies do.
- `required_key` with `key_status`: rejects requests without the gateway's key (401 or 403).
- `scripted`: per path, returns to give before forwarding: a status code (429, 502, 503, 504 ...)
  or "hang" to wait `hang_s` seconds first, so the client times out.

Every request is counted per path in `hits`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

GATEWAY_MESSAGES = {
    429: "Rate limit reached, retry later",
    502: "Bad gateway: upstream connection reset",
    503: "Service temporarily unavailable",
    504: "Gateway timeout",
}


@dataclass
class ProxyConfig:
    """Where to forward and which failures to add."""

    upstream: str
    errors_as_200: bool = False
    required_key: str | None = None
    key_status: int = 403
    scripted: dict[str, list[int | str]] = field(default_factory=dict)
    hang_s: float = 5.0
    retry_after: str | None = None
    hits: Counter = field(default_factory=Counter)


def build_proxy_app(config: ProxyConfig) -> Starlette:
    """Return the gateway double; it forwards GET and POST with their bodies to `config.upstream`."""

    async def forward(request: Request) -> Response:
        path = request.url.path
        config.hits[path] += 1

        if config.required_key is not None and request.headers.get("authorization") != f"Bearer {config.required_key}":
            body = {"error": {"message": "Forbidden: missing or invalid API key", "type": "auth_error", "code": config.key_status}}
            return JSONResponse(body, status_code=config.key_status)

        script = config.scripted.get(path)
        if script:
            step = script.pop(0)
            if step == "hang":
                await asyncio.sleep(config.hang_s)
            else:
                headers = {"Retry-After": config.retry_after} if config.retry_after else {}
                body = {"error": {"message": GATEWAY_MESSAGES.get(step, "gateway error"), "code": step}}
                return JSONResponse(body, status_code=int(step), headers=headers)

        async with httpx.AsyncClient(trust_env=False) as client:
            upstream = await client.request(
                request.method, f"{config.upstream}{path}", content=await request.body(),
                headers={"content-type": request.headers.get("content-type", "application/json")},
            )

        if config.errors_as_200 and upstream.status_code >= 400:
            try:
                detail = upstream.json()
            except ValueError:
                detail = upstream.text
            message = f"upstream returned {upstream.status_code}: {detail}"
            return JSONResponse({"error": {"message": message, "type": "upstream_error", "code": upstream.status_code}})

        return Response(upstream.content, status_code=upstream.status_code, media_type=upstream.headers.get("content-type"))

    return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])])
