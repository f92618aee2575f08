"""Resources, resource templates, prompts and completions behind the guard tools pass (DESIGN §4).

Each of them declares its permission with ``Doors`` where it is registered (``resources.py``,
``prompts.py``), as tools do in the registry. One server middleware
sends every ``resources/read``, ``prompts/get`` and ``completion/complete`` through
``guard.through_the_guard`` — the permission check, error mapping and one audit record per request —
and filters ``resources/list``, ``resources/templates/list`` and ``prompts/list`` to what the principal
may read. A resource or prompt nobody declared is hidden and refused (fail closed), so a new one cannot
slip past the guard.

The client's mistakes (an unknown name, a missing or malformed argument) are JSON-RPC errors with code
-32602 (invalid params; for an unknown resource too, as the 2026-07-28 spec says) and one line per
field, logged without a traceback. A refusal for permission is also -32602; our own failures are
-32603 with an error id that leads to the logged traceback.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.shared.uri_template import UriTemplate
from mcp.types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    CompleteRequestParams,
    GetPromptRequestParams,
    ReadResourceRequestParams,
    SubscribeRequestParams,
    SubscriptionsListenRequestParams,
)
from pydantic import BaseModel, ValidationError

from st_mcp.policy.permissions import PERMISSIONS, argument_needs
from st_mcp.server.arguments import explain_validation_error
from st_mcp.server.context import AppContext
from st_mcp.server.guard import Door, Failure, tenant_app, through_the_guard, transport_of_request
from st_mcp.services.errors import UserInputError

M = TypeVar("M", bound=BaseModel)
DoorKind = Literal["resource", "template", "prompt"]

# The request being served, for code the SDK calls without it (static resources' ``read``).
_current_request: ContextVar[ServerRequestContext[Any, Any] | None] = ContextVar(
    "st_mcp_current_request", default=None
)


def current_app() -> AppContext | None:
    """The AppContext of the resource read, prompt render or completion in progress."""
    request = _current_request.get()
    return None if request is None else tenant_app(request.lifespan_context)


@dataclass(frozen=True, slots=True)
class DoorSpec:
    kind: DoorKind
    key: str  # the URI, the URI template, or the prompt's name — and the name the audit records
    permissions: tuple[str, ...]  # any one of these lets a principal through
    arguments: tuple[str, ...] = ()  # a prompt's arguments, a template's variables (what may be completed)
    required: tuple[str, ...] = ()  # a prompt's required arguments
    template: UriTemplate | None = field(default=None, compare=False)


def _declared(permission: str | tuple[str, ...]) -> tuple[str, ...]:
    needs = (permission,) if isinstance(permission, str) else tuple(permission)
    unknown = sorted(set(needs) - set(PERMISSIONS))
    if not needs or unknown:
        raise ValueError(f"a door must declare known permissions, got {needs!r}")
    return needs


class Doors:
    """The declared resources, templates and prompts of one server, and the middleware guarding them."""

    def __init__(self) -> None:
        self._resources: dict[str, DoorSpec] = {}
        self._templates: dict[str, DoorSpec] = {}
        self._prompts: dict[str, DoorSpec] = {}

    # -- declaring -----------------------------------------------------------------------------------
    def resource(self, uri: str, permission: str | tuple[str, ...]) -> None:
        self._resources[uri] = DoorSpec("resource", uri, _declared(permission))

    def template(self, uri_template: str, permission: str | tuple[str, ...]) -> None:
        parsed = UriTemplate.parse(uri_template)
        variables = tuple(parsed.variable_names)
        self._templates[uri_template] = DoorSpec(
            "template", uri_template, _declared(permission), variables, template=parsed
        )

    def prompt(
        self,
        name: str,
        permission: str | tuple[str, ...],
        arguments: tuple[str, ...] = (),
        required: tuple[str, ...] = (),
    ) -> None:
        self._prompts[name] = DoorSpec("prompt", name, _declared(permission), arguments, required)

    # -- finding -------------------------------------------------------------------------------------
    def for_uri(self, uri: str) -> tuple[DoorSpec, dict[str, Any]] | None:
        if uri in self._resources:
            return self._resources[uri], {}
        for spec in self._templates.values():
            assert spec.template is not None
            variables = spec.template.match(uri)
            if variables is not None:
                return spec, dict(variables)
        return None

    def for_reference(self, ref: Any) -> DoorSpec | None:
        if getattr(ref, "type", None) == "ref/prompt":
            return self._prompts.get(ref.name)
        uri = getattr(ref, "uri", None)
        return (self._templates.get(uri) or self._resources.get(uri)) if isinstance(uri, str) else None

    # -- the middleware ------------------------------------------------------------------------------
    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        handler = self._handlers.get(ctx.method)
        if handler is None:
            return await call_next(ctx)
        token = _current_request.set(ctx)
        try:
            return await handler(self, ctx, call_next)
        finally:
            _current_request.reset(token)

    async def _list(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if not isinstance(result, dict):
            return result
        key, field_name, declared = {
            "resources/list": ("resources", "uri", self._resources),
            "resources/templates/list": ("resourceTemplates", "uriTemplate", self._templates),
            "prompts/list": ("prompts", "name", self._prompts),
        }[ctx.method]
        app = tenant_app(ctx.lifespan_context)
        role = app.principal.role
        result[key] = [
            item
            for item in result.get(key, [])
            if (spec := declared.get(item.get(field_name))) is not None
            and app.policy.may(role, "see it", spec.permissions).allowed
        ]
        return result

    async def _read(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        params = _validated(ReadResourceRequestParams, ctx.params, "resources/read")
        door, arguments = self._resource_door(str(params.uri), "read")
        return await _guard(ctx, door, arguments, lambda: call_next(ctx))

    async def _subscribe(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """resources/subscribe (2025-11-25): the door of reading the resource, audited as a read."""
        params = _validated(SubscribeRequestParams, ctx.params, "resources/subscribe")
        door, arguments = self._resource_door(str(params.uri), "subscribe to")
        return await _guard(ctx, door, arguments, lambda: call_next(ctx))

    async def _listen(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """subscriptions/listen (2026-07-28): each resource asked for passes its door before the stream
        opens (the stream itself lives as long as the client wants; it is not one call to audit)."""
        params = _validated(SubscriptionsListenRequestParams, ctx.params, "subscriptions/listen")
        for uri in params.notifications.resource_subscriptions or ():
            door, arguments = self._resource_door(str(uri), "subscribe to")

            async def allowed() -> HandlerResult:
                return {}

            await _guard(ctx, door, arguments, allowed)
        return await call_next(ctx)

    def _resource_door(self, uri: str, verb: str) -> tuple[Door, dict[str, Any]]:
        found = self.for_uri(uri)
        if found is None:
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"No resource at {uri!r}. resources/list and resources/templates/list show what "
                "you may read.",
                data={"uri": uri},
            )
        spec, variables = found
        return Door("resource_read", spec.key, f"{verb} {spec.key}", spec.permissions), {
            "uri": uri,
            **variables,
        }

    async def _get_prompt(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        params = _validated(GetPromptRequestParams, ctx.params, "prompts/get")
        spec = self._prompts.get(params.name)
        if spec is None:
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"No prompt named {params.name!r}. prompts/list names the prompts you may render.",
            )
        arguments = dict(params.arguments or {})
        door = Door("prompt_get", spec.key, f"render the prompt {spec.key}", spec.permissions)

        async def render() -> HandlerResult:
            missing = [name for name in spec.required if not arguments.get(name, "").strip()]
            if missing:
                raise UserInputError("\n".join(f"{name}: required — {spec.key} needs it" for name in missing))
            return await call_next(ctx)

        return await _guard(ctx, door, arguments, render)

    async def _complete(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        params = _validated(CompleteRequestParams, ctx.params, "completion/complete")
        spec = self.for_reference(params.ref)
        if spec is None:
            raise MCPError(
                code=INVALID_PARAMS,
                message="No prompt or resource template by that reference. prompts/list and "
                "resources/templates/list name what you may complete.",
            )
        argument = params.argument.name
        door = Door(
            "completion",
            spec.key,
            f"complete {argument} of {spec.key}",
            spec.permissions,
            argument_needs(argument),
        )
        arguments = {"argument": argument, "value": params.argument.value}

        async def complete() -> HandlerResult:
            if argument not in spec.arguments:  # completers answer by name; only for this door's own
                names = ", ".join(spec.arguments) or "none"
                raise UserInputError(f"argument: {spec.key} has no argument {argument!r} (it has: {names})")
            return await call_next(ctx)

        return await _guard(ctx, door, arguments, complete)

    _handlers: dict[
        str, Callable[[Doors, ServerRequestContext[Any, Any], CallNext], Awaitable[HandlerResult]]
    ] = {
        "resources/list": _list,
        "resources/templates/list": _list,
        "prompts/list": _list,
        "resources/read": _read,
        "resources/subscribe": _subscribe,
        "subscriptions/listen": _listen,
        "prompts/get": _get_prompt,
        "completion/complete": _complete,
    }


def _validated(model: type[M], params: Mapping[str, Any] | None, method: str) -> M:
    try:
        return model.model_validate({} if params is None else params, by_name=False)
    except ValidationError as exc:
        raise MCPError(code=INVALID_PARAMS, message=f"{method}: {explain_validation_error(exc)}") from None


def _refusal(failure: Failure, message: str) -> Exception:
    return MCPError(code=INTERNAL_ERROR if failure == "ours" else INVALID_PARAMS, message=message)


async def _guard(
    ctx: ServerRequestContext[Any, Any],
    door: Door,
    arguments: Mapping[str, Any],
    call: Callable[[], Awaitable[HandlerResult]],
) -> HandlerResult:
    return await through_the_guard(
        tenant_app(ctx.lifespan_context),
        transport_of_request(ctx),
        door,
        arguments,
        call,
        _refusal,
        ctx.session,
        ctx,
    )
