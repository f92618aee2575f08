"""The audit trail's rules, pure: what an event holds, how it is masked, how records are chained.

Every record carries ``prev_hash`` (the hash of the record before it; 64 zeros for the first) and
``hash = sha256(prev_hash + canonical(record without hash))``, where ``canonical`` is JSON with sorted
keys, no whitespace and times in ISO 8601 UTC. Changing, removing or moving any record therefore breaks
the chain at that record, and anyone holding an export can check it with a few lines of code.

Masking happens before anything is stored: phone numbers anywhere in strings keep only their last four
digits ("(***) ***-0118", "+1******0118"), e-mail addresses keep their first letter and domain
("j***@example.com"), and values under keys that name secrets (token, secret, password, authorization,
API keys) are replaced outright. Over-masking (a ten-digit reference number) is the safe mistake.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import phonenumbers
from pydantic_core import to_jsonable_python

GENESIS_HASH = "0" * 64

Kind = Literal["tool_call", "resource_read", "prompt_get", "completion", "compliance", "permission"]
Outcome = Literal["ok", "denied", "blocked", "error"]
# The first four are requests through the guard (server/guard.py), one record per request.
KINDS: tuple[str, ...] = (
    "tool_call",
    "resource_read",
    "prompt_get",
    "completion",
    "compliance",
    "permission",
)
OUTCOMES: tuple[str, ...] = ("ok", "denied", "blocked", "error")

REDACTED = "[redacted]"
_SECRET_KEY = re.compile(
    r"token|secret|passw(or)?d|authori[sz]ation|api[_-]?key|app[_-]?key|private[_-]?key|cookie|credential|signature",
    re.IGNORECASE,
)
_EMAIL = re.compile(
    r"(?<![\w.%+-])([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
)
_DIGITS = re.compile(r"\d")
_MIN_PHONE_DIGITS = 7
# A URL's query and fragment carry its signatures and tokens (X-Amz-Signature=…, ?token=…): an audit
# record keeps where it pointed (scheme, host, path), never the credential in it.
_URL_QUERY = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s?#\"'<>]+)[?#][^\s\"'<>]*", re.IGNORECASE)
MAX_FIELD_CHARS = 500  # per string in an audit record; a 10,000-character argument is summarized


# -- masking ----------------------------------------------------------------------------------------------
def mask_text(text: str) -> str:
    """Phone numbers and e-mail addresses in free text, masked; everything else unchanged."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    if len(_DIGITS.findall(text)) < _MIN_PHONE_DIGITS:
        return text
    pieces: list[str] = []
    done = 0
    for match in phonenumbers.PhoneNumberMatcher(text, "US", leniency=phonenumbers.Leniency.POSSIBLE):
        if _glued_to_a_word(text, match.start, match.end):
            continue  # digits inside a token such as an error id "6399672d3a50" are not a phone number
        pieces.append(text[done : match.start])
        pieces.append(_mask_number(match.raw_string, match.number.country_code))
        done = match.end
    pieces.append(text[done:])
    return "".join(pieces)


def _glued_to_a_word(text: str, start: int, end: int) -> bool:
    """libphonenumber's own test at VALID leniency: a number is not part of a longer word."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return any(char.isalnum() or char == "_" for char in (before, after))


def _mask_number(raw: str, country_code: int | None) -> str:
    """Keep the layout, a leading '+<country code>' and the last four digits; star the other digits."""
    total = len(_DIGITS.findall(raw))
    keep_head = len(str(country_code)) if raw.lstrip().startswith("+") and country_code else 0
    out: list[str] = []
    seen = 0
    for char in raw:
        if char.isdigit():
            seen += 1
            out.append(char if seen <= keep_head or seen > total - 4 else "*")
        else:
            out.append(char)
    return "".join(out)


def _capped(text: str) -> str:
    if len(text) <= MAX_FIELD_CHARS:
        return text
    return f"{text[:MAX_FIELD_CHARS]}…[+{len(text) - MAX_FIELD_CHARS} characters]"


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def mask(value: Any) -> Any:
    """A JSON-able copy of ``value`` with phones, e-mails and secrets masked, recursively."""
    return _mask(to_jsonable_python(value, fallback=str))


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(_capped(_URL_QUERY.sub(r"\1?[redacted]", value)))
    if isinstance(value, Mapping):
        return {
            str(key): REDACTED if is_secret_key(str(key)) and item is not None else _mask(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_mask(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN and infinities have no canonical JSON spelling
    return value


# -- canonical form and hashing ---------------------------------------------------------------------------
def iso(moment: datetime) -> str:
    """One spelling per instant: UTC, microseconds, '+00:00' (a naive time is taken to be UTC)."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat(timespec="microseconds")


def canonical(value: Any) -> str:
    """JSON with sorted keys, no whitespace, times as ISO 8601 UTC; the same bytes on every machine."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_encode,
    )


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(f"{type(value).__name__} is not canonical JSON")


def chain_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(body)).encode("utf-8")).hexdigest()


# -- events and records -----------------------------------------------------------------------------------
def new_event_id() -> str:
    return f"aud_{uuid.uuid4().hex[:20]}"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What happened, already masked (build it with ``audit_event``); the store gives it a place."""

    at: datetime
    kind: str
    principal: str
    role: str
    transport: str
    tool: str  # the tool, or the name of a decision outside a tool call ("gate.quiet_hours")
    arguments: dict[str, Any]
    outcome: str
    reason: str | None = None
    interaction_id: str | None = None
    upstream_requests: int = 0
    duration_ms: float = 0.0
    id: str = field(default_factory=new_event_id)


