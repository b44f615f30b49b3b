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
        "last_event_at",
        "per_chunk_usage",
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
        self.last_event_at = 0.0
        self.per_chunk_usage = True

    def on_body(self, data: bytes, now: float) -> None:
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
            if event:
                self.on_event(event, now)

    def on_complete(self, now: float) -> None:
        if self.buffer.strip() and self.status == 200:
            # A last event with no blank line after it still counts: the body ended there.
            self.on_event(self.buffer, now)
            self.buffer = b""
        super().on_complete(now)

    def on_event(self, event: bytes, now: float) -> None:
        """Handle one SSE event; comments (lines starting with ':') and non-data fields are skipped."""
        if event.startswith(b"data: ") and b"\n" not in event:
            payload = event[6:]
        else:
            lines = [line[5:].lstrip(b" ") for line in event.split(b"\n") if line.startswith(b"data:")]
            if not lines:
                return
            payload = b"\n".join(lines)

        self.last_event_at = now
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
        if isinstance(usage, dict):
            if isinstance(usage.get("prompt_tokens"), int):
                self.prompt_tokens = usage["prompt_tokens"]
            completion = usage.get("completion_tokens")
            if isinstance(completion, int):
                new_tokens = completion - (self.completion_tokens or 0)
                self.completion_tokens = completion

        carries_text = False
        for choice in message.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            carries_text = self._read_choice(choice, now) or carries_text

        if carries_text or (new_tokens is not None and new_tokens > 0 and message.get("choices")):
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
