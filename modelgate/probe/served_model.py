"""Find the model id to probe with, from what the server lists.

Sending a name the server does not serve makes every endpoint return "model not found", which
reads like "unsupported". So the probe reads the served ids first and sends one of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from modelgate.endpoints import ServerAddress
from modelgate.errors import ProbeError
from modelgate.probe.retries import RetryPolicy, send
from modelgate.probe.verdicts import error_text, one_line, parse_body

logger = logging.getLogger(__name__)

# Ollama lists `name:latest` and accepts `name` for it.
OLLAMA_DEFAULT_TAG = ":latest"


@dataclass(frozen=True)
class ServedModel:
    """The model id every probe request sends, and where the OpenAI routes live.

    Attributes:
        model_id: the id sent in every request body.
        api_base: the URL that `/v1/...` paths map to (the server's `/v1`, or its root when the
            server serves the OpenAI routes there).
        listed: every model id the server lists (empty when it lists none).
        source: the request the ids came from, or `requested` when the server lists no models.
    """

    model_id: str
    api_base: str
    listed: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class _Listing:
    entries: tuple[dict[str, Any], ...]
    api_base: str
    source: str


def _parse_model_list(body: Any) -> tuple[dict[str, Any], ...] | None:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return None
    entries = tuple(entry for entry in body["data"] if isinstance(entry, dict) and isinstance(entry.get("id"), str))
    if len(entries) != len(body["data"]):
        return None
    return entries


async def _list_models(client: httpx.AsyncClient, address: ServerAddress, policy: RetryPolicy) -> _Listing | None:
    """Return the served models, or None when the server has no model list route.

    Tries GET `<api>/models` first, then `<root>/models` for servers that serve the OpenAI routes
    with no `/v1` prefix (infinity's default). Last comes text-embeddings-inference's `GET /info`,
    whose `model_id` names its only model.
    """
    candidates = [(f"{address.api}/models", address.api)]
    if address.root != address.api:
        candidates.append((f"{address.root}/models", address.root))

    last_status = None
    for url, api_base in candidates:
        final = await send(client, "GET", url, policy, f"GET {url}")
        status = final.response.status_code
        if status in (404, 405):
            last_status = status
            continue
        entries = _parse_model_list(parse_body(final.response))
        if status != 200 or entries is None:
            message = error_text(parse_body(final.response)) or one_line(final.response.text, 200)
            raise ProbeError(f"GET {url} returned no model list (HTTP {status}): {message}")
        return _Listing(entries, api_base, f"GET {url}")

    info_url = f"{address.root}/info"
    final = await send(client, "GET", info_url, policy, f"GET {info_url}")
    body = parse_body(final.response)
    if final.response.status_code == 200 and isinstance(body, dict) and isinstance(body.get("model_id"), str):
        return _Listing(({"id": body["model_id"]},), address.api, f"GET {info_url}")

    logger.info("%s has no model list (GET %s/models returned HTTP %s)", address.root, address.api, last_status)
    return None


def _aliases(entry: dict[str, Any], requested: str) -> bool:
    """Tell whether a listed entry serves the requested name under another id."""
    served_id = entry["id"]
    if entry.get("root") == requested:
        # vLLM lists the served name as `id` and the model path or hub id it loaded as `root`.
        return True
    if served_id == f"{requested}{OLLAMA_DEFAULT_TAG}":
        return True
    # A hub id such as `org/name` served under `--served-model-name name`.
    return "/" in requested and served_id == requested.rsplit("/", 1)[-1]


def choose_model(entries: tuple[dict[str, Any], ...], requested: str | None, where: str) -> str:
    """Return the id to probe: the requested one, its served alias, or the only one listed.

    Raises:
        ProbeError: the server lists no model, lists several and none was requested, or does not
            serve the requested one. The message lists what it does serve.
    """
    listed = [entry["id"] for entry in entries]
    if not listed:
        raise ProbeError(f"{where} lists no model; the server has not loaded one")

    if requested is None:
        if len(listed) == 1:
            return listed[0]
        raise ProbeError(f"{where} lists several models ({', '.join(listed)}); pass the one to probe with --model")

    if requested in listed:
        return requested

    matches = sorted({entry["id"] for entry in entries if _aliases(entry, requested)})
    if len(matches) == 1:
        logger.info("model %s is served as %s", requested, matches[0])
        return matches[0]

    raise ProbeError(f"model {requested!r} is not served here: {where} lists {', '.join(listed)}; pass one of these")


async def find_served_model(
    client: httpx.AsyncClient, address: ServerAddress, requested: str | None, policy: RetryPolicy
) -> ServedModel:
    """Read the served model ids and pick the one to probe.

    Raises:
        CredentialsRejectedError: the model list needs a key that was not sent or not accepted.
        ProbeError: the server is unreachable, lists no usable model, or does not serve `requested`.
    """
    listing = await _list_models(client, address, policy)
    if listing is None:
        if requested is None:
            raise ProbeError(
                f"{address.api}/models does not exist and {address.root}/info names no model; "
                "pass the served model name with --model"
            )
        logger.warning("%s lists no models; probing with the requested name %s", address.root, requested)
        return ServedModel(requested, address.api, (), "requested")

    model_id = choose_model(listing.entries, requested, listing.source)
    listed = tuple(entry["id"] for entry in listing.entries)
    return ServedModel(model_id, listing.api_base, listed, listing.source)
