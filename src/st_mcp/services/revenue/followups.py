"""Taking a ServiceTitan record (an open estimate, a member's due tune-up) in as a follow-up conversation
exactly once, whichever process sweeps it: the shared step of the estimate and reminder sweeps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from pydantic import BaseModel

from st_mcp.services.errors import UserInputError
from st_mcp.services.interactions.models import IngestResult
from st_mcp.store.revenue import UNUSABLE, FollowUpClaims


class FollowUpSweep(BaseModel):
    seen: int = 0
    ingested: list[str] = []  # new interaction ids
    already_known: int = 0
    duplicates: int = 0  # the customer's phone already had an open conversation: linked, not duplicated
    unusable: list[str] = []


async def take_in_once(
    claims: FollowUpClaims,
    source_id: int,
    label: str,
    now: datetime,
    take_in: Callable[[], Awaitable[IngestResult]],
    sweep: FollowUpSweep,
) -> None:
    """Claim the record, take it in, link the claim to its conversation; count what happened in ``sweep``."""
    sweep.seen += 1
    if not await claims.claim(source_id, now):
        sweep.already_known += 1
        return
    try:
        taken = await take_in()
    except UserInputError as exc:
        sweep.unusable.append(f"{label}: {exc}")
        await claims.link(source_id, UNUSABLE)  # the claim stays: a record without a phone is not retried
        return
    except Exception:
        await claims.release(source_id)  # ServiceTitan failed us: try again next pass
        raise
    await claims.link(source_id, taken.interaction_id)
    if taken.duplicate:
        sweep.duplicates += 1
    else:
        sweep.ingested.append(taken.interaction_id)
