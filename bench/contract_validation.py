"""Benchmark: checking one HTTP exchange against ServiceTitan's OpenAPI documents.

Every conformance test and the recording transport pay this per request, so it decides how long the
suite takes. Reports milliseconds per exchange (a request and a 50-customer response page) with the
compiled fast path and with plain jsonschema, and their ratio.

    python -m bench.contract_validation --rounds 200     (from the repository root)
"""

from __future__ import annotations

import argparse
import time

from tests.conformance.contract import OPENAPI_DIR_ENV, ServiceTitanContract, default_openapi_dir
from tests.conformance.test_contract_checker import customer_page, request, response


def per_exchange_ms(contract: ServiceTitanContract, rounds: int) -> float:
    req = request("GET", "/crm/v2/tenant/1/customers?page=1&pageSize=50")
    resp = response(req, body=customer_page(50))
    assert contract.check_request(req) == [] and contract.check_response(req, resp) == []  # warm-up
    started = time.perf_counter()
    for _ in range(rounds):
        contract.check_request(req)
        contract.check_response(req, resp)
    return (time.perf_counter() - started) / rounds * 1000


def main(rounds: int) -> None:
    folder = default_openapi_dir()
    if not any(folder.glob("*.json")):
        raise SystemExit(f"ServiceTitan OpenAPI documents not found at {folder}; set {OPENAPI_DIR_ENV}")
    fast = per_exchange_ms(ServiceTitanContract(folder, fast=True), rounds)
    full = per_exchange_ms(ServiceTitanContract(folder, fast=False), rounds)
    print(f"contract check, GET customers with a 50-customer page, {rounds} rounds")
    print(f"{'path':<14}{'ms/exchange':>12}")
    print(f"{'fast':<14}{fast:>12.3f}")
    print(f"{'jsonschema':<14}{full:>12.3f}")
    print(f"jsonschema ÷ fast: {full / fast:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    main(parser.parse_args().rounds)
