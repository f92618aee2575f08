"""Settings: environment variables first, then an optional TOML file (``ST_MCP_CONFIG`` / ``--config``).

Environment names are flat and documented (``ST_TENANT_ID``, ``ST_MCP_DATABASE_URL``, …); inside the
program they live in small nested models. A wrong or missing value stops start-up with one line that
names the variable, never a traceback, and never the value of a secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from st_mcp.config_lifecycle import LifecycleSettings, TriageSettings
from st_mcp.config_tenants import DEFAULT_TENANT, build_tenant, nested_variables
from st_mcp.messaging.settings import MessagingSettings
from st_mcp.policy.audit import is_secret_key
from st_mcp.policy.compliance import ComplianceSettings
from st_mcp.services.outreach.cadence import CadenceSettings
from st_mcp.services.outreach.instant import SpeedToLeadSettings

Environment = Literal["production", "integration", "sandbox"]

# Environment variable -> where it lands in Settings.
ENV_VARS: dict[str, tuple[str, ...]] = {
    "ST_TENANT_ID": ("servicetitan", "tenant_id"),
    "ST_CLIENT_ID": ("servicetitan", "client_id"),
    "ST_CLIENT_SECRET": ("servicetitan", "client_secret"),
    "ST_APP_KEY": ("servicetitan", "app_key"),
    "ST_ENVIRONMENT": ("servicetitan", "environment"),
    "ST_API_BASE_URL": ("servicetitan", "api_base_url"),
    "ST_AUTH_URL": ("servicetitan", "auth_url"),
    "ST_REQUESTS_PER_SECOND": ("servicetitan", "requests_per_second"),
    "ST_MCP_CLOCK": ("servicetitan", "sandbox_clock"),
    "ST_MCP_CLOCK_RATE": ("servicetitan", "sandbox_clock_rate"),
    "ST_MCP_DATABASE_URL": ("database_url",),
    "ST_MCP_SANDBOX_STATE": ("sandbox", "state"),
    "ST_MCP_SANDBOX_LATENCY_MS": ("sandbox", "latency_ms"),
    "ST_MCP_SANDBOX_FAULTS": ("sandbox", "faults"),
    "ST_MCP_ROLE": ("identity", "role"),
    "ST_MCP_READ_ONLY": ("access", "read_only"),
    "ST_MCP_TOOLSETS": ("access", "toolsets"),
    "ST_MCP_PRINCIPAL": ("identity", "principal"),
    "ST_MCP_TENANT": ("identity", "tenant"),
    "ST_MCP_PROMPTS_DIR": ("prompts_dir",),
    "ST_MCP_GATEWAY": ("messaging", "gateway"),
    "TWILIO_ACCOUNT_SID": ("messaging", "twilio_account_sid"),
    "TWILIO_AUTH_TOKEN": ("messaging", "twilio_auth_token"),
    "TWILIO_FROM_NUMBER": ("messaging", "twilio_from_number"),
    "TWILIO_MESSAGING_SERVICE_SID": ("messaging", "twilio_messaging_service_sid"),
    "TWILIO_BASE_URL": ("messaging", "twilio_base_url"),
    "TWILIO_TIMEOUT_SECONDS": ("messaging", "twilio_timeout_seconds"),
    "ST_MCP_WEBHOOK_BASE_URL": ("messaging", "public_base_url"),
    "ST_MCP_LEAD_WEBHOOK_SECRET": ("messaging", "lead_webhook_secret"),
    "ST_MCP_POLL_LEADS_SECONDS": ("leads", "poll_interval_seconds"),
    "ST_MCP_WATCH_JOBS_SECONDS": ("lifecycle", "watch_jobs_seconds"),
    "ST_MCP_LEADER_TTL_SECONDS": ("leader_ttl_seconds",),
    "ST_MCP_PUBLIC_URL": ("auth", "public_url"),
    "ST_MCP_JWKS_URL": ("auth", "jwt", "jwks_url"),
    "ST_MCP_JWT_ISSUER": ("auth", "jwt", "issuer"),
    "ST_MCP_JWT_AUDIENCE": ("auth", "jwt", "audience"),
}
_SETTING_NAMES = {path: name for name, path in ENV_VARS.items()}
CREDENTIAL_VARS = ("ST_TENANT_ID", "ST_CLIENT_ID", "ST_CLIENT_SECRET", "ST_APP_KEY")

# What the embedded sandbox accepts when no credentials are configured.
SANDBOX_CLIENT_ID = "sandbox-client"
SANDBOX_CLIENT_SECRET = "sandbox-secret"  # a public demo value
SANDBOX_APP_KEY = "sandbox-app-key"


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line naming it."""


