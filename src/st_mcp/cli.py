"""The ``st-mcp`` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import anyio

from st_mcp.config import ConfigError, Settings, load_settings


def _announce(settings: Settings) -> None:
    st = settings.servicetitan
    if st.is_sandbox:
        tenant = st.credentials()[0]
        where = st.api_base_url or "in-process"
        print(
            f"st-mcp: using the sandbox ServiceTitan tenant {tenant} ({where}); set ST_TENANT_ID, "
            "ST_CLIENT_ID, ST_CLIENT_SECRET and ST_APP_KEY to use a real tenant",
            file=sys.stderr,
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="st-mcp", description=__doc__)
    parser.add_argument("--config", help="TOML settings file (default: $ST_MCP_CONFIG)")
    # `st-mcp` alone serves stdio, so a Claude Desktop entry is just {"command": "st-mcp"}.
    parser.set_defaults(transport="stdio", host="127.0.0.1", port=8000, stateless=False)
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="serve MCP (default when no command is given: stdio)")
    serve.add_argument("--transport", choices=["stdio", "sse", "http"], default="stdio")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--stateless", action="store_true", help="streamable HTTP without sessions (replicas)")

    commands.add_parser("demo", help="run the scripted demo against the embedded sandbox tenant")

    sandbox = commands.add_parser("sandbox", help="serve the ServiceTitan sandbox tenant over HTTP")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--seed", type=int, default=7)
    sandbox.add_argument("--client-id", help="accept only this client id (default: any)")
    sandbox.add_argument("--client-secret", help="accept only this client secret (default: any)")
    sandbox.add_argument("--app-key", help="accept only this app key (default: any)")

    commands.add_parser("check", help="check the settings and that ServiceTitan answers")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "sandbox":
        return _serve_sandbox(args)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"st-mcp: configuration error: {exc}", file=sys.stderr)
        return 2
    _announce(settings)
    _quiet_http_logs()
    if args.command in (None, "serve"):
        from st_mcp.server import create_server
        from st_mcp.server.transports import run

        run(create_server(settings), args.transport, host=args.host, port=args.port, stateless=args.stateless)
        return 0
    if args.command == "demo":
        from st_mcp.demo import run_demo

        return anyio.run(run_demo, settings)
    if args.command == "check":
        from st_mcp.check import run_check

        return anyio.run(run_check, settings)
    _parser().print_help(sys.stderr)
    return 2


def _quiet_http_logs() -> None:
    # httpx logs every request at INFO; tool-level lines from st_mcp are what an operator wants.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _serve_sandbox(args: argparse.Namespace) -> int:
    from st_mcp.sandbox import SandboxConfig
    from st_mcp.sandbox.serve import serve

    config = SandboxConfig(
        seed=args.seed, client_id=args.client_id, client_secret=args.client_secret, app_key=args.app_key
    )
    serve(host=args.host, port=args.port, config=config)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
