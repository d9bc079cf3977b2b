"""Errors raised by engine commands.

Each carries the Camunda 7 exception type name the REST layer reports, and an
HTTP status, so ``api/errors.py`` can translate them without a lookup table.
Messages are plain English sentences that say what is wrong and with which id;
the refusals clerks meet also carry a ``code`` and ``params`` that the pages
translate (``api/web/messages.py``).
"""
from __future__ import annotations


class EngineError(Exception):
    status = 500
    camunda_type = "ProcessEngineException"

    def __init__(self, message: str, *, code: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.message = message
        #: a stable name for the refusal and its values, so pages can say it in the clerk's language
        self.code = code
        self.params = params


class InvalidInput(EngineError):
    """The caller sent something malformed or inconsistent."""

    status = 400
    camunda_type = "InvalidRequestException"


class BadUserRequest(EngineError):
    """The request is well-formed but not allowed in the current state."""

    status = 400
    camunda_type = "BadUserRequestException"


class NotFound(EngineError):
    status = 404
    camunda_type = "InvalidRequestException"


class Forbidden(EngineError):
    status = 403
    camunda_type = "AuthorizationException"


class Conflict(EngineError):
    """Another command changed the same instance first; nothing was written."""

    status = 409
    camunda_type = "OptimisticLockingException"


class DeploymentError(EngineError):
    """A BPMN resource failed parsing or validation; carries per-problem details."""

    status = 400
    camunda_type = "ParseException"

    def __init__(self, message: str, problems: list[dict] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class ProcessFailure(EngineError):
    """Running the model failed (script or expression error); the command was rolled back."""

    status = 400
    camunda_type = "ProcessEngineException"
