"""Addresses of an OpenAI-compatible server and the HTTP client that talks to it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from modelgate.errors import InvalidInputError


@dataclass(frozen=True)
class ServerAddress:
    """Base URLs of a model server: `root` for /health, `api` for the /v1 routes."""

    root: str
    api: str

    @classmethod
    def parse(cls, url: str) -> ServerAddress:
        """Accept a base URL with or without a trailing `/v1`.

        Raises:
            InvalidInputError: the URL has no http or https scheme, no host, or a port outside 1-65535.
        """
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInputError(f"server URL {url!r} is invalid; pass one such as http://127.0.0.1:8000 or http://host:8000/v1")
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0:
            raise InvalidInputError(f"server URL {url!r} has an invalid port; ports run from 1 to 65535")

        path = parts.path.rstrip("/")
        if path.endswith("/v1"):
            root_path = path[: -len("/v1")]
            api_path = path
        else:
            root_path = path
            api_path = f"{path}/v1"

        origin = f"{parts.scheme}://{parts.netloc}"
        return cls(root=f"{origin}{root_path}", api=f"{origin}{api_path}")


def make_client(api_key: str | None, timeout_s: float, max_connections: int = 100) -> httpx.AsyncClient:
    """Build an async client that sends the API key as a bearer token and never follows redirects."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    return httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(timeout_s), limits=limits, trust_env=False)


def error_message(response: httpx.Response, limit: int = 300) -> str:
    """Extract the error text of an OpenAI-style or FastAPI-style error body, cut to `limit` characters."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:limit]

    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:limit]
        if isinstance(error, str):
            return error[:limit]
        if "detail" in body:
            return str(body["detail"])[:limit]
        if "message" in body:
            return str(body["message"])[:limit]
    return response.text[:limit]
