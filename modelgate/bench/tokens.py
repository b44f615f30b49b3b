"""Token counts when the server's usage is missing: the server's own /tokenize route, once per text."""

from __future__ import annotations

import asyncio
import logging

import orjson

from modelgate.bench.http import BodyExchange, ConnectionPool, RequestFailed
from modelgate.bench.workload import Inputs, synthetic_text

logger = logging.getLogger(__name__)

# Requests in flight while counting tokens after the run.
TOKENIZE_CONCURRENCY = 8

# The calibration sample: a synthetic text no request sends, long enough to average over many words.
CALIBRATION_INDEX = 2_000_000_000
CALIBRATION_WORDS = 512


async def tokenize_count(pool: ConnectionPool, path: str, model: str, text: str, timeout_s: float) -> int | None:
    """Return the token count of `text` from POST `path` (vLLM's /tokenize), or None when it fails."""
    body = orjson.dumps({"model": model, "prompt": text, "add_special_tokens": False})
    loop = asyncio.get_running_loop()
    try:
        exchange = await pool.send(pool.build_request(path, body), lambda: BodyExchange(loop.create_future()), timeout_s)
    except RequestFailed:
        return None
    if exchange.status != 200:
        return None
    try:
        parsed = orjson.loads(exchange.body)
    except orjson.JSONDecodeError:
        return None
    if isinstance(parsed.get("count"), int):
        return parsed["count"]
    tokens = parsed.get("tokens")
    return len(tokens) if isinstance(tokens, list) else None


async def count_with_server(pool: ConnectionPool, path: str, model: str, texts: list[str], timeout_s: float) -> list[int | None] | None:
    """Count the tokens of each text with the server's tokenizer; None when the server has no /tokenize.

    The first text decides: when it cannot be counted, no other request is sent.
    """
    if not texts:
        return []
    first = await tokenize_count(pool, path, model, texts[0], timeout_s)
    if first is None:
        logger.info("no usable %s on the server; output tokens fall back to the chunk count", path)
        return None

    gate = asyncio.Semaphore(TOKENIZE_CONCURRENCY)

    async def one(text: str) -> int | None:
        async with gate:
            return await tokenize_count(pool, path, model, text, timeout_s)

    rest = await asyncio.gather(*(one(text) for text in texts[1:]))
    return [first, *rest]


async def calibrate_inputs(pool: ConnectionPool, path: str, model: str, inputs: Inputs, timeout_s: float) -> bool:
    """Fit synthetic inputs to the server's tokenizer so each has `inputs.tokens` tokens, near enough.

    Returns:
        True when the server's /tokenize counted a sample, False when inputs stay one word per token.
    """
    if inputs.texts is not None:
        return False
    sample = synthetic_text(CALIBRATION_INDEX, CALIBRATION_WORDS, inputs.seed)
    counted = await tokenize_count(pool, path, model, sample, timeout_s)
    if not counted:
        return False
    inputs.calibrate(counted / CALIBRATION_WORDS)
    return True
