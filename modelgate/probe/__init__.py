"""Probe which OpenAI-compatible endpoints a server really serves, and decide the model type.

Supported means a 2xx response whose body has the endpoint's shape. A route that exists is not
enough, because servers respond "not supported" with 404, 405, 400, 424, 500, 501 or even 200 with
an error body. Modules: `catalog` (endpoints and request bodies), `shapes` (body checks), `verdicts`
(one response to one verdict), `retries` (retry inside a deadline), `served_model` (which model id to
send), `classify` (model type), `runner` (the probe itself) and `shortcuts` (the results alone).
"""

from modelgate.probe.catalog import (
    CHAT,
    CLASSIFY,
    CLASSIFY_V1,
    COMPLETIONS,
    EMBEDDINGS,
    POOLING,
    PREDICT,
    RERANK,
    RERANK_V1,
    SCORE,
    UNKNOWN_TYPE,
)
from modelgate.probe.classify import Classification, classify
from modelgate.probe.runner import EndpointResult, ProbeReport, probe_server
from modelgate.probe.shortcuts import classify_model, probe_endpoints, results_as_dicts

__all__ = [
    "CHAT",
    "CLASSIFY",
    "CLASSIFY_V1",
    "COMPLETIONS",
    "EMBEDDINGS",
    "POOLING",
    "PREDICT",
    "RERANK",
    "RERANK_V1",
    "SCORE",
    "UNKNOWN_TYPE",
    "Classification",
    "EndpointResult",
    "ProbeReport",
    "classify",
    "classify_model",
    "probe_endpoints",
    "probe_server",
    "results_as_dicts",
]
