"""Many contractors on one deployment: ``[tenants.<name>]`` blocks, each a contractor's own settings.

A block holds the sections a contractor owns — ``servicetitan`` (credentials and environment), ``booking``,
``compliance``, ``persona``, ``messaging`` (gateway numbers), ``access`` (its roles), … — and its API keys
(``[[tenants.<name>.api_keys]]``). Everything a block leaves out comes from the top level, except the
ServiceTitan credentials, which are never inherited: one contractor's tenant must not be reached with
another's client secret by omission. Secrets may come from the environment instead of the file, as
``ST_MCP_TENANT_<NAME>_<VARIABLE>`` for any documented variable (``ST_MCP_TENANT_ACME_ST_CLIENT_SECRET``).

Without blocks the deployment has one tenant, ``default``, configured exactly as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:
    from st_mcp.config import Settings

DEFAULT_TENANT = "default"  # the one tenant of a deployment without [tenants.*] blocks (and its rows)
TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# The sections a tenant block may set; the store, the listener and [auth]'s JWT settings are the
# deployment's.
TENANT_SECTIONS = (
    "servicetitan",
    "booking",
    "escalation",
    "engagement",
    "persona",
    "messaging",
    "compliance",
    "cadence",
    "speed_to_lead",
    "leads",
    "revenue",
    "triage",
    "lifecycle",
    "sandbox",
    "access",
)
# Never inherited from the top level: who the contractor is at ServiceTitan.
CREDENTIAL_FIELDS = ("tenant_id", "client_id", "client_secret", "app_key", "environment")


def env_prefix(name: str) -> str:
    """``acme-east`` → ``ST_MCP_TENANT_ACME_EAST_``."""
    return "ST_MCP_TENANT_" + re.sub(r"[^A-Z0-9]", "_", name.upper()) + "_"


def nested_variables(
    environ: Mapping[str, str], env_vars: Mapping[str, tuple[str, ...]], prefix: str = ""
) -> dict[str, Any]:
    """The documented flat variables that are set (``prefix`` + name), in the settings' nested shape."""
    values: dict[str, Any] = {}
    for variable, path in env_vars.items():
        raw = environ.get(prefix + variable, "").strip()
        if not raw:
            continue
        target = values
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = raw
    return values


def tenant_environment(
    name: str, environ: Mapping[str, str], env_vars: Mapping[str, tuple[str, ...]]
) -> dict[str, Any]:
    """The tenant's own variables, in the nested shape of a block (only the tenant sections)."""
    own = {variable: path for variable, path in env_vars.items() if path[0] in TENANT_SECTIONS}
    return nested_variables(environ, own, env_prefix(name))


def merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, tables merged key by key, anything else replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def _section_base(settings: Settings, section: str) -> dict[str, Any]:
    model: BaseModel = getattr(settings, section)
    base = model.model_dump(exclude_unset=True)
    if section == "servicetitan":
        for field in CREDENTIAL_FIELDS:
            base.pop(field, None)
    return base


def build_tenant(
    settings: Settings,
    name: str,
    block: Mapping[str, Any],
    environ: Mapping[str, str],
    env_vars: Mapping[str, tuple[str, ...]],
) -> Settings:
    """The settings one tenant runs with: its block (and variables) over the top level.

    Raises ``ValueError`` naming ``[tenants.<name>]`` and the field."""
    label = f"[tenants.{name}]"
    if not TENANT_NAME.match(name):
        raise ValueError(f"{label}: a tenant name is 1-64 lowercase letters, digits, '-' or '_'")
    unknown = sorted(set(block) - set(TENANT_SECTIONS) - {"api_keys"})
    if unknown:
        raise ValueError(
            f"{label}: unknown section {', '.join(unknown)}; a tenant may set "
            f"{', '.join(TENANT_SECTIONS)} and api_keys"
        )
    block = merged(block, tenant_environment(name, environ, env_vars))
    update: dict[str, Any] = {}
    for section in TENANT_SECTIONS:
        own = block.get(section, {})
        if not isinstance(own, Mapping):
            raise ValueError(f"{label}.{section}: expected a table")
        field_type = type(getattr(settings, section))
        if not own and section != "servicetitan":
            continue
        try:
            update[section] = field_type.model_validate(merged(_section_base(settings, section), own))
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            if section == "servicetitan" and not where:  # a missing credential, named by its variable
                message += f" (in {label}.servicetitan, or as {env_prefix(name)}<VARIABLE>)"
            raise ValueError(f"{label}.{section}{'.' + where if where else ''}: {message}") from None
    sandbox = update.get("sandbox", settings.sandbox)
    if sandbox.state is None:  # each sandbox tenant keeps its own state file beside the store
        from st_mcp.config import default_state_folder

        state = default_state_folder(settings.database_url) / f"sandbox-{name}.db"
        update["sandbox"] = sandbox.model_copy(update={"state": str(state)})
    identity = settings.identity.model_copy(update={"tenant": name})
    return settings.model_copy(update={**update, "identity": identity, "tenants": {}})
