"""Error injection: the next N requests matching (method, path regex) fail or stall on purpose."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Fault:
    method: str  # upper-case HTTP method, or "*" for any
    pattern: re.Pattern[str]
    status: int  # ProblemDetails status to return; 0 = only delay, then serve normally
    remaining: int
    retry_after: int | None = None
    delay_seconds: float = 0.0
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return self.remaining > 0 and self.method in ("*", method) and bool(self.pattern.search(path))


@dataclass
class FaultInjector:
    faults: list[Fault] = field(default_factory=list)

    def add(
        self,
        method: str,
        path_regex: str,
        status: int,
        times: int = 1,
        retry_after: int | None = None,
        delay_seconds: float = 0.0,
    ) -> Fault:
        """Queue a fault. ``status`` ≥ 400 answers with that ProblemDetails (after ``delay_seconds``);
        ``status=0`` with a delay stalls the request and then serves it — a slow upstream / timeout."""
        fault = Fault(
            method=method.upper(),
            pattern=re.compile(path_regex),
            status=status,
            remaining=times,
            retry_after=retry_after,
            delay_seconds=delay_seconds,
        )
        self.faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first armed fault for this request, consuming one of its ``times``."""
        for fault in self.faults:
            if fault.matches(method.upper(), path):
                fault.remaining -= 1
                fault.hits += 1
                return fault
        return None

    def clear(self) -> None:
        self.faults.clear()

    @property
    def pending(self) -> int:
        return sum(f.remaining for f in self.faults)
