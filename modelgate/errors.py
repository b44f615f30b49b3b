"""Exceptions raised by the modelgate engine.

Every message names the value that failed and tells the reader what to do next, because these messages reach
people through the Prefect UI and the command line unchanged.
"""

from __future__ import annotations


class ModelgateError(Exception):
    """Base class of every error the engine raises on purpose."""


class InvalidInputError(ModelgateError, ValueError):
    """A parameter, path or option has a value the engine cannot use."""


class EngineNotInstalledError(ModelgateError):
    """The local model server (vLLM) is not installed in the configured interpreter."""


class EngineStartError(ModelgateError):
    """The model server process exited or could not be started."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        super().__init__(f"{message}\n--- last engine log lines ---\n{log_tail}" if log_tail else message)
        self.log_tail = log_tail


class NotReadyError(ModelgateError):
    """The server did not pass the health check in one attempt; a retry may succeed."""


class HealthTimeoutError(ModelgateError):
    """The server did not become healthy before the overall deadline."""


class CredentialsRejectedError(ModelgateError):
    """The server returned 401 or 403 to a request made with the configured credentials."""


class ProbeError(ModelgateError):
    """The endpoint probe could not reach a verdict."""


class BenchmarkError(ModelgateError):
    """The benchmark could not run at all (as opposed to requests that failed inside it)."""
