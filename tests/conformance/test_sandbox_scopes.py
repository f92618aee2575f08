"""The sandbox demands exactly the OAuth scope ServiceTitan's documents declare for each operation."""

from __future__ import annotations

from st_mcp.sandbox.routes import ENDPOINTS
from st_mcp.sandbox.scopes import OPERATION_SCOPES

from .contract import ServiceTitanContract


def test_every_route_has_the_scope_the_spec_declares(contract: ServiceTitanContract) -> None:
    assert {(e.method, e.path) for e in ENDPOINTS} == set(OPERATION_SCOPES)
    for (method, template), scope in OPERATION_SCOPES.items():
        path = template.replace("{tenant}", "1").replace("{id}", "2").replace("{zoneId}", "2")
        path = path.replace("{booking_provider}", "3")
        operation = contract.resolve(method, path)
        declared = [requirement.get("oauth") for requirement in operation.spec.get("security", [])]
        assert [scope] in declared, (method, template, declared)
