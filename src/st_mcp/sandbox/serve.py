"""Serve the sandbox on loopback, for other programs (``st-mcp sandbox --port 8765``)."""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from .app import create_sandbox_app
from .auth import TOKEN_PATH
from .config import SandboxConfig
from .middleware import DROP_CONNECTION


def serve(host: str = "127.0.0.1", port: int = 8765, config: SandboxConfig | None = None) -> None:
    config = config or SandboxConfig()
    app = create_sandbox_app(config)
    base = f"http://{host}:{port}"
    where = str(config.state) if config.state is not None else "in memory"
    print(
        f"ServiceTitan sandbox (tenant {config.tenant_id}, state {where}) at {base}  "
        f"token URL {base}{TOKEN_PATH}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(ConnectionDropper(app), host=host, port=port, log_level="warning")


def serve_tenants(host: str, port: int, configs: list[SandboxConfig]) -> None:
    """Several seeded tenants on one port (``--tenant``); see multi.py for how a request finds its own."""
    from .multi import create_multi_sandbox_app

    app = create_multi_sandbox_app(configs)
    base = f"http://{host}:{port}"
    for config in configs:
        where = str(config.state) if config.state is not None else "in memory"
        print(
            f"ServiceTitan sandbox tenant {config.tenant_id} (seed {config.seed}, state {where})",
            file=sys.stderr,
        )
    default = app.default
    print(
        f"at {base}  token URL {base}{TOKEN_PATH}  (client id sandbox-client-<tenant id>; the plain one "
        f"is tenant {default}'s; admin routes take ?tenant=<id>)",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(ConnectionDropper(app), host=host, port=port, log_level="warning")


class ConnectionDropper:
    """Lets a ``reset``/``timeout`` fault drop a request's TCP connection with no answer at all.

    ASGI gives an app no handle on its connection, but uvicorn's ``send`` is a method of the request's
    cycle object, which holds the asyncio transport; where that is not so, the fault falls back to raising
    (uvicorn then answers 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport: Any = getattr(getattr(send, "__self__", None), "transport", None)
        if scope["type"] == "http" and transport is not None:
            scope[DROP_CONNECTION] = lambda: _reset(transport)
        await self.app(scope, receive, send)


def _reset(transport: Any) -> None:
    if transport.is_closing():  # the caller gave up first (a timeout fault outlasting its patience)
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:  # linger 0: the close sends RST, as a crashed or overloaded peer does
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
