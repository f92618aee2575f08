"""Fixtures that locate ServiceTitan's OpenAPI documents (never copied into this repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .contract import OPENAPI_DIR_ENV, ServiceTitanContract, default_openapi_dir


def find_openapi_dir() -> Path:
    """The documents' folder; skips where it is absent, but fails in CI, where it must be present."""
    path = default_openapi_dir()
    if not path.is_dir() or not any(path.glob("*.json")):
        message = f"ServiceTitan OpenAPI documents not found at {path}; set {OPENAPI_DIR_ENV}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def openapi_dir() -> Path:
    return find_openapi_dir()


@pytest.fixture(scope="session")
def contract(openapi_dir: Path) -> ServiceTitanContract:
    return ServiceTitanContract(openapi_dir)
