"""Errors a user can cause, raised by pure domain code (no Starlette here).

`frontyard.errors` maps them to translated pages and JSON with their HTTP status, in one place.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request the rules refuse; carries a translated message and an HTTP status."""

    status_code = 400

    def __init__(self, message: Any, **fields: Any) -> None:
        super().__init__(str(message))
        self.message = message
        self.fields = fields

    def __str__(self) -> str:
        return str(self.message)


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the asker)."""

    status_code = 404


class Conflict(DomainError):
    """The action does not fit the current state, e.g. an illegal queue transition."""

    status_code = 409


class ValidationFailed(DomainError):
    """Input that does not pass validation; `fields` maps field names to messages."""

    status_code = 422


class TooManyRequests(DomainError):
    """A rate limit or lockout."""

    status_code = 429


class NotAllowed(DomainError):
    """The asker is known but may not do this (e.g. serve a service not assigned to them)."""

    status_code = 403
