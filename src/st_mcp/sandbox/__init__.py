"""A faithful ServiceTitan v2 emulator: a Starlette app over a deterministic, seeded tenant.

    app = create_sandbox_app(SandboxConfig(seed=7, clock=SandboxClock(fixed=datetime(...))))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        ...
    tenant: SandboxTenant = app.state.sandbox  # records, faults, request_log, clock, rate_limiter

Where ServiceTitan's behaviour is not documented, the sandbox chooses (and tests) this:

- Tenant in the path other than the token's → 403 (the caller is known but not allowed there).
- Missing/invalid/expired token → 401 ProblemDetails with ``WWW-Authenticate: Bearer error="invalid_token"``;
  the raw token without "Bearer" is accepted too. Missing/wrong ``ST-App-Key`` → 401 ProblemDetails.
- Rate limit: a sliding one-second window per (app key, tenant); 401s count, 429s do not.
- Body shape errors (missing/mistyped fields, bad enums) → 400 with field errors; unknown ids referenced
  in a body → 400, except on job create, where business rules (unknown customer/location/unit/job type/
  campaign/technician, a missing ``campaignId``, a location of another customer) → 422, as observed live.
- 409 where the spec lists it: operating on a canceled/done appointment or job, a duplicate contact.
- Unknown query parameters are ignored (as ASP.NET does); every *documented* parameter of a served
  operation is honoured, or refused with a 400 naming it (``Endpoint.refuses``), never silently ignored.
  Query integers are range-checked (int64 ids, int32 paging); ``ids`` lists are capped at 50;
  ``pageSize`` at 5000. Body type errors read as System.Text.Json's; appointment times before 1753 → 400.
- A wrong method → 405 whose ``Allow`` lists every method of the path.
- External data is returned only for the ``externalDataApplicationGuid`` given; filtering by
  ``externalDataKey``/``externalDataValues`` requires that GUID. PATCH ``patchMode`` defaults to Replace.
- Capacity rules: see capacity.py. Every branch schedules in the tenant's zone (America/Denver).

Knobs: ``SandboxConfig.state`` keeps the tenant in a SQLite file every process shares (statefile.py,
persistence.py); ``latency_seconds`` and fault rules (faults.py: status, reset or timeout, before or after
the write) from code, a TOML file or ``/_sandbox/faults`` (admin.py, answered on loopback only).
Several tenants in one app: ``create_multi_sandbox_app`` (multi.py, ``st-mcp sandbox --tenant``).
"""

from .app import create_sandbox_app
from .clock import SandboxClock
from .config import SANDBOX_TENANT_ID, SANDBOX_TIMEZONE, SandboxConfig
from .faults import Fault, FaultInjector
from .state import SandboxTenant

__all__ = [
    "SANDBOX_TENANT_ID",
    "SANDBOX_TIMEZONE",
    "Fault",
    "FaultInjector",
    "SandboxClock",
    "SandboxConfig",
    "SandboxTenant",
    "create_sandbox_app",
]