class ServiceTitanSettings(BaseModel):
    model_config = {"extra": "forbid"}

    tenant_id: int | None = Field(default=None, gt=0)
    client_id: str | None = None
    client_secret: SecretStr | None = None
    app_key: SecretStr | None = None
    environment: Environment | None = None
    api_base_url: str | None = Field(default=None, pattern=r"^https?://")
    auth_url: str | None = Field(default=None, pattern=r"^https?://")
    requests_per_second: float = Field(default=60.0, gt=0, le=1000)
    # Requests in flight at once (and pooled connections); more would only queue inside httpx.
    max_in_flight: int = Field(default=50, ge=1, le=1000)
    timeout_seconds: float = Field(default=30.0, gt=0)
    # "Now" for demos and tests (ST_MCP_CLOCK), running on from there; never on a real tenant.
    sandbox_clock: datetime | None = None
    # How fast that clock runs (ST_MCP_CLOCK_RATE): 60 = a minute per second, to cross quiet-hour edges
    # in a test or a demo. Every process on one store runs it from the same real moment.
    sandbox_clock_rate: float = Field(default=1.0, gt=0, le=100_000)

    @field_validator("sandbox_clock")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a UTC offset, e.g. 2026-03-14T19:45:00-06:00")
        return value

    @model_validator(mode="after")
    def _resolve_environment(self) -> ServiceTitanSettings:
        given = {
            "ST_TENANT_ID": self.tenant_id,
            "ST_CLIENT_ID": self.client_id,
            "ST_CLIENT_SECRET": self.client_secret,
            "ST_APP_KEY": self.app_key,
        }
        missing = [name for name, value in given.items() if value in (None, "")]
        if self.environment is None:
            if len(missing) == len(given):
                self.environment = "sandbox"
            elif missing:
                raise ValueError(
                    f"{missing[0]} is missing: set all of {', '.join(CREDENTIAL_VARS)} "
                    "(or none of them to use the embedded sandbox tenant)"
                )
            else:
                self.environment = "production"
        elif self.environment != "sandbox" and missing:
            raise ValueError(f"{missing[0]} is required when ST_ENVIRONMENT={self.environment}")
        if self.sandbox_clock_rate != 1.0 and self.sandbox_clock is None:
            raise ValueError("ST_MCP_CLOCK_RATE needs ST_MCP_CLOCK (the instant the clock starts at)")
        if self.sandbox_clock is not None and self.environment != "sandbox":
            raise ValueError(
                "ST_MCP_CLOCK is honoured only on the sandbox tenant; unset it to use a real tenant"
            )
        return self

    @property
    def is_sandbox(self) -> bool:
        return self.environment == "sandbox"

    @property
    def uses_embedded_sandbox(self) -> bool:
        """Sandbox with no base URL: served in-process instead of over the network."""
        return self.is_sandbox and self.api_base_url is None

    def credentials(self) -> tuple[int, str, str, str]:
        """(tenant, client id, client secret, app key), with the sandbox defaults filled in."""
        from st_mcp.sandbox import SANDBOX_TENANT_ID
        from st_mcp.sandbox.config import sandbox_client_id

        tenant_id = self.tenant_id or SANDBOX_TENANT_ID
        # A sandbox tenant other than the default asks with its own client id, so one loopback sandbox
        # serving several tenants (st-mcp sandbox --tenant) binds the token to the right one.
        return (
            tenant_id,
            self.client_id or sandbox_client_id(tenant_id, SANDBOX_CLIENT_ID),
            self.client_secret.get_secret_value() if self.client_secret else SANDBOX_CLIENT_SECRET,
            self.app_key.get_secret_value() if self.app_key else SANDBOX_APP_KEY,
        )


