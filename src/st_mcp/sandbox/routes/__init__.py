"""Every ServiceTitan operation the sandbox serves, one module per API module."""

from __future__ import annotations

from ..routing import Endpoint
from . import (
    accounting,
    bookings,
    crm,
    dispatch,
    jpm,
    lifecycle,
    marketing,
    memberships,
    sales,
    settings,
    tasks,
)

ENDPOINTS: list[Endpoint] = [
    endpoint
    for module in (
        crm,
        jpm,
        dispatch,
        settings,
        marketing,
        memberships,
        accounting,
        tasks,
        sales,
        bookings,
        lifecycle,
    )
    for endpoint in module.router.endpoints
]
