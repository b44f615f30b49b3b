"""Per-request LLM metrics derived from the times of token-bearing chunks.

Rules (docs/metrics.md has the full definitions):
- TTFT: request start to the first token-bearing chunk (text, content, reasoning or tool calls).
- TTFCT: request start to the first chunk with content or text, reasoning excluded.
- E2EL: request start to the last byte of the response.
- TPOT: (E2EL - TTFT) / (output tokens - 1), for requests with at least 2 output tokens.
- chunk ITL: one sample per gap between two token-bearing chunks.
- ITL (per token): a gap before a chunk that carries k tokens gives k samples of gap / k. With
  per-chunk usage, k is exact. Without it, every chunk is taken to carry output tokens / chunks.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class StreamMetrics:
    """The latencies of one streamed request in ms; None where the request had too few tokens."""

    ttft_ms: float | None
    ttfct_ms: float | None
    e2el_ms: float
    tpot_ms: float | None
    itl_ms: list[float] = field(default_factory=list)
    chunk_itl_ms: list[float] = field(default_factory=list)


def per_token_gaps(token_times: list[float], token_counts: list[int] | None, output_tokens: int) -> list[float]:
    """Return per-token inter-token latencies in ms following the rule in the module docstring.

    Args:
        token_times: read times (s) of the token-bearing chunks.
        token_counts: tokens per chunk from per-chunk usage, or None when the server did not send it.
        output_tokens: the request's output token count.
    """
    if len(token_times) < 2:
        return []

    gaps: list[float] = []
    if token_counts is not None:
        # A chunk with text but no new token (the detokenizer released held-back text) adds its gap
        # to the next chunk that carries tokens.
        previous = token_times[0]
        for when, count in zip(token_times[1:], token_counts[1:]):
            if count <= 0:
                continue
            sample = (when - previous) * 1000 / count
            gaps.extend([sample] * count)
            previous = when
        return gaps

    tokens_per_chunk = max(output_tokens, len(token_times)) / len(token_times)
    for previous, when in zip(token_times, token_times[1:]):
        gaps.append((when - previous) * 1000 / tokens_per_chunk)
    return gaps


def stream_metrics(
    start: float,
    end: float,
    token_times: list[float],
    token_counts: list[int] | None,
    first_content_at: float | None,
    output_tokens: int,
) -> StreamMetrics:
    """Derive the latencies of one successful streamed request.

    Args:
        start: when the request started (s, perf_counter).
        end: when the last byte of the response was read (s).
        token_times: read times of the token-bearing chunks; at least one.
        token_counts: tokens per chunk from per-chunk usage, or None.
        first_content_at: read time of the first content chunk, or None when only reasoning came.
        output_tokens: the output token count.
    """
    ttft_ms = (token_times[0] - start) * 1000
    e2el_ms = (end - start) * 1000
    tpot_ms = (e2el_ms - ttft_ms) / (output_tokens - 1) if output_tokens >= 2 else None
    ttfct_ms = (first_content_at - start) * 1000 if first_content_at is not None else None
    chunk_itl_ms = [(when - previous) * 1000 for previous, when in zip(token_times, token_times[1:])]
    return StreamMetrics(
        ttft_ms=ttft_ms,
        ttfct_ms=ttfct_ms,
        e2el_ms=e2el_ms,
        tpot_ms=tpot_ms,
        itl_ms=per_token_gaps(token_times, token_counts, output_tokens),
        chunk_itl_ms=chunk_itl_ms,
    )
