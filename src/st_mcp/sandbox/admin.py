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
from .revenue import convert_booking
from .state import SandboxTenant

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


CONVERT_BOOKING_PATH = "/_sandbox/bookings/{id:int}/convert"


def booking_admin_routes(tenant: SandboxTenant) -> list[Route]:
    """``POST /_sandbox/bookings/{id}/convert`` ``{"customerId", "locationId"}``: a CSR converts a CRM
    booking into a job (ServiceTitan's booking inbox has no API for it)."""

    async def convert_endpoint(request: Request) -> Response:
        if not _is_local(request):
            return problem_response(403, "The sandbox's admin knobs answer only on this machine.")
        booking = tenant.bookings.get(int(request.path_params["id"]))
        if booking is None:
            return problem_response(404, "Booking not found.")
        try:
            body = json.loads(await request.body())
            customer_id, location_id = int(body["customerId"]), int(body["locationId"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            return problem_response(400, errors={"": ['Send {"customerId": …, "locationId": …}.']})
        location = tenant.locations.get(location_id)
        if location is None or location.customer_id != customer_id:
            return problem_response(400, errors={"locationId": ["Not a location of that customer."]})
        try:
            job = convert_booking(tenant, booking, customer_id, location_id)
        except ValueError as exc:
            return problem_response(409, str(exc))
        return JSONResponse({"bookingId": booking.id, "jobId": job.id, "jobNumber": job.job_number})

    return [Route(CONVERT_BOOKING_PATH, convert_endpoint, methods=["POST"])]
