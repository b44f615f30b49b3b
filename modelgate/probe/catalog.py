"""The endpoints the probe tries: path, capability, minimal request body and shape check.

Paths are the keys of every probe result. A path under `/v1/` is sent to the server's API base,
which is the server root for servers that serve the OpenAI routes without a `/v1` prefix. Any other
path is sent to the server root.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from modelgate.probe import shapes

EMBEDDINGS = "/v1/embeddings"
CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"
RERANK_V1 = "/v1/rerank"
RERANK = "/rerank"
SCORE = "/v1/score"
CLASSIFY = "/classify"
CLASSIFY_V1 = "/v1/classify"
PREDICT = "/predict"
POOLING = "/pooling"

# Capability names in the order reports list them.
CAPABILITY_ORDER = ("chat", "completions", "embeddings", "rerank", "score", "classify", "pooling")

# The first rule with a supported endpoint decides the model type. Pooling alone decides nothing.
MODEL_TYPE_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("llm", (CHAT, COMPLETIONS)),
    ("embedding", (EMBEDDINGS,)),
    ("reranker", (RERANK_V1, RERANK, SCORE)),
    ("classifier", (CLASSIFY, CLASSIFY_V1, PREDICT)),
)
UNKNOWN_TYPE = "unknown"

PROBE_TEXT = "probe"


@dataclass(frozen=True)
class EndpointProbe:
    """One endpoint to try."""

    path: str
    capability: str
    build_body: Callable[[str], dict[str, Any]]
    has_valid_shape: Callable[[Any], bool]

    def url(self, api_base: str, root: str) -> str:
        """Return the URL of this endpoint on a server whose API base and root are given."""
        if self.path.startswith("/v1/"):
            return f"{api_base}{self.path[len('/v1'):]}"
        return f"{root}{self.path}"


def _embedding_body(model: str) -> dict[str, Any]:
    return {"model": model, "input": PROBE_TEXT}


def _chat_body(model: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}


def _completion_body(model: str) -> dict[str, Any]:
    return {"model": model, "prompt": "Hi", "max_tokens": 1}


def _rerank_body(model: str) -> dict[str, Any]:
    # `documents` is the Jina and Cohere field (vLLM, infinity, llama.cpp), and `texts` is the one
    # text-embeddings-inference requires. vLLM 0.32 ignores `texts` (measured), infinity's request
    # model ignores unknown fields, and llama.cpp's server reads `texts` and responds in TEI's shape.
    return {"model": model, "query": PROBE_TEXT, "documents": [PROBE_TEXT], "texts": [PROBE_TEXT]}


def _score_body(model: str) -> dict[str, Any]:
    return {"model": model, "text_1": PROBE_TEXT, "text_2": PROBE_TEXT}


def _classify_body(model: str) -> dict[str, Any]:
    return {"model": model, "input": [PROBE_TEXT]}


def _predict_body(model: str) -> dict[str, Any]:
    # text-embeddings-inference's classification route reads `inputs` and ignores `model`.
    return {"model": model, "inputs": PROBE_TEXT}


def _pooling_body(model: str) -> dict[str, Any]:
    return {"model": model, "input": PROBE_TEXT}


PROBES = (
    EndpointProbe(EMBEDDINGS, "embeddings", _embedding_body, shapes.is_embedding_body),
    EndpointProbe(CHAT, "chat", _chat_body, shapes.is_chat_body),
    EndpointProbe(COMPLETIONS, "completions", _completion_body, shapes.is_completion_body),
    EndpointProbe(RERANK_V1, "rerank", _rerank_body, shapes.is_rerank_body),
    EndpointProbe(RERANK, "rerank", _rerank_body, shapes.is_rerank_body),
    EndpointProbe(SCORE, "score", _score_body, shapes.is_score_body),
    EndpointProbe(CLASSIFY, "classify", _classify_body, shapes.is_classification_body),
    EndpointProbe(CLASSIFY_V1, "classify", _classify_body, shapes.is_classification_body),
    EndpointProbe(PREDICT, "classify", _predict_body, shapes.is_prediction_body),
    EndpointProbe(POOLING, "pooling", _pooling_body, shapes.is_pooling_body),
)

CAPABILITY_BY_PATH = {probe.path: probe.capability for probe in PROBES}
