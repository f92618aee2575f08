"""``/_sandbox/faults``: arm, list and clear fault rules at run time (tests and benchmarks against the
loopback sandbox). Not a ServiceTitan path; answered only to callers on this machine."""

from __future__ import annotations

import json
from ipaddress import ip_address

from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .faults import FaultInjector, FaultRule
from .problems import problem_response

FAULTS_PATH = "/_sandbox/faults"
_RULES = TypeAdapter(list[FaultRule])


def admin_routes(faults: FaultInjector) -> list[Route]:
    async def faults_endpoint(request: Request) -> Response:
        if not _is_local(request):
            return problem_response(403, "The sandbox's fault knobs answer only on this machine.")
        if request.method == "DELETE":
            faults.clear()
            return Response(status_code=204)
        if request.method == "POST":
            try:
                body = json.loads(await request.body())
                rules = _RULES.validate_python(body if isinstance(body, list) else [body])
            except json.JSONDecodeError:
                return problem_response(400, errors={"": ["The request body is not valid JSON."]})
            except ValidationError as exc:
                errors: dict[str, list[str]] = {}
                for error in exc.errors(include_url=False):
                    name = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
                    errors.setdefault(name or "", []).append(error["msg"].removeprefix("Value error, "))
                return problem_response(400, errors=errors)
            armed = [faults.add_rule(rule).describe() for rule in rules]
            return JSONResponse({"faults": armed}, status_code=201)
        return JSONResponse({"faults": [fault.describe() for fault in faults.faults]})

    return [Route(FAULTS_PATH, faults_endpoint, methods=["GET", "POST", "DELETE"])]


def _is_local(request: Request) -> bool:
    host = request.client.host if request.client else None
    if host is None or host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
