"""Error injection: requests matching (method, path regex) fail, stall or lose their connection on purpose.

A fault answers an error status (ProblemDetails, optional ``Retry-After``), ``reset`` (the connection is
dropped without an answer) or ``timeout`` (no answer for ``delay_seconds``, then dropped). ``before`` fails
the request without serving it; ``after`` serves it — the tenant changes — and then fails the answer, the
case a client must not repeat blindly. A fault fires ``times`` times, or with a ``probability`` per match.
Rules come from code (``add``), from a TOML file (``[[fault]]`` tables) or from ``/_sandbox/faults``.
"""

from __future__ import annotations

import random
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Action = Literal["reset", "timeout"]
When = Literal["before", "after"]
DEFAULT_TIMEOUT_SECONDS = 30.0  # how long a "timeout" holds a request when no delay is given


@dataclass
class Fault:
    method: str  # upper-case HTTP method, or "*" for any
    pattern: re.Pattern[str]
    status: int  # ProblemDetails status to return; 0 = only delay (or reset/timeout), then as ``action``
    remaining: int | None  # None = no limit (with a probability)
    retry_after: int | None = None
    delay_seconds: float = 0.0
    hits: int = 0
    action: Action | None = None
    when: When = "before"
    probability: float = 1.0

    def matches(self, method: str, path: str) -> bool:
        armed = self.remaining is None or self.remaining > 0
        return armed and self.method in ("*", method) and bool(self.pattern.search(path))

    @property
    def fails(self) -> bool:
        """Whether the client ends up without a normal answer (a pure delay serves normally)."""
        return self.action is not None or self.status >= 400

    def describe(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.pattern.pattern,
            "status": self.action or self.status,
            "when": self.when,
            "remaining": self.remaining,
            "probability": self.probability,
            "retryAfter": self.retry_after,
            "delayMs": round(self.delay_seconds * 1000),
            "hits": self.hits,
        }


class FaultRule(BaseModel):
    """One rule as written in a faults file or posted to ``/_sandbox/faults``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    method: str = "*"
    path: str = Field(min_length=1)  # a regular expression searched in the request path
    status: int | Action = Field(default=0)
    when: When = "before"
    times: int | None = Field(default=None, ge=1)
    probability: float | None = Field(default=None, gt=0, le=1)
    retry_after: int | None = Field(default=None, ge=0, alias="retryAfter")
    delay_ms: int = Field(default=0, ge=0, alias="delayMs")

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        value = value.strip().upper()
        if value != "*" and not re.fullmatch(r"[A-Z]+", value):
            raise ValueError("give an HTTP method such as POST, or *")
        return value

    @field_validator("path")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @field_validator("status")
    @classmethod
    def _status(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value != 0 and not 400 <= value <= 599:
            raise ValueError("give an error status 400-599, 'reset' or 'timeout'")
        return value

    @model_validator(mode="after")
    def _does_something(self) -> FaultRule:
        if self.status == 0 and self.delay_ms == 0:
            raise ValueError("a fault needs a status, 'reset', 'timeout' or a delayMs")
        return self


@dataclass
class FaultInjector:
    faults: list[Fault] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(0))  # seeded: repeatable runs

    def add(
        self,
        method: str,
        path_regex: str,
        status: int | Action,
        times: int | None = 1,
        retry_after: int | None = None,
        delay_seconds: float = 0.0,
        *,
        when: When = "before",
        probability: float | None = None,
    ) -> Fault:
        """Arm a fault. ``status`` ≥ 400 answers with that ProblemDetails (after ``delay_seconds``);
        ``status=0`` with a delay stalls the request and then serves it — a slow upstream; ``"reset"``
        drops the connection; ``"timeout"`` holds it unanswered for ``delay_seconds``. ``when="after"``
        serves the request first. ``times=None`` never runs out (use with ``probability``)."""
        action: Action | None = status if isinstance(status, str) else None
        if action == "timeout" and delay_seconds <= 0:
            delay_seconds = DEFAULT_TIMEOUT_SECONDS
        fault = Fault(
            method=method.upper(),
            pattern=re.compile(path_regex),
            status=0 if action else int(status),
            remaining=times,
            retry_after=retry_after,
            delay_seconds=delay_seconds,
            action=action,
            when=when,
            probability=1.0 if probability is None else probability,
        )
        self.faults.append(fault)
        return fault

    def add_rule(self, rule: FaultRule) -> Fault:
        times = rule.times if rule.times is not None else (None if rule.probability is not None else 1)
        return self.add(
            rule.method,
            rule.path,
            rule.status,
            times=times,
            retry_after=rule.retry_after,
            delay_seconds=rule.delay_ms / 1000,
            when=rule.when,
            probability=rule.probability,
        )

    def take(self, method: str, path: str) -> Fault | None:
        """The first armed fault for this request that fires, consuming one of its ``times``."""
        for fault in self.faults:
            if fault.matches(method.upper(), path):
                if fault.probability < 1.0 and self.rng.random() >= fault.probability:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                fault.hits += 1
                return fault
        return None

    def clear(self) -> None:
        self.faults.clear()

    @property
    def pending(self) -> int:
        """Firings left among the counted faults (unlimited ones are not counted)."""
        return sum(f.remaining for f in self.faults if f.remaining is not None)


class FaultsFileError(ValueError):
    """A faults file that cannot be read; the message names the file and the rule."""


def load_fault_rules(path: Path) -> list[FaultRule]:
    """The ``[[fault]]`` tables of a TOML file."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FaultsFileError(f"{path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise FaultsFileError(f"{path}: {exc}") from None
    unknown = sorted(set(document) - {"fault"})
    if unknown:
        raise FaultsFileError(f"{path}: unknown table {unknown[0]!r}; write each rule as [[fault]]")
    rules: list[FaultRule] = []
    for index, table in enumerate(document.get("fault", [])):
        try:
            rules.append(FaultRule.model_validate(table))
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in error["loc"]) or "rule"
            raise FaultsFileError(f"{path}: fault #{index + 1}: {where}: {error['msg']}") from None
    return rules
