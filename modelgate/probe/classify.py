"""Decide the model type and the capabilities from the endpoint verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from modelgate.probe.catalog import CAPABILITY_ORDER, MODEL_TYPE_RULES, UNKNOWN_TYPE
from modelgate.probe.verdicts import Verdict


class EndpointVerdict(Protocol):
    """The fields of one endpoint result that classification reads."""

    capability: str
    supported: bool
    verdict: str
    error: str | None


@dataclass(frozen=True)
class Classification:
    """The model type, every capability that works, and why the type was chosen.

    Attributes:
        model_type: `llm`, `embedding`, `reranker`, `classifier` or `unknown`.
        capabilities: working capabilities in `CAPABILITY_ORDER`; an LLM that also serves
            embeddings lists both `chat` and `embeddings`.
        reason: the endpoints that decided, or why no type could be decided.
    """

    model_type: str
    capabilities: tuple[str, ...]
    reason: str


def classify(results: Mapping[str, EndpointVerdict]) -> Classification:
    """Return the type of the first rule (llm, embedding, reranker, classifier) with a working endpoint.

    A rule whose endpoints returned no verdict (an unexpected 500, a body of the wrong shape)
    stops the search with `unknown`, because the lower rules cannot rule out the higher type: a chat
    model whose chat endpoint fails must not be reported as an embedding model.
    """
    capabilities = tuple(
        capability
        for capability in CAPABILITY_ORDER
        if any(result.supported and result.capability == capability for result in results.values())
    )

    for model_type, paths in MODEL_TYPE_RULES:
        probed = [path for path in paths if path in results]
        working = [path for path in probed if results[path].supported]
        if working:
            return Classification(model_type, capabilities, f"{', '.join(working)} returned valid bodies")

        undecided = [path for path in probed if results[path].verdict == Verdict.INCONCLUSIVE]
        if undecided:
            details = "; ".join(f"{path}: {results[path].error}" for path in undecided)
            return Classification(UNKNOWN_TYPE, capabilities, f"no verdict on the {model_type} endpoints ({details})")

    return Classification(UNKNOWN_TYPE, capabilities, "no probed endpoint returned a valid body")
