"""A streaming OpenAI-compatible test server with exact timing, over real HTTP/1.1 on 127.0.0.1.

It streams like vLLM 0.32 does: HTTP/1.1 chunked `text/event-stream`, a role-only first chat chunk
sent at once, `data: {json}` events separated by blank lines, per-chunk usage when the request asks
for `continuous_usage_stats`, a usage-only final chunk for `include_usage`, then `data: [DONE]`.
Errors after the 200 status are an `{"error": {...}}` event followed by `[DONE]`, as vLLM sends them.

Token i (from 0) is written at `received + ttft_s + i * itl_s`: absolute times from the request's
arrival, so one late timer does not delay the ones after it. Every write time is recorded, so a
benchmark can compare what a client measured with what really happened on this side.

Run in a thread for tests (`StreamingDouble`), or as a process for benchmarks:
`python -m tests.doubles.sse_server --port 8100 --ttft-ms 50 --itl-ms 10 --tokens 64`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from dataclasses import dataclass, field

import httptools

perf_counter = time.perf_counter


@dataclass
class StreamConfig:
    """How the double streams; tests may change fields while it runs."""

    served_name: str = "test-model"
    ttft_s: float = 0.05
    itl_s: float = 0.01
    tokens: int | None = None  # output tokens per request; None: the request's max_tokens
    tokens_per_chunk: int = 1
    role_chunk: bool = True  # chat: a role-only chunk with empty content, sent at once
    comment_first: bool = False  # an SSE comment line before any data
    reasoning_tokens: int = 0  # the first n tokens go to delta.reasoning_content
    usage: str = "auto"  # auto: as the request's stream_options request it; "final": only a final usage chunk; "none": never
    error_after_tokens: int | None = None  # send an error event (then [DONE]) after n tokens
    truncate_after_tokens: int | None = None  # close the connection mid-stream after n tokens
    stall_after_tokens: int | None = None  # stop sending after n tokens and keep the connection open
    no_done: bool = False  # end the body without [DONE] and without finish_reason
    max_in_flight: int | None = None  # respond 503 while this many requests are already in flight
    tokenize: bool = True  # serve POST /tokenize (count = words in the prompt × tokens_per_word)
    tokens_per_word: int = 1
    reject_fields: tuple[str, ...] = ()  # respond 400 to a request with any of these body fields
    # What happened, filled while it runs:
    in_flight: int = 0
    max_seen_in_flight: int = 0
    requests: list[dict] = field(default_factory=list)
    keep_requests: bool = True  # append each request's body to `requests`
    record_timing: bool = True
    first_token_delay_ms: list[float] = field(default_factory=list)  # real write time - arrival
    itl_ms: list[float] = field(default_factory=list)  # real gaps between token writes


def _chunked(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def _event(message: dict) -> bytes:
    return _chunked(b"data: " + json.dumps(message, separators=(",", ":")).encode() + b"\n\n")


DONE_EVENT = _chunked(b"data: [DONE]\n\n")
END_OF_BODY = b"0\r\n\r\n"
STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
    b"transfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n"
)
STATUS_TEXT = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}


def json_response(status: int, body: dict) -> bytes:
    """Return a complete HTTP/1.1 JSON response."""
    payload = json.dumps(body).encode()
    head = f"HTTP/1.1 {status} {STATUS_TEXT.get(status, 'Error')}\r\ncontent-type: application/json\r\ncontent-length: {len(payload)}\r\n\r\n"
    return head.encode() + payload


def error_body(message: str, error_type: str, code: int) -> dict:
    return {"error": {"message": message, "type": error_type, "param": None, "code": code}}


class _Stream:
    """One streamed response: writes its chunks on loop timers at absolute times."""

    def __init__(self, server: _ServerConnection, body: dict, chat: bool, received: float) -> None:
        self.server = server
        self.config = server.config
        self.chat = chat
        self.received = received
        self.total = self.config.tokens or int(body.get("max_tokens") or body.get("max_completion_tokens") or 16)
        options = body.get("stream_options") or {}
        self.continuous = self.config.usage == "auto" and bool(options.get("continuous_usage_stats"))
        self.final_usage = self.config.usage == "final" or (self.config.usage == "auto" and bool(options.get("include_usage")))
        prompt = body.get("prompt") or " ".join(str(m.get("content", "")) for m in body.get("messages", []))
        self.prompt_tokens = len(str(prompt).split()) + 2
        self.model = body.get("model")
        self.sent = 0
        self.last_write = 0.0

    def start(self) -> None:
        server = self.server
        server.write(STREAM_HEAD)
        if self.config.comment_first:
            server.write(_chunked(b": keep-alive\n\n"))
        if self.chat and self.config.role_chunk:
            delta = {"role": "assistant", "content": ""}
            server.write(_event(self.message(delta, None, 0)))
        self.schedule_next()

    def schedule_next(self) -> None:
        when = self.received + self.config.ttft_s + (self.sent // self.config.tokens_per_chunk) * self.config.itl_s
        loop = self.server.loop
        loop.call_at(loop.time() + (when - perf_counter()), self.write_chunk)

    def message(self, delta_or_text, finish: str | None, completion_tokens: int) -> dict:
        if self.chat:
            choice = {"index": 0, "delta": delta_or_text, "logprobs": None, "finish_reason": finish}
            message = {"id": "chatcmpl-double", "object": "chat.completion.chunk", "created": 0, "model": self.model, "choices": [choice]}
        else:
            choice = {"index": 0, "text": delta_or_text, "logprobs": None, "finish_reason": finish, "stop_reason": None}
            message = {"id": "cmpl-double", "object": "text_completion", "created": 0, "model": self.model, "choices": [choice]}
        if self.continuous:
            message["usage"] = self.usage(completion_tokens)
        return message

    def usage(self, completion_tokens: int) -> dict:
        return {"prompt_tokens": self.prompt_tokens, "total_tokens": self.prompt_tokens + completion_tokens, "completion_tokens": completion_tokens}

    def write_chunk(self) -> None:
        server = self.server
        if server.closed:
            return
        config = self.config
        count = min(config.tokens_per_chunk, self.total - self.sent)
        first = self.sent
        self.sent += count
        finish = "length" if self.sent >= self.total and not config.no_done else None
        text = "".join(f" w{first + i}" for i in range(count))
        if self.chat:
            key = "reasoning_content" if first < config.reasoning_tokens else "content"
            payload = self.message({key: text}, finish, self.sent)
        else:
            payload = self.message(text, finish, self.sent)
        server.write(_event(payload))

        now = perf_counter()
        if config.record_timing:
            if first == 0:
                config.first_token_delay_ms.append((now - self.received) * 1000)
            else:
                config.itl_ms.append((now - self.last_write) * 1000)
        self.last_write = now

        if config.error_after_tokens is not None and self.sent >= config.error_after_tokens:
            server.write(_event(error_body("The engine failed while generating.", "InternalServerError", 500)) + DONE_EVENT + END_OF_BODY)
            return server.finish_request()
        if config.truncate_after_tokens is not None and self.sent >= config.truncate_after_tokens:
            return server.abort()
        if config.stall_after_tokens is not None and self.sent >= config.stall_after_tokens:
            return None
        if self.sent < self.total:
            return self.schedule_next()

        tail = b""
        if self.final_usage:
            tail += _event({"id": "x", "object": "chat.completion.chunk", "created": 0, "model": self.model, "choices": [], "usage": self.usage(self.sent)})
        if not config.no_done:
            tail += DONE_EVENT
        server.write(tail + END_OF_BODY)
        server.finish_request()


class _ServerConnection(asyncio.Protocol):
    """One client connection: parses requests with httptools and responds to them one at a time."""

    def __init__(self, config: StreamConfig) -> None:
        self.config = config
        self.loop = asyncio.get_running_loop()
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.url = b""
        self.method = b""
        self.body: list[bytes] = []
        self.received = 0.0
        self.busy = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received = perf_counter()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.write(json_response(400, error_body("malformed HTTP request", "BadRequestError", 400)))
            self.abort()

    def connection_lost(self, exc) -> None:
        if self.busy:
            self.finish_request()
        self.closed = True

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        url, self.url = self.url, b""
        raw, self.body = b"".join(self.body), []
        self.method = self.parser.get_method()
        self.handle(url.split(b"?")[0].decode(), raw)

    def write(self, data: bytes) -> None:
        if not self.closed:
            self.transport.write(data)

    def abort(self) -> None:
        self.closed = True
        self.transport.abort()

    def finish_request(self) -> None:
        if self.busy:
            self.busy = False
            self.config.in_flight -= 1

    def handle(self, path: str, raw: bytes) -> None:
        config = self.config
        if self.method == b"GET" and path == "/health":
            return self.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        if self.method == b"GET" and path == "/v1/models":
            entry = {"id": config.served_name, "object": "model", "owned_by": "vllm", "root": "/models/test", "max_model_len": 4096}
            return self.write(json_response(200, {"object": "list", "data": [entry]}))
        if self.method != b"POST" or path not in ("/v1/chat/completions", "/v1/completions", "/tokenize", "/v1/embeddings"):
            return self.write(json_response(404, {"detail": "Not Found"}))
        try:
            body = json.loads(raw)
        except ValueError:
            return self.write(json_response(400, error_body("Invalid JSON body", "BadRequestError", 400)))
        if path == "/v1/embeddings":
            # A generation model: vLLM 0.32 returns 404 on the embeddings route.
            return self.write(json_response(404, {"detail": "Not Found"}))
        if path == "/tokenize":
            if not config.tokenize:
                return self.write(json_response(404, {"detail": "Not Found"}))
            count = len(str(body.get("prompt", "")).split()) * config.tokens_per_word
            return self.write(json_response(200, {"count": count, "max_model_len": 4096, "tokens": list(range(count))}))
        if body.get("model") != config.served_name:
            return self.write(json_response(404, error_body(f"The model `{body.get('model')}` does not exist.", "NotFoundError", 404)))

        rejected = [name for name in config.reject_fields if name in body or name in (body.get("stream_options") or {})]
        if rejected:
            return self.write(json_response(400, error_body(f"Unknown field: {rejected[0]}", "BadRequestError", 400)))
        if config.keep_requests:
            config.requests.append({"path": path, "body": body, "received": self.received})
        if config.max_in_flight is not None and config.in_flight >= config.max_in_flight:
            return self.write(json_response(503, error_body("The server is overloaded.", "ServiceUnavailableError", 503)))
        self.busy = True
        config.in_flight += 1
        config.max_seen_in_flight = max(config.max_seen_in_flight, config.in_flight)
        chat = path.endswith("chat/completions")
        if body.get("stream"):
            return _Stream(self, body, chat, self.received).start()
        tokens = config.tokens or int(body.get("max_tokens") or 16)
        delay = config.ttft_s + (tokens - 1) * config.itl_s
        self.loop.call_later(delay, self.respond_whole, chat, tokens, body)

    def respond_whole(self, chat: bool, tokens: int, body: dict) -> None:
        """Send a non-streamed response of `tokens` tokens, as vLLM does for `stream: false`."""
        text = "".join(f" w{i}" for i in range(tokens))
        usage = {"prompt_tokens": 5, "completion_tokens": tokens, "total_tokens": 5 + tokens}
        if chat:
            choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "length"}
        else:
            choice = {"index": 0, "text": text, "finish_reason": "length"}
        self.write(json_response(200, {"id": "double", "object": "chat.completion" if chat else "text_completion", "model": body.get("model"), "choices": [choice], "usage": usage}))
        self.finish_request()


async def serve(config: StreamConfig, host: str = "127.0.0.1", port: int = 0) -> asyncio.AbstractServer:
    """Start serving `config` and return the asyncio server."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _ServerConnection(config), host, port, backlog=4096)


