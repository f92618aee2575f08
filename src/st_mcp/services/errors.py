"""Errors the services raise for the model to read.

``UserInputError`` means the request itself is wrong or cannot be done as asked; its message is shown
to the model verbatim and always says what to do next. Anything else is "we failed": the surface logs
it with an id and tells the model only that something went wrong on our side.
"""

from __future__ import annotations

from typing import Any


class UserInputError(Exception):
    """The caller's input is wrong or the request cannot be honoured; the message carries a next step."""

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


class NotFound(UserInputError):
    """An id the caller gave does not exist."""


class Refused(UserInputError):
    """A business rule refuses the request (do-not-service, out of area, window taken, …)."""


class UpstreamBusy(UserInputError):
    """ServiceTitan is rate limiting or unreachable; the model should retry shortly."""


class Blocked(Refused):
    """The compliance gate refused (opted out, quiet hours, touch cap, taken over); audited as ``blocked``.

    ``rule`` names the rule that refused (``opt_out``, ``quiet_hours``, ``touch_cap``, ``takeover``) and
    ``opens_at`` says when a send would be allowed again, where that is known.
    """

    def __init__(self, message: str, *, rule: str, interaction_id: str | None = None, **details: Any) -> None:
        super().__init__(message, details={"rule": rule, **details})
        self.rule = rule
        self.interaction_id = interaction_id
