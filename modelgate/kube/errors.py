"""Exceptions of the Kubernetes runtime."""

from __future__ import annotations

from modelgate.errors import ModelgateError


class KubeApiError(ModelgateError):
    """The Kubernetes API could not be reached or rejected a request; `status` is the HTTP status or 0."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class ReleaseFailedError(ModelgateError):
    """A pod or the Deployment of a release reached a state that waiting will not fix.

    `reason` is the Kubernetes reason, such as CrashLoopBackOff, ImagePullBackOff, ErrImagePull,
    Unschedulable, OOMKilled or FailedMount; `log_tail` contains the container's last log lines when read.
    """

    def __init__(self, reason: str, message: str, log_tail: str = "") -> None:
        full = f"{message}\n--- last container log lines ---\n{log_tail}" if log_tail else message
        super().__init__(full)
        self.reason = reason
        self.log_tail = log_tail


class ReleaseTimeoutError(ModelgateError):
    """The release's pods were not Ready before the deadline, with no failure seen."""