class StreamingDouble:
    """The double on its own event loop in a background thread; use as a context manager."""

    def __init__(self, config: StreamConfig | None = None) -> None:
        self.config = config or StreamConfig()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncio.AbstractServer | None = None

    @property
    def base_url(self) -> str:
        """Return the root URL, such as http://127.0.0.1:41234."""
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    def __enter__(self) -> StreamingDouble:
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(serve(self.config), self.loop).result(timeout=10)
        return self

    def __exit__(self, *exc_info) -> None:
        async def stop() -> None:
            self.server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the exact-timing streaming double on 127.0.0.1.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ttft-ms", type=float, default=50.0)
    parser.add_argument("--itl-ms", type=float, default=10.0)
    parser.add_argument("--tokens", type=int, default=None, help="output tokens per request (default: max_tokens)")
    parser.add_argument("--served-name", default="test-model")
    parser.add_argument("--timing-out", help="write the real first-token delays and gaps (JSON) here on SIGTERM")
    args = parser.parse_args()

    import signal

    import uvloop

    config = StreamConfig(served_name=args.served_name, ttft_s=args.ttft_ms / 1000, itl_s=args.itl_ms / 1000, tokens=args.tokens)
    config.record_timing = bool(args.timing_out)
    config.keep_requests = False

    async def run() -> None:
        server = await serve(config, port=args.port)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        server.close()

    uvloop.run(run())
    if args.timing_out:
        with open(args.timing_out, "w") as handle:
            json.dump({"first_token_delay_ms": config.first_token_delay_ms, "itl_ms": config.itl_ms}, handle)


if __name__ == "__main__":
    main()