DEFAULT_JOB_TYPE_ALIASES = {
    "no heat": "Heating Repair",
    "furnace": "Heating Repair",
    "heater not working": "Heating Repair",
    "no ac": "No Cool / AC Repair",
    "no cool": "No Cool / AC Repair",
    "ac not cooling": "No Cool / AC Repair",
    "tune up": "HVAC Maintenance",
    "clogged drain": "Drain Cleaning",
    "slow drain": "Drain Cleaning",
    "no hot water": "Water Heater Repair",
    "leak": "Leak Repair",
    "outlet not working": "Electrical Troubleshooting",
    "breaker keeps tripping": "Electrical Troubleshooting",
    "garage door stuck": "Garage Door Repair",
    "burst pipe": "Emergency Plumbing",
}


class BookingSettings(BaseModel):
    """How the agent books: attribution, job-type vocabulary, service area, slot rules."""

    model_config = {"extra": "forbid"}

    business_timezone: str = "America/Denver"
    campaign: str = "Virtual Agent"  # campaign (name or id) for AI-booked jobs without a lead campaign
    tag_type: str = "AI Booked"  # tag type (name or id) that marks AI-booked jobs
    cancel_reason: str = "Customer canceled"  # job cancel reason used by cancel_job
    job_types: list[str] | None = None  # allowlist of bookable job types (names); None = all active
    job_type_aliases: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_JOB_TYPE_ALIASES))
    service_area_zips: list[str] | None = None  # None = the ZIPs of ServiceTitan's active zones
    slot_ttl_minutes: int = Field(default=120, gt=0)  # how long an offered slot_id stays bookable
    search_days: int = Field(default=7, gt=0, le=14)
    min_lead_minutes: int = Field(default=30, ge=0)  # windows starting sooner are not offered
    # How long a window's booking lease lives without renewal (its holder renews it every third of this
    # while it works; a crashed holder frees the window after it).
    window_lease_seconds: float = Field(default=30.0, gt=0, le=300)
    # The app-scoped key under which booked jobs carry their idempotency key (reconciliation).
    application_guid: str = "5b0f3c2e-7a61-4d8e-9f14-2c6b8d0e1a37"
    # "job": book_job writes the job. "booking": it writes a CRM booking for the contractor's booking
    # provider (ServiceTitan's booking-request inbox) that a CSR confirms and converts into a job.
    mode: Literal["job", "booking"] = "job"
    booking_provider: int | None = Field(default=None, gt=0)  # ServiceTitan's booking provider id
    booking_source: str = "st-mcp Virtual Agent"  # the booking's "source" as CSRs see it
    # How often the HTTP server checks its requested bookings for conversion (0 = not in the background).
    conversion_poll_interval_seconds: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _provider_for_booking_mode(self) -> BookingSettings:
        if self.mode == "booking" and self.booking_provider is None:
            raise ValueError('[booking] mode = "booking" needs booking_provider (the provider id)')
        return self


class EscalationSettings(BaseModel):
    """Where escalations land in ServiceTitan so a dispatcher sees them without this server."""

    model_config = {"extra": "forbid"}

    task_type: str = "Escalation"
    task_source: str = "Virtual Agent"
    reported_by: str = "Virtual Agent"  # employee name the task is reported by
    assign_to: str | None = None  # employee name; None = the first active employee not reporting
    # Who hears about unhappy customers (a manager): escalations for negative sentiment, a 1–2 post-job
    # rating among them. None = assign_to.
    negative_sentiment_assign_to: str | None = None
    follow_up_minutes: int = Field(default=15, gt=0)  # lead follow-up date for escalated leads


class IdentitySettings(BaseModel):
    """Who this process is on stdio (HTTP callers bring their own identity)."""

    model_config = {"extra": "forbid"}

    # A default role (virtual_agent, csr, dispatcher, manager, auditor) or one defined in [access.roles].
    role: str = "virtual_agent"
    principal: str | None = Field(default=None, max_length=200)  # default: the role's name
    # Which [tenants.<name>] this process serves on stdio (ST_MCP_TENANT); in a tenant's own settings, its
    # name. None: the only tenant there is.
    tenant: str | None = Field(default=None, max_length=64)


TOOLSETS = ("agent", "conversation", "interactions", "admin", "lifecycle", "revenue")


