"""Parse an OpenAI-compatible SSE stream as it arrives and keep the times of token-bearing chunks.

A chunk is token-bearing when it carries generated text: non-empty `text` (completions), non-empty
`delta.content`, `delta.reasoning_content`, `delta.reasoning` or `delta.tool_calls` (chat), or a rise
of `usage.completion_tokens` in a per-chunk usage report. Role-only chunks, empty deltas, usage-only
chunks and SSE comments are not. The chunk's time is when its bytes were read from the socket.
"""

from __future__ import annotations

import asyncio

import orjson

from modelgate.bench.http import Exchange

DONE = b"[DONE]"
REASONING_KEYS = ("reasoning_content", "reasoning")


class StreamExchange(Exchange):
    """A streamed completion: the SSE events are parsed inside the read callback.

    Attributes:
        token_times: read time of each token-bearing chunk (perf_counter seconds).
        token_counts: tokens per token-bearing chunk from per-chunk usage, or None where not reported.
        first_content_at: read time of the first chunk with content or text (reasoning excluded).
        prompt_tokens, completion_tokens: the last usage the server reported, or None.
        finish_reason, saw_done: whether the stream ended as a finished stream should.
        error: the message of an error event inside the stream, or None.
        text_parts: generated text, kept only when `keep_text` is set (tokenizer fallback).
    """

    __slots__ = (
        "buffer",
        "token_times",
        "token_counts",
        "first_content_at",
        "prompt_tokens",
        "completion_tokens",
        "finish_reason",
        "saw_done",
        "error",
        "error_body",
        "text_parts",
        "keep_text",
        "per_chunk_usage",
        "unparsed",
    )

    def __init__(self, done: asyncio.Future, keep_text: bool = True) -> None:
        super().__init__(done)
        self.buffer = b""
        self.token_times: list[float] = []
        self.token_counts: list[int] = []
        self.first_content_at: float | None = None
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None
        self.finish_reason: str | None = None
        self.saw_done = False
        self.error: str | None = None
        self.error_body = b""
        self.text_parts: list[str] = []
        self.keep_text = keep_text
        self.per_chunk_usage = True
        self.unparsed: list[tuple[bytes, float]] = []

    def on_body(self, data: bytes, now: float) -> None:
        # Parsing waits until the event loop has read every socket that is ready now, so a burst of
        # chunks on many connections gets read times that no parsing work has delayed.
        self.unparsed.append((data, now))
        if len(self.unparsed) == 1:
            self.done.get_loop().call_soon(self.parse_unparsed)

    def parse_unparsed(self) -> None:
        """Parse the body pieces read so far, each with its own read time."""
        unparsed, self.unparsed = self.unparsed, []
        for data, now in unparsed:
            self.parse(data, now)

    def parse(self, data: bytes, now: float) -> None:
        """Parse one body piece read at `now`."""
        if self.status != 200:
            if len(self.error_body) < 2000:
                self.error_body += data
            return

        buffer = self.buffer + data if self.buffer else data
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n")
        events = buffer.split(b"\n\n")
        self.buffer = events.pop()
        for event in events:
            # Fast path: one `data: ` line, which is what OpenAI-compatible servers send.
            if event.startswith(b"data: {") and b"\n" not in event:
                try:
                    message = orjson.loads(event[6:])
                except orjson.JSONDecodeError:
                    self.error = f"invalid JSON in stream: {event[:200]!r}"
                    continue
                self.on_message(message, now)
            elif event:
                self.on_event(event, now)

    def on_complete(self, now: float) -> None:
        self.parse_unparsed()
        if self.buffer.strip() and self.status == 200:
            # A last event with no blank line after it still counts: the body ended there.
            self.on_event(self.buffer, now)
            self.buffer = b""
        super().on_complete(now)

    def on_event(self, event: bytes, now: float) -> None:
        """Handle one SSE event; comments (lines starting with ':') and non-data fields are skipped."""
        lines = [line[5:].lstrip(b" ") for line in event.split(b"\n") if line.startswith(b"data:")]
        if not lines:
            return
        payload = b"\n".join(lines)

        if payload == DONE:
            self.saw_done = True
            return
        try:
            message = orjson.loads(payload)
        except orjson.JSONDecodeError:
            self.error = f"invalid JSON in stream: {payload[:200]!r}"
            return
        if not isinstance(message, dict):
            self.error = f"unexpected stream event: {payload[:200]!r}"
            return
        self.on_message(message, now)

    def on_message(self, message: dict, now: float) -> None:
        """Update the state from one parsed chunk."""
        error = message.get("error")
        if error is not None:
            self.error = str(error.get("message", error)) if isinstance(error, dict) else str(error)
            return

        new_tokens = None
        usage = message.get("usage")
        if usage.__class__ is dict:
            prompt = usage.get("prompt_tokens")
            if prompt.__class__ is int:
                self.prompt_tokens = prompt
            completion = usage.get("completion_tokens")
            if completion.__class__ is int:
                new_tokens = completion - (self.completion_tokens or 0)
                self.completion_tokens = completion

        choices = message.get("choices")
        if not choices:
            return
        carries_text = False
        for choice in choices:
            if choice.__class__ is not dict:
                continue
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            if self._read_choice(choice, now):
                carries_text = True

        if carries_text or (new_tokens is not None and new_tokens > 0):
            self.token_times.append(now)
            if new_tokens is None:
                self.per_chunk_usage = False
                self.token_counts.append(0)
            else:
                self.token_counts.append(new_tokens)

    def _read_choice(self, choice: dict, now: float) -> bool:
        text = choice.get("text")
        delta = choice.get("delta")
        reasoning = None
        tool_calls = None
        if isinstance(delta, dict):
            text = delta.get("content")
            reasoning = delta.get(REASONING_KEYS[0]) or delta.get(REASONING_KEYS[1])
            tool_calls = delta.get("tool_calls")

        if text:
            if self.first_content_at is None:
                self.first_content_at = now
            if self.keep_text:
                self.text_parts.append(text)
        if reasoning and self.keep_text:
            self.text_parts.append(reasoning)
        return bool(text or reasoning or tool_calls)

    @property
    def generated_text(self) -> str:
        return "".join(self.text_parts)
