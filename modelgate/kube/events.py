"""Events in a release's namespace: which ones concern the release, and one-line summaries."""

from __future__ import annotations

from typing import Any


def involved_name(event: dict[str, Any]) -> str:
    """Return the name of the object the event is about."""
    return event.get("involvedObject", {}).get("name", "")


def concerns_release(event: dict[str, Any], deployment: str) -> bool:
    """Tell whether the event is about the release's Deployment, one of its ReplicaSets or pods.

    ReplicaSets are named `<deployment>-<hash>` and their pods `<deployment>-<hash>-<suffix>`.
    """
    name = involved_name(event)
    return name == deployment or name.startswith(f"{deployment}-")


def event_summary(event: dict[str, Any]) -> str:
    """Return a line such as `Warning FailedMount pod/x: message (x3)`."""
    involved = event.get("involvedObject", {})
    count = event.get("count") or (event.get("series") or {}).get("count") or 1
    repeat = f" (x{count})" if count and int(count) > 1 else ""
    return (
        f"{event.get('type', '?')} {event.get('reason', '?')} {involved.get('kind', '?').lower()}/{involved.get('name', '?')}: "
        f"{event.get('message', '')}{repeat}"
    )


def event_time(event: dict[str, Any]) -> str:
    """Return the most recent timestamp the event carries, as the API formats it."""
    return (
        event.get("lastTimestamp")
        or (event.get("series") or {}).get("lastObservedTime")
        or event.get("eventTime")
        or event.get("firstTimestamp")
        or event.get("metadata", {}).get("creationTimestamp")
        or ""
    )
