"""Checks that a 2xx body has the shape its endpoint promises.

A route that returns 2xx is not enough, because proxies return 200 with an error object and some
servers return 200 with an empty or partial body. Each check looks at the first item only, because every
probe sends a single input.
"""

from __future__ import annotations

import math
from typing import Any


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_vector(value: Any) -> bool:
    return isinstance(value, list) and len(value) > 0 and all(_is_number(item) for item in value)


def _first_item(body: Any, key: str) -> Any:
    """Return `body[key][0]`, or None when the body has no non-empty list under `key`."""
    if not isinstance(body, dict):
        return None
    items = body.get(key)
    if not isinstance(items, list) or not items:
        return None
    return items[0]


def is_embedding_body(body: Any) -> bool:
    """OpenAI embeddings: `data[0].embedding` is a non-empty list of finite numbers."""
    item = _first_item(body, "data")
    return isinstance(item, dict) and _is_vector(item.get("embedding"))


def is_chat_body(body: Any) -> bool:
    """OpenAI chat completions: `choices[0].message` is an object."""
    choice = _first_item(body, "choices")
    return isinstance(choice, dict) and isinstance(choice.get("message"), dict)


def is_completion_body(body: Any) -> bool:
    """OpenAI completions: `choices[0].text` is a string."""
    choice = _first_item(body, "choices")
    return isinstance(choice, dict) and isinstance(choice.get("text"), str)


def is_rerank_body(body: Any) -> bool:
    """Rerank in the Jina and Cohere shape (`results[0].relevance_score`) or the TEI shape (`[{index, score}]`).

    vLLM, infinity and llama.cpp's server use the first shape, and older infinity releases put the
    results under `data`. text-embeddings-inference returns a bare list, and so does llama.cpp's
    server when the request carries `texts`.
    """
    if isinstance(body, list):
        item = body[0] if body else None
        return isinstance(item, dict) and isinstance(item.get("index"), int) and _is_number(item.get("score"))

    result = _first_item(body, "results") or _first_item(body, "data")
    return isinstance(result, dict) and _is_number(result.get("relevance_score"))


def is_score_body(body: Any) -> bool:
    """vLLM score: `data[0].score` is a number."""
    item = _first_item(body, "data")
    return isinstance(item, dict) and _is_number(item.get("score"))


def is_classification_body(body: Any) -> bool:
    """Classification in vLLM's shape (`data[0].probs`) or infinity's (`data[0]` is a list of `{label, score}`)."""
    item = _first_item(body, "data")
    if isinstance(item, dict):
        return _is_vector(item.get("probs"))

    if isinstance(item, list) and item:
        label = item[0]
        return isinstance(label, dict) and isinstance(label.get("label"), str) and _is_number(label.get("score"))
    return False


def is_prediction_body(body: Any) -> bool:
    """text-embeddings-inference predict: a non-empty list of `{label, score}`."""
    if not isinstance(body, list) or not body:
        return False
    item = body[0]
    return isinstance(item, dict) and isinstance(item.get("label"), str) and _is_number(item.get("score"))


def is_pooling_body(body: Any) -> bool:
    """vLLM pooling: `data[0].data` is a vector, or a list of vectors for per-token tasks."""
    item = _first_item(body, "data")
    if not isinstance(item, dict):
        return False

    data = item.get("data")
    if _is_vector(data):
        return True
    return isinstance(data, list) and len(data) > 0 and all(_is_vector(row) for row in data)
