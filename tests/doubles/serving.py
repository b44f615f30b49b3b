"""Serve any ASGI test double over real HTTP on 127.0.0.1 in a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import uvicorn
from starlette.requests import Request


class ServedApp:
    """An ASGI app served by uvicorn on a free loopback port; use as a context manager."""

    def __init__(self, app: Callable) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        """Return the root URL, such as http://127.0.0.1:41234."""
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __enter__(self) -> ServedApp:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("test double did not start within 10 s")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def bearer_matches(request: Request, api_key: str | None) -> bool:
    """Tell whether the request carries `Authorization: Bearer <api_key>` (always True with no key)."""
    return api_key is None or request.headers.get("authorization") == f"Bearer {api_key}"


async def json_body(request: Request) -> dict | None:
    """Return the JSON object body, or None when the body is not a JSON object."""
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