class RoleSettings(BaseModel):
    """A role in ``[access.roles]`` written as a table: its permissions and whether it is an AI."""

    model_config = {"extra": "forbid"}

    permissions: list[str]
    ai: bool = False


class AccessSettings(BaseModel):
    """What this server exposes at all, and the role bundles it grants."""

    model_config = {"extra": "forbid"}

    read_only: bool = False  # drop every tool that writes
    toolsets: list[str] | None = None  # only these toolsets (None = all), to keep a client's tool list short
    # role → permissions (over the defaults), or a table: { permissions = [...], ai = true } for a role
    # whose principals are AI agents (held to the agent's rules, stopped by a takeover).
    roles: dict[str, list[str] | RoleSettings] = Field(default_factory=dict)

    @field_validator("toolsets", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("toolsets")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        unknown = sorted(set(value or ()) - set(TOOLSETS))
        if unknown:
            raise ValueError(f"unknown toolset {', '.join(unknown)}; choose from {', '.join(TOOLSETS)}")
        return value


# Signature algorithms a JWKS can back. No HS*/none: a JWKS holds public keys, and accepting HMAC with a
# public key as the secret is the classic algorithm-confusion forgery.
JWT_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


class ApiKeySettings(BaseModel):
    """One API key (TOML ``[[auth.api_keys]]``): stored only as the SHA-256 of the key."""

    model_config = {"extra": "forbid"}

    principal: str = Field(min_length=1, max_length=200)
    role: str
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")  # `st-mcp auth hash-key` prints it
    tenant: str | None = Field(default=None, max_length=64)  # whose data the key reaches ([tenants.<name>])

    @field_validator("sha256")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class JwtSettings(BaseModel):
    """JWTs from an identity provider, checked against its JWKS (TOML ``[auth.jwt]``)."""

    model_config = {"extra": "forbid"}

    jwks_url: str | None = Field(default=None, pattern=r"^https?://")
    issuer: str | None = Field(default=None, pattern=r"^https?://")
    audience: str | None = None  # default: [auth].public_url, this server's own URL
    role_claim: str = Field(default="st_mcp_role", min_length=1)
    principal_claim: str = Field(default="sub", min_length=1)
    tenant_claim: str = Field(default="st_mcp_tenant", min_length=1)  # with [tenants.*]: whose data
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"], min_length=1)
    jwks_cache_seconds: float = Field(default=300.0, gt=0)
    leeway_seconds: int = Field(default=30, ge=0, le=300)  # clock skew allowed on exp/nbf/iat

    @field_validator("algorithms")
    @classmethod
    def _asymmetric(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(JWT_ALGORITHMS))
        if unknown:
            choices = ", ".join(JWT_ALGORITHMS)
            raise ValueError(f"unsupported algorithm {', '.join(unknown)}; choose from {choices}")
        return value


class HttpAuthSettings(BaseModel):
    """Who may call over HTTP/SSE (TOML ``[auth]``): API keys and/or JWTs; off when neither is set."""

    model_config = {"extra": "forbid"}

    # This server's public URL (e.g. https://mcp.example.com/mcp): the RFC 9728 resource and JWT audience.
    public_url: str | None = Field(default=None, pattern=r"^https?://")
    api_keys: list[ApiKeySettings] = Field(default_factory=list)
    jwt: JwtSettings = Field(default_factory=JwtSettings)

    @property
    def enabled(self) -> bool:
        return bool(self.api_keys) or self.jwt.jwks_url is not None

    @property
    def audience(self) -> str | None:
        return self.jwt.audience or self.public_url

    @model_validator(mode="after")
    def _complete(self) -> HttpAuthSettings:
        hashes = [key.sha256 for key in self.api_keys]
        if len(set(hashes)) != len(hashes):
            dup = next(i for i, h in enumerate(hashes) if h in hashes[:i])
            raise ValueError(f"[auth].api_keys[{dup}]: the same key is configured twice")
        if self.jwt.jwks_url is not None:
            if self.jwt.issuer is None:
                raise ValueError("ST_MCP_JWT_ISSUER is required with ST_MCP_JWKS_URL ([auth.jwt].issuer)")
            if self.audience is None:
                raise ValueError(
                    "ST_MCP_PUBLIC_URL (or ST_MCP_JWT_AUDIENCE) is required with ST_MCP_JWKS_URL: "
                    "JWTs must name this server as their audience"
                )
        return self


class EngagementSettings(BaseModel):
    """Reply recency/frequency → Active: Hot/Warm/Cool/Cold, and the High Activity counter."""

    model_config = {"extra": "forbid"}

    hot_minutes: int = Field(default=30, gt=0)  # last reply at most this old → Hot
    warm_minutes: int = Field(default=240, gt=0)  # → Warm
    cool_minutes: int = Field(default=1440, gt=0)  # → Cool; older → Cold
    frequent_replies: int = Field(default=3, gt=0)  # replies in 24 h that lift the temperature one step
    high_activity_inbound: int = Field(default=3, gt=0)  # inbound messages in 24 h → High Activity
    dedupe_hours: int = Field(default=24, gt=0)  # a new lead with the same phone within this is a duplicate


class PersonaSettings(BaseModel):
    """Who the agent is, as the prompts introduce it (TOML ``[persona]``)."""

    model_config = {"extra": "forbid"}

    company_name: str = Field(default="Peak Home Services", min_length=1)
    agent_name: str = Field(default="Sam", min_length=1)
    trades: list[str] = Field(default_factory=lambda: ["HVAC", "Plumbing", "Electrical", "Garage Door"])
    tone: str = "warm, brief, plain-spoken"
    support_phone: str = "(303) 555-0100"  # what HELP replies and opt-out confirmations give


class _FlatEnvironment(PydanticBaseSettingsSource):
    """Reads the documented flat variable names into the nested settings shape."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self._environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ builds the whole mapping at once

    def __call__(self) -> dict[str, Any]:
        return nested_variables(self._environ, ENV_VARS)


class SandboxSettings(BaseModel):
    """``[sandbox]``: the sandbox tenant, embedded (no credentials) or served by ``st-mcp sandbox``."""

    model_config = {"extra": "forbid"}

    # A SQLite file every process on it shares, or "memory" (re-seeded per process). Default: sandbox.db
    # beside the SQLite store, i.e. in the data folder unless ST_MCP_DATABASE_URL moves it.
    state: str | None = None
    seed: int = 7  # seeds a new (or reset) state; a stored tenant keeps its own
    latency_ms: int = Field(default=0, ge=0, le=60_000)  # added to every request
    faults: str | None = None  # a TOML file of [[fault]] rules armed at start

    @field_validator("faults")
    @classmethod
    def _faults_file(cls, value: str | None) -> str | None:
        from st_mcp.sandbox.faults import FaultsFileError, load_fault_rules

        if value is not None:
            if not Path(value).expanduser().is_file():
                raise ValueError("no such file")
            try:
                load_fault_rules(Path(value).expanduser())  # a broken rule stops the start, not a request
            except FaultsFileError as exc:
                raise ValueError(str(exc)) from None
        return value

    def state_path(self, database_url: str | None) -> Path | None:
        """Where the tenant lives (None = memory)."""
        from st_mcp.sandbox.config import state_path

        if self.state is not None:
            return state_path(self.state)
        return default_state_folder(database_url) / "sandbox.db"


def default_state_folder(database_url: str | None) -> Path:
    """The SQLite store's folder (the data folder by default), so a store and its tenant stay together."""
    from sqlalchemy.engine import make_url

    if database_url:
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(url.database).expanduser().resolve().parent
    return Path(platformdirs.user_data_dir("st-mcp", appauthor=False))


class LeadIntakeSettings(BaseModel):
    """``[leads]``: polling ServiceTitan CRM for new Open leads (inside the HTTP server)."""

    model_config = {"extra": "forbid"}

    poll_interval_seconds: int = Field(default=0, ge=0)  # 0 = do not poll in the background
    # On the first poll, look back this far for Open leads (later polls start where the last ended).
    first_poll_lookback_hours: int = Field(default=24, ge=1, le=24 * 30)


class RevenueSettings(BaseModel):
    """``[revenue]``: memberships, maintenance visits and estimate follow-ups."""

    model_config = {"extra": "forbid"}

    # Where record_membership_interest puts the sales follow-up: a task-management task, or a CRM lead.
    membership_follow_up: Literal["task", "lead"] = "task"
    membership_task_type: str = "Follow Up"  # task type (name); else the first type listed
    # A member's recurring service events due within this many days are offered by book_maintenance_visit.
    maintenance_window_days: int = Field(default=31, ge=1, le=120)
    # The job type of a tune-up whose recurring service type names none.
    maintenance_job_type: str = "HVAC Maintenance"
    # Open estimates younger than this become "Estimate Follow-up" interactions (older ones are left alone).
    estimate_max_age_days: int = Field(default=30, ge=1, le=365)
    estimate_poll_interval_seconds: int = Field(default=0, ge=0)  # 0 = only when asked
    # How often the HTTP server turns members' tune-ups coming due into Maintenance Reminder conversations.
    reminder_poll_interval_seconds: int = Field(default=0, ge=0)  # 0 = only when asked


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="forbid")

    servicetitan: ServiceTitanSettings = Field(default_factory=ServiceTitanSettings)
    database_url: str | None = None
    booking: BookingSettings = Field(default_factory=BookingSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    access: AccessSettings = Field(default_factory=AccessSettings)
    engagement: EngagementSettings = Field(default_factory=EngagementSettings)
    persona: PersonaSettings = Field(default_factory=PersonaSettings)
    messaging: MessagingSettings = Field(default_factory=MessagingSettings)
    compliance: ComplianceSettings = Field(default_factory=ComplianceSettings)
    cadence: CadenceSettings = Field(default_factory=CadenceSettings)
    speed_to_lead: SpeedToLeadSettings = Field(default_factory=SpeedToLeadSettings)
    leads: LeadIntakeSettings = Field(default_factory=LeadIntakeSettings)
    auth: HttpAuthSettings = Field(default_factory=HttpAuthSettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    revenue: RevenueSettings = Field(default_factory=RevenueSettings)
    triage: TriageSettings = Field(default_factory=TriageSettings)
    lifecycle: LifecycleSettings = Field(default_factory=LifecycleSettings)
    # An operator's folder of prompt files; one named like a shipped prompt replaces it.
    prompts_dir: str | None = None
    # Many contractors on one deployment (config_tenants.py): name → that contractor's sections.
    tenants: dict[str, dict[str, Any]] = Field(default_factory=dict)
    _tenant_settings: dict[str, Settings] = PrivateAttr(default_factory=dict)
    # Background work (leads poller, job watcher, sweeps) runs under a lease in the shared store: a replica
    # that dies holding it is taken over after this long at most. Its holder renews it every third of it.
    leader_ttl_seconds: float = Field(default=60.0, ge=1, le=3600)

    @model_validator(mode="after")
    def _role_exists(self) -> Settings:
        roles = _roles_of(self.access, "[access.roles]")
        if self.identity.role not in roles:
            raise ValueError(
                f"ST_MCP_ROLE: unknown role '{self.identity.role}'; known roles: {', '.join(sorted(roles))}"
            )
        return self

    @model_validator(mode="after")
    def _build_tenants(self) -> Settings:
        """Every tenant's settings, checked now (a broken block stops the start), its keys gathered."""
        keys = list(self.auth.api_keys)
        built: dict[str, Settings] = {}
        for name, block in self.tenants.items():
            own = block.get("api_keys", [])
            tenant = build_tenant(self, name, block, _ENVIRON, ENV_VARS)
            try:
                keys += [ApiKeySettings.model_validate({**key, "tenant": name}) for key in own]
            except (ValidationError, TypeError) as exc:
                raise ValueError(f"[tenants.{name}].api_keys: {exc}") from None
            built[name] = tenant
        if not built:
            built[DEFAULT_TENANT] = self
        else:
            _one_servicetitan_tenant_each(built)
            self._tenant_settings = built
        for index, key in enumerate(keys):
            label = f"[auth].api_keys[{index}] ({key.principal})"
            name = key.tenant or (DEFAULT_TENANT if not self.tenants else None)
            if name not in built:
                raise ValueError(
                    f"{label}: name the tenant the key serves (tenant = one of {', '.join(sorted(built))})"
                    if name is None
                    else f"{label}: unknown tenant '{name}'; known tenants: {', '.join(sorted(built))}"
                )
            roles = _roles_of(built[name].access, f"[tenants.{name}].access.roles")
            if key.role not in roles:
                raise ValueError(
                    f"{label}: unknown role '{key.role}'; known roles: {', '.join(sorted(roles))}"
                )
        hashes = [key.sha256 for key in keys]
        if len(set(hashes)) != len(hashes):
            twice = next(key for index, key in enumerate(keys) if key.sha256 in hashes[:index])
            raise ValueError(f"the API key of {twice.principal} is configured twice (one key, one tenant)")
        stdio = self.identity.tenant
        if stdio is not None and stdio not in built:
            raise ValueError(
                f"ST_MCP_TENANT: unknown tenant '{stdio}'; known tenants: {', '.join(sorted(built))}"
            )
        self.auth.api_keys = [key.model_copy(update={"tenant": key.tenant or DEFAULT_TENANT}) for key in keys]
        return self

    def tenant_settings(self) -> dict[str, Settings]:
        """Each tenant's own settings by name (``{"default": self}`` without ``[tenants.*]`` blocks)."""
        # Without blocks, this object itself (a copy made with model_copy must not answer its original).
        return dict(self._tenant_settings) if self.tenants else {DEFAULT_TENANT: self}

    @property
    def stdio_tenant(self) -> str:
        """The tenant a stdio process serves: ST_MCP_TENANT, or the first one configured."""
        return self.identity.tenant or next(iter(self.tenant_settings()))

    @field_validator("prompts_dir")
    @classmethod
    def _prompts_dir_exists(cls, value: str | None) -> str | None:
        if value is None:
            return None
        folder = Path(value).expanduser()
        if not folder.is_dir():
            raise ValueError("no such folder")
        return str(folder)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, _FlatEnvironment(settings_cls, _ENVIRON)]
        if _CONFIG_FILE is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=_CONFIG_FILE, deep_merge=True))
        return tuple(sources)