def audit_event(
    *,
    at: datetime,
    kind: str,
    principal: str,
    role: str,
    transport: str,
    tool: str,
    arguments: Mapping[str, Any] | None,
    outcome: str,
    reason: str | None = None,
    interaction_id: str | None = None,
    upstream_requests: int = 0,
    duration_ms: float = 0.0,
) -> AuditEvent:
    """An event with its arguments and reason masked, its time in UTC and its duration rounded."""
    if kind not in KINDS:
        raise ValueError(f"unknown audit kind {kind!r}; one of {', '.join(KINDS)}")
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
    masked = mask(dict(arguments or {}))
    return AuditEvent(
        at=datetime.fromisoformat(iso(at)),
        kind=kind,
        principal=principal,
        role=role,
        transport=transport,
        tool=tool,
        arguments=masked,
        outcome=outcome,
        reason=mask_text(reason) if reason else None,
        interaction_id=interaction_id,
        upstream_requests=int(upstream_requests),
        duration_ms=round(float(duration_ms), 3),
    )


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An event in its place in the chain."""

    seq: int
    id: str
    at: datetime
    kind: str
    principal: str
    role: str
    transport: str
    tool: str
    arguments: dict[str, Any]
    outcome: str
    reason: str | None
    interaction_id: str | None
    upstream_requests: int
    duration_ms: float
    prev_hash: str
    hash: str

    def body(self) -> dict[str, Any]:
        """Every field but ``hash``: what the hash covers."""
        return record_body(asdict(self))

    def expected_hash(self) -> str:
        return chain_hash(self.prev_hash, self.body())

    def as_json(self) -> dict[str, Any]:
        """The export form (one JSON Lines row): ``hash`` checks as sha256(prev_hash + canonical(rest))."""
        return {**self.body(), "hash": self.hash}


def record_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    body = {name: fields[name] for name in _BODY_FIELDS}
    body["at"] = iso(body["at"]) if isinstance(body["at"], datetime) else body["at"]
    body["duration_ms"] = float(body["duration_ms"])
    body["upstream_requests"] = int(body["upstream_requests"])
    return body


_BODY_FIELDS = (
    "seq", "id", "at", "kind", "principal", "role", "transport", "tool", "arguments", "outcome", "reason",
    "interaction_id", "upstream_requests", "duration_ms", "prev_hash",
)  # fmt: skip


def seal(event: AuditEvent, *, seq: int, prev_hash: str) -> AuditRecord:
    """Give ``event`` its place after the record whose hash is ``prev_hash``."""
    fields = {**{name: getattr(event, name) for name in AuditEvent.__dataclass_fields__}}
    fields.update(seq=seq, prev_hash=prev_hash)
    digest = chain_hash(prev_hash, record_body(fields))
    return AuditRecord(**fields, hash=digest)


# -- checking a chain -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    problem: str | None = None
    last_seq: int | None = None
    last_hash: str | None = None


class ChainChecker:
    """Feed records in ``seq`` order; the first problem found is kept, with the record it is in.

    What each problem means:
    - a record's hash does not match its contents → that record was edited;
    - a record follows one that is not ``seq - 1`` → the records between were deleted;
    - a record's ``prev_hash`` is not the hash of the record before it → the record before was rewritten
      (contents and hash) or this one was inserted;
    - a record's hash matches its contents only under another ``seq`` → records were moved (reordered).
    """

    # How far from its place a moved record is looked for (hashing is cheap; this runs once, at a break).
    MOVE_SEARCH = 5000

    def __init__(self) -> None:
        self.checked = 0
        self.last_seq: int | None = None
        self.last_hash = GENESIS_HASH
        self.problem: tuple[int, str] | None = None

    def feed(self, record: AuditRecord) -> bool:
        """Check one record; False once the chain is broken (the first problem is kept)."""
        self.checked += 1
        problem = self._problem(record)
        if problem is not None:
            self.problem = (record.seq, f"record {record.seq}: {problem}")
            return False
        self.last_seq, self.last_hash = record.seq, record.hash
        return True

    def _problem(self, record: AuditRecord) -> str | None:
        expected_seq = 1 if self.last_seq is None else self.last_seq + 1
        if record.seq != expected_seq:
            if self.last_seq is None:
                return f"the chain starts here, not at record 1 ({_records(1, record.seq - 1)} deleted?)"
            if record.seq < expected_seq:
                return f"comes after record {self.last_seq} out of order"
            return f"follows record {self.last_seq} ({_records(expected_seq, record.seq - 1)} deleted?)"
        if record.expected_hash() != record.hash:
            moved_from = _original_seq(record)
            if moved_from is not None:
                return f"holds the contents of record {moved_from} (records reordered?)"
            return "hash does not match its contents (edited?)"
        if record.prev_hash != self.last_hash:
            if self.last_seq is None:
                return "prev_hash is not the genesis hash (records before it deleted or replaced?)"
            return (
                f"prev_hash does not match the hash of record {self.last_seq} "
                f"(record {self.last_seq} rewritten, or this record inserted?)"
            )
        return None

    def result(self) -> VerifyResult:
        if self.problem is not None:
            seq, text = self.problem
            return VerifyResult(False, self.checked, seq, text, self.last_seq, self.last_hash)
        return VerifyResult(True, self.checked, None, None, self.last_seq, self.last_hash)


def _original_seq(record: AuditRecord, reach: int = ChainChecker.MOVE_SEARCH) -> int | None:
    """The ``seq`` under which this record's contents do hash to its hash, if one is near."""
    body = record.body()
    for distance in range(1, reach + 1):
        for seq in (record.seq - distance, record.seq + distance):
            if seq >= 1 and chain_hash(record.prev_hash, {**body, "seq": seq}) == record.hash:
                return seq
    return None


def _records(first: int, last: int) -> str:
    return f"record {first}" if first == last else f"records {first}–{last}"
