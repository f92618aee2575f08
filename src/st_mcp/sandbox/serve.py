"""Serve the sandbox on loopback, for other programs (``st-mcp sandbox --port 8765``)."""

from __future__ import annotations

import sys

import uvicorn

from .app import create_sandbox_app
from .auth import TOKEN_PATH
from .config import SandboxConfig


def serve(host: str = "127.0.0.1", port: int = 8765, config: SandboxConfig | None = None) -> None:
    config = config or SandboxConfig()
    app = create_sandbox_app(config)
    base = f"http://{host}:{port}"
    print(
        f"ServiceTitan sandbox (tenant {config.tenant_id}) at {base}  token URL {base}{TOKEN_PATH}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")
