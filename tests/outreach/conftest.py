"""Speed to Lead tests reuse the interactions fixtures: a real in-memory client per principal."""

from __future__ import annotations

from tests.interactions.conftest import agent as agent
from tests.interactions.conftest import csr as csr
from tests.interactions.conftest import harness as harness
