"""Opaque, signed ``slot_id``s: the model can only book a window this server actually offered.

A slot id carries the job type, business unit, window and place it was offered for, and an expiry,
signed with HMAC-SHA256 under a secret shared through the database. A forged, altered or expired id
fails verification; a window in the past is refused even with a valid signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from st_mcp.services.errors import UserInputError

_PREFIX = "slot1"
MAX_SLOT_ID = 512


@dataclass(frozen=True, slots=True)
class SlotClaim:
    job_type_id: int
    business_unit_id: int
    start: datetime  # UTC
    end: datetime
    zip: str | None
    location_id: int | None
    expires: datetime


class SlotSigner:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def issue(self, claim: SlotClaim) -> str:
        payload = asdict(claim)
        for key in ("start", "end", "expires"):
            payload[key] = int(payload[key].timestamp())
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        return f"{_PREFIX}.{body}.{self._sign(body)}"

    def verify(self, slot_id: str, *, now: datetime) -> SlotClaim:
        slot_id = slot_id.strip()
        # Ours are short ASCII; anything else is not one (and non-ASCII would break compare_digest).
        if len(slot_id) > MAX_SLOT_ID or not slot_id.isascii():
            raise _invalid()
        try:
            prefix, body, signature = slot_id.split(".")
        except ValueError:
            raise _invalid() from None
        if prefix != _PREFIX or not hmac.compare_digest(signature, self._sign(body)):
            raise _invalid()
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        for key in ("start", "end", "expires"):
            data[key] = datetime.fromtimestamp(data[key], UTC)
        claim = SlotClaim(**data)
        if claim.expires <= now:
            raise UserInputError(
                "That slot_id has expired (offered slots stay bookable for a limited time). "
                "Call get_available_slots again and offer the caller fresh windows."
            )
        if claim.start <= now:
            raise UserInputError(
                "That window has already started or passed. Call get_available_slots for upcoming windows."
            )
        return claim

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest()[:18])


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid() -> UserInputError:
    return UserInputError(
        "That slot_id is not one this server issued (it may have been altered or invented). "
        "Use a slot_id exactly as returned by get_available_slots."
    )
