"""MCP resources: one conversation as Markdown, and the tenant's bookable job types.

``interaction://{interaction_id}`` is a template, so the SDK hands it the request context. The job-type
list has a fixed URI (so clients list it under resources/list), and the SDK gives static resources no
context; the doors middleware (``doors.py``) keeps the request's ``AppContext`` at hand for the read.
Each resource declares its permission there, and every read passes the guard.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.server.mcpserver.resources.base import Resource
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from st_mcp.server.context import AppContext
from st_mcp.server.doors import Doors, current_app
from st_mcp.server.guard import app_context
from st_mcp.services.errors import NotFound, UserInputError
from st_mcp.services.interactions.models import InteractionDetail, ThreadItem
from st_mcp.servicetitan import ServiceTitanError
from st_mcp.servicetitan.models.jpm import JobType

INTERACTION_URI = "interaction://{interaction_id}"
JOB_TYPES_URI = "servicetitan://job-types"
JOB_TYPE_URI = "servicetitan://job-types/{job_type}"


class JobTypesResource(Resource):
    """The bookable job types (the configured allowlist, or every active type) with their aliases."""

    async def read(self) -> str:
        app = current_app()
        if app is None:  # read outside a request (e.g. MCPServer.read_resource called directly)
            raise ResourceError("The job types can only be read over an MCP connection.")
        try:
            items = await job_type_items(app, await app.catalog.bookable_job_types())
        except ServiceTitanError as exc:
            raise _upstream(exc) from None
        return json.dumps({"job_types": items}, indent=2)


async def job_type_items(app: AppContext, types: list[JobType]) -> list[dict[str, Any]]:
    units = {unit.id: unit.name for unit in await app.reference.business_units()}
    aliases: dict[str, list[str]] = {}
    for alias, target in app.settings.booking.job_type_aliases.items():
        aliases.setdefault(target.casefold(), []).append(alias)
    return [
        {
            "job_type_id": t.id,
            "name": t.name,
            "duration_minutes": t.duration // 60,
            "priority": t.priority,
            "business_units": [
                {"business_unit_id": unit_id, "name": units.get(unit_id)} for unit_id in t.businessUnitIds
            ],
            "aliases": sorted(aliases.get(t.name.casefold(), [])),
        }
        for t in sorted(types, key=lambda t: t.name)
    ]


def _upstream(exc: ServiceTitanError) -> ResourceError:
    return ResourceError(f"ServiceTitan did not answer ({type(exc).__name__}); read it again shortly.")


def register_resources(server: MCPServer, doors: Doors) -> None:
    doors.resource(JOB_TYPES_URI, "capacity.read")
    server.add_resource(
        JobTypesResource(
            uri=JOB_TYPES_URI,
            name="job_types",
            title="Bookable job types",
            description="The job types the agent may book (id, name, duration, business units, aliases). "
            "get_available_slots and book_job accept a name or an alias.",
            mime_type="application/json",
        )
    )

    doors.template(JOB_TYPE_URI, "capacity.read")

    @server.resource(
        JOB_TYPE_URI,
        name="job_type",
        title="One bookable job type",
        description="One job type by id, name or alias (as get_available_slots accepts it): id, name, "
        "duration, business units and aliases. completion/complete suggests names and aliases.",
        mime_type="application/json",
    )
    async def one_job_type(job_type: str, ctx: Context) -> str:
        app = app_context(ctx)
        try:
            resolved = await app.catalog.job_type(job_type)
            (item,) = await job_type_items(app, [resolved])
        except UserInputError as exc:
            raise ResourceNotFoundError(str(exc)) from None
        except ServiceTitanError as exc:
            raise _upstream(exc) from None
        return json.dumps(item, indent=2)

    # Call transcripts and recordings inside need recordings.listen too (may_hear_calls).
    doors.template(INTERACTION_URI, "chats.view")

    @server.resource(
        INTERACTION_URI,
        name="interaction",
        title="Interaction thread",
        description="One conversation as Markdown: header, Overview Summary, thread, status history.",
        mime_type="text/markdown",
    )
    async def interaction_thread(interaction_id: str, ctx: Context) -> str:
        app = app_context(ctx)
        try:
            detail = await app.interactions.detail(interaction_id, can_hear_calls=app.may_hear_calls)
        except NotFound as exc:
            raise ResourceNotFoundError(str(exc)) from None
        except UserInputError as exc:  # the caller's mistake: invalid params, not our failure
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from None
        return interaction_markdown(detail, ZoneInfo(app.settings.booking.business_timezone))


def interaction_markdown(detail: InteractionDetail, zone: ZoneInfo) -> str:
    def when(moment: datetime) -> str:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}"

    links = detail.links
    st_links = [
        f"{label} {value}"
        for label, value in (
            ("lead", links.servicetitan_lead_id),
            ("customer", links.customer_id),
            ("location", links.location_id),
            ("job", links.job_id),
            ("job number", links.job_number),
        )
        if value is not None
    ]
    header = [
        f"# {detail.name or detail.phone or 'Unknown contact'} — interaction {detail.interaction_id}",
        "",
        f"- **Status:** {detail.status} · **Goal:** {detail.goal} · **Channel:** {detail.channel} · "
        f"**Type:** {detail.type}",
        f"- **Phone:** {detail.phone or '—'} · **Email:** {detail.email or '—'}",
        f"- **Address:** {detail.address or '—'}",
        f"- **Source:** {detail.source or '—'} · **Request:** {detail.request or '—'}",
        f"- **Received:** {when(detail.received_at)} · **Last activity:** {when(detail.last_activity_at)}",
        f"- **ServiceTitan:** {', '.join(st_links) or 'not linked yet'}",
    ]
    if detail.taken_over_by:
        header.append(f"- **Taken over by:** {detail.taken_over_by}")
    written = "written by the agent" if detail.summary_written_by == "agent" else "generated"
    parts = [
        "\n".join(header),
        f"## Overview summary ({written})\n\n{detail.overview_summary}",
        "## Thread\n\n"
        + ("\n".join(_thread_line(item, when) for item in detail.thread) or "No messages yet."),
    ]
    if detail.hidden:
        parts.append(f"_{detail.hidden}_")
    history = [
        f"- {when(h.at)} · {h.from_status or '—'} → **{h.to_status}** · {h.actor}"
        + (f" · {h.reason}" if h.reason else "")
        for h in detail.status_history
    ]
    parts.append("## Status history\n\n" + ("\n".join(history) or "None."))
    return "\n\n".join(parts) + "\n"


def _thread_line(item: ThreadItem, when: Callable[[datetime], str]) -> str:
    if item.kind == "call":
        extra = ", ".join(
            part
            for part in (
                f"{item.duration_seconds} s" if item.duration_seconds is not None else None,
                item.outcome,
                f"[recording]({item.recording_url})" if item.recording_url else None,
            )
            if part
        )
        transcript = "\n".join(f"  > {line}" for line in item.text.splitlines())
        return f"- **{when(item.at)} · {item.sender} · call {item.direction}** ({extra})\n{transcript}"
    text = " ".join(item.text.split())
    return f"- **{when(item.at)} · {item.sender}** ({item.direction} {item.kind}{_delivery(item)}): {text}"


def _delivery(item: ThreadItem) -> str:
    """How far a text sent through a gateway got, as the provider last said: ', undelivered (30007)'."""
    if item.delivery_status is None:
        return ""
    error = f" ({item.delivery_error})" if item.delivery_error else ""
    return f", {item.delivery_status}{error}"
