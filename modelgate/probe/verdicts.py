"""Turn one HTTP response into a verdict: supported, unsupported or inconclusive.

Servers signal "not supported" in many ways, all read in their code or issue reports or measured on
this project's machines:

- vLLM 0.32: 404 `{"detail": "Not Found"}` when the route is not registered for the model's tasks,
  501 "The model does not support ... API" when it is registered without a handler; releases 0.7
  and 0.8 returned 400 `{"object": "error", "message": "The model does not support ..."}`.
- llama.cpp's server: 501 "This server does not support embeddings. Start it with `--embeddings`".
- llama-cpp-python 0.3: 500 "Llama model must be created with embedding=True ...".
- infinity: 400 "ModelNotDeployedError: model=`m` does not support `rerank` ...".
- text-embeddings-inference: 424 "Model is not an embedding model" or "model is not a re-ranker model".
- Ollama: 400 `"m" does not support chat`.

Responses that mean "try again later" (429, 502, 503, 504) and rejected credentials (401, 403) never
reach this module, because the retry loop handles them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx

class Verdict(StrEnum):
    """The verdict one endpoint's response gives on its API."""

    SUPPORTED = "supported"
    UNSUPPORTED = "unsupported"
    # The server responded, but neither with a valid body nor with a recognised "not supported".
    INCONCLUSIVE = "inconclusive"


# Statuses that mean "no such API here" whatever the body contains, unless it names a missing model.
UNSUPPORTED_STATUSES = frozenset({404, 405, 501})

NOT_SUPPORTED_MESSAGE = re.compile(
    r"does not support|not supported by|is not an? [\w-]+ model|must be created with embedding",
    re.IGNORECASE,
)

# vLLM "The model `m` does not exist.", Ollama `model "m" not found`, infinity "Engine for model name
# `m` not found": the request named a model this endpoint does not know, which tells nothing about
# the API itself.
MODEL_NOT_FOUND_MESSAGE = re.compile(r"\bmodel\b.*\b(does not exist|not found)", re.IGNORECASE | re.DOTALL)

MESSAGE_LIMIT = 300


@dataclass(frozen=True)
class Judgement:
    """The verdict on one response and the error text that explains it."""

    verdict: Verdict
    error: str | None = None


def one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Collapse whitespace and newlines and cut to `limit` characters, so messages fit one log line."""
    return " ".join(text.split())[:limit]


def parse_body(response: httpx.Response) -> Any:
    """Return the JSON body, or None when the body is empty or not JSON."""
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        return None


def error_text(body: Any) -> str | None:
    """Return the message of an error body, or None when the body is not an error.

    Accepts the OpenAI shape (`{"error": {"message": ...}}`), `{"error": "..."}` (TGI, TEI, Ollama's
    native API), vLLM's older `{"object": "error", "message": ...}`, TEI's OpenAI-route
    `{"message": ..., "type": ...}` and FastAPI's `{"detail": ...}`.
    """
    if not isinstance(body, dict):
        return None

    error = body.get("error")
    if isinstance(error, dict):
        return one_line(str(error.get("message") or error))
    if isinstance(error, str) and error:
        return one_line(error)

    if body.get("object") == "error" or ("message" in body and "type" in body):
        return one_line(str(body.get("message")))
    if "detail" in body:
        return one_line(str(body["detail"]))
    return None


def _describe_failure(response: httpx.Response, body: Any) -> str:
    message = error_text(body)
    if message is None:
        message = one_line(response.text) or "empty body"
    return f"HTTP {response.status_code}: {message}"


def judge(response: httpx.Response, has_valid_shape: Callable[[Any], bool]) -> Judgement:
    """Judge the final response (not 401, 403 or a retryable status) of an endpoint.

    Args:
        response: the response.
        has_valid_shape: the endpoint's shape check, called with the parsed JSON body.
    """
    body = parse_body(response)
    status = response.status_code

    if 200 <= status < 300:
        if body is not None and has_valid_shape(body):
            return Judgement(Verdict.SUPPORTED)
        message = error_text(body)
        if message is None:
            return Judgement(Verdict.INCONCLUSIVE, f"HTTP {status} but the body has the wrong shape: {one_line(response.text, 200)}")
        return _judge_message(f"HTTP {status} with an error body: {message}", message, default=Verdict.UNSUPPORTED)

    description = _describe_failure(response, body)
    default = Verdict.UNSUPPORTED if status in UNSUPPORTED_STATUSES else Verdict.INCONCLUSIVE
    return _judge_message(description, description, default=default)


def _judge_message(description: str, message: str, default: Verdict) -> Judgement:
    if NOT_SUPPORTED_MESSAGE.search(message):
        return Judgement(Verdict.UNSUPPORTED, description)
    if MODEL_NOT_FOUND_MESSAGE.search(message):
        return Judgement(Verdict.INCONCLUSIVE, f"model not found by this endpoint ({description})")
    return Judgement(default, description)