# pydantic-settings builds sources from class-level hooks; load_settings sets these for one call.
_ENVIRON: Mapping[str, str] = os.environ
_CONFIG_FILE: Path | None = None


def _one_servicetitan_tenant_each(tenants: Mapping[str, Settings]) -> None:
    """Two blocks on one ServiceTitan tenant would share its export-feed places, webhook receipts and
    booking requests (kept by the ServiceTitan tenant id): one contractor, one block."""
    seen: dict[int, str] = {}
    for name, own in tenants.items():
        tenant_id = own.servicetitan.credentials()[0]
        if tenant_id in seen:
            raise ValueError(
                f"[tenants.{name}]: ServiceTitan tenant {tenant_id} is [tenants.{seen[tenant_id]}]'s "
                "already; give each block its own servicetitan.tenant_id (sandbox tenants too)"
            )
        seen[tenant_id] = name


def _roles_of(access: AccessSettings, label: str) -> Mapping[str, object]:
    from st_mcp.policy.permissions import build_roles

    try:
        return build_roles(access.roles)
    except ValueError as exc:
        raise ValueError(f"{label}: {exc}") from None


def load_settings(
    config_file: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read and check every setting, or raise ``ConfigError`` with one line naming the culprit."""
    global _ENVIRON, _CONFIG_FILE
    environ = os.environ if environ is None else environ
    path = config_file or environ.get("ST_MCP_CONFIG") or None
    if path is not None and not Path(path).is_file():
        raise ConfigError(f"ST_MCP_CONFIG: no such file {path}")
    _ENVIRON, _CONFIG_FILE = environ, Path(path) if path else None
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None
    except ValueError as exc:  # malformed TOML
        raise ConfigError(f"{path}: {exc}") from None
    finally:
        _ENVIRON, _CONFIG_FILE = os.environ, None


def _one_line(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    loc = tuple(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    name = _SETTING_NAMES.get(loc)
    if name is None:
        # Model-level checks (missing credentials) already name the variable in their message.
        return message if loc in {(), ("servicetitan",), ("auth",)} else f"{'.'.join(loc)}: {message}"
    if is_secret_key(loc[-1]) or not isinstance(error.get("input"), str):
        return f"{name}: {message}"
    return f"{name}: {message} (got {error['input']!r})"
