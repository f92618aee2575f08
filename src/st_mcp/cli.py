"""st-mcp: serve ServiceTitan to AI agents over MCP, with permissions, compliance and an audit trail."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio

from st_mcp import __version__
from st_mcp.config import ConfigError, Settings, load_settings

DESCRIPTION = (
    "An MCP server that lets AI clients act as a home-service contractor's SMS and voice agent on "
    "ServiceTitan, with server-enforced permissions, compliance and a hash-chained audit log. With no "
    "ServiceTitan credentials (ST_TENANT_ID, ST_CLIENT_ID, ST_CLIENT_SECRET, ST_APP_KEY) it runs on an "
    "embedded sandbox tenant."
)
MIN_API_KEY_LENGTH = 16  # shorter keys are guessable; the hash does not make them any stronger


def _announce(settings: Settings) -> None:
    for name, own in settings.tenant_settings().items():
        st = own.servicetitan
        if not st.is_sandbox:
            continue
        whose = f"tenant {name}: " if settings.tenants else ""
        where = st.api_base_url or "in-process"
        print(
            f"st-mcp: {whose}using the sandbox ServiceTitan tenant {st.credentials()[0]} ({where}); set "
            "ST_TENANT_ID, ST_CLIENT_ID, ST_CLIENT_SECRET and ST_APP_KEY to use a real tenant",
            file=sys.stderr,
        )


def _sandbox_tenant(value: str) -> tuple[int, int | None]:
    """``--tenant ID[:SEED]``."""
    tenant, _, seed = value.partition(":")
    try:
        tenant_id, tenant_seed = int(tenant), int(seed) if seed else None
    except ValueError:
        raise argparse.ArgumentTypeError(f"give ID or ID:SEED, e.g. 3101:11 (got {value!r})") from None
    if tenant_id <= 0:
        raise argparse.ArgumentTypeError(f"a tenant id is a positive number (got {value!r})")
    return tenant_id, tenant_seed


def _sandbox_tenant_arguments(parser: argparse.ArgumentParser, *, nested: bool = False) -> None:
    # Given before or after "reset": a nested parser must not overwrite the outer value with its default.
    unset: dict[str, object] = {"default": argparse.SUPPRESS} if nested else {}
    parser.add_argument(
        "--state",
        help="the tenant's SQLite state file, or 'memory' for this process only (default: "
        "[sandbox].state, $ST_MCP_SANDBOX_STATE, else sandbox.db beside the store in the data folder)",
        **unset,
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="seed of a new or reset tenant; a stored tenant keeps its own (default: [sandbox].seed, 7)",
        **unset,
    )
    parser.add_argument(
        "--tenant",
        action="append",
        type=_sandbox_tenant,
        metavar="ID[:SEED]",
        help="serve this tenant id (seed SEED, else --seed); repeat for several tenants on one port, each "
        "with its own state file (the tenant id before --state's suffix) and client id "
        "sandbox-client-ID (default: one tenant, 4417001)",
        **unset,
    )
    parser.add_argument(
        "--clock",
        help="a new or reset tenant's clock starts here and runs on, e.g. 2026-03-14T19:45:00-06:00 "
        "(default: $ST_MCP_CLOCK, else real time)",
        **(unset or {"default": os.environ.get("ST_MCP_CLOCK") or None}),
    )


def _non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {value})")
    return number


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's defaults in every flag's help, except where there is nothing to show (None, off)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False) or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


def _command(commands: Any, name: str, summary: str) -> argparse.ArgumentParser:
    """A sub-command whose one-line summary is both its entry in the list and its own description."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=summary, description=f"{summary[0].upper()}{summary[1:]}.", formatter_class=_Help
    )
    return parser


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="st-mcp",
        description=DESCRIPTION,
        epilog="With no command, st-mcp serves MCP on stdio (what Claude Desktop and other clients start).",
        formatter_class=_Help,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config", help="TOML settings file (default: $ST_MCP_CONFIG, else none)")
    # `st-mcp` alone serves stdio, so a Claude Desktop entry is just {"command": "st-mcp"}.
    parser.set_defaults(transport="stdio", host="127.0.0.1", port=8000, stateless=False)
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")

    serve = _command(commands, "serve", "serve MCP on stdio, streamable HTTP or SSE")
    serve.add_argument(
        "--transport", choices=["stdio", "sse", "http"], default="stdio", help="how clients connect"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (http/sse; beyond loopback needs [auth])"
    )
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (http/sse)")
    serve.add_argument(
        "--stateless", action="store_true", help="streamable HTTP without sessions, for replicas (off)"
    )

    _command(commands, "demo", "run the scripted demo against the embedded sandbox tenant")

    sandbox = _command(
        commands,
        "sandbox",
        "serve the ServiceTitan sandbox tenant over HTTP ('sandbox reset' starts it afresh)",
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on")
    sandbox.add_argument("--port", type=int, default=8765, help="port to listen on")
    _sandbox_tenant_arguments(sandbox)
    sandbox.add_argument("--client-id", help="accept only this client id (default: any)")
    sandbox.add_argument("--client-secret", help="accept only this client secret (default: any)")
    sandbox.add_argument("--app-key", help="accept only this app key (default: any)")
    sandbox.add_argument(
        "--latency-ms",
        type=_non_negative_int,
        help="delay every request this long (default: [sandbox].latency_ms, $ST_MCP_SANDBOX_LATENCY_MS, 0)",
    )
    sandbox.add_argument(
        "--faults",
        metavar="FILE",
        help="TOML file of [[fault]] rules armed at start; more can be armed at run time with "
        "POST /_sandbox/faults (default: [sandbox].faults, $ST_MCP_SANDBOX_FAULTS, none)",
    )
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", metavar="COMMAND")
    reset = _command(
        sandbox_commands,
        "reset",
        "replace the stored sandbox tenant with a freshly seeded one (ids start over)",
    )
    _sandbox_tenant_arguments(reset, nested=True)
    progress = _command(
        sandbox_commands,
        "progress",
        "move a sandbox job on as a dispatcher and technician would: Dispatched, Working, Completed",
    )
    progress.add_argument("job_id", type=int, help="the sandbox job's id")
    progress.add_argument("status", choices=("Dispatched", "Working", "Completed"), help="where it moves")
    progress.add_argument("--technician", type=int, help="assign this technician id first (default: one is)")
    _sandbox_tenant_arguments(progress, nested=True)

    _command(commands, "check", "check the settings and that ServiceTitan answers")

    leads = _command(commands, "leads", "Speed to Lead intake from ServiceTitan")
    leads_commands = leads.add_subparsers(dest="leads_command", required=True, metavar="COMMAND")
    _command(leads_commands, "poll", "take in new Open ServiceTitan leads now (prints a JSON summary)")
    jobs = _command(commands, "jobs", "after the booking: the job-events watcher")
    jobs_commands = jobs.add_subparsers(dest="jobs_command", required=True, metavar="COMMAND")
    _command(jobs_commands, "watch", "read the job export feeds once and send the texts due (prints JSON)")

    auth = _command(commands, "auth", "helpers for HTTP authentication ([auth] in the config)")
    auth_commands = auth.add_subparsers(dest="auth_command", required=True, metavar="COMMAND")
    _command(auth_commands, "hash-key", "read an API key on stdin, print the SHA-256 [auth] stores")

    db = _command(commands, "db", "the store's schema revision (ST_MCP_DATABASE_URL)")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    _command(
        db_commands, "upgrade", "bring the store to the newest schema revision (every start does it too)"
    )
    _command(db_commands, "current", "print the store's schema revision and the newest one")

    audit = _command(commands, "audit", "check or export the audit trail (ST_MCP_DATABASE_URL)")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    verify = _command(audit_commands, "verify", "check the hash chain; exit 1 naming the first broken record")
    verify.add_argument(
        "--anchor",
        metavar="SEQ:HASH",
        help="a head printed by an earlier verify and kept elsewhere: also prove it is still there",
    )
    verify.add_argument(
        "--tenant", metavar="NAME", help="check this tenant's chain (default: every tenant's)"
    )
    export = _command(audit_commands, "export", "write the audit records as JSON Lines, oldest first")
    export.add_argument("--since", help="only records at or after this ISO 8601 time (default: all)")
    export.add_argument("--output", help="file to write (default: standard output)")
    export.add_argument(
        "--tenant", metavar="NAME", help="export this tenant's records (default: every tenant's)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (`st-mcp audit export | head`): what it wanted was written. Point stdout
        # at /dev/null so the interpreter's last flush does not complain, and end without a message.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "sandbox":
        return _serve_sandbox(args)
    if args.command == "auth":
        return _hash_key()
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"st-mcp: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "audit":
        from st_mcp import audit_commands

        if args.audit_command == "verify":
            return anyio.run(
                lambda: audit_commands.verify(settings.database_url, args.anchor, tenant=args.tenant)
            )
        return anyio.run(
            lambda: audit_commands.export(
                settings.database_url, since=args.since, output=args.output, tenant=args.tenant
            )
        )
    if args.command == "db":
        from st_mcp import db_commands

        command = db_commands.upgrade if args.db_command == "upgrade" else db_commands.current
        return anyio.run(command, settings.database_url)
    if args.command in (None, "serve"):
        from st_mcp.server.transports import listener_refusal

        refusal = listener_refusal(args.transport, args.host, authenticated=settings.auth.enabled)
        if refusal is not None:  # before anything else is said or opened
            print(f"st-mcp: {refusal}", file=sys.stderr)
            return 2
    if args.command in (None, "serve", "leads", "jobs"):
        _observability()
    _announce(settings)
    _quiet_http_logs()
    if args.command in (None, "serve"):
        from st_mcp.server import create_server
        from st_mcp.server.transports import listen_url, run

        server = create_server(
            settings,
            resource_url=listen_url(args.transport, args.host, args.port),
            # One long-running app (streamable HTTP) polls ServiceTitan for new leads in the background.
            poll_leads=args.transport == "http",
        )
        run(server, args.transport, host=args.host, port=args.port, stateless=args.stateless)
        return 0
    if args.command == "leads":
        from st_mcp.server.context import open_app_context

        async def poll() -> int:
            async with open_app_context(settings.tenant_settings()[settings.stdio_tenant]) as app:
                result = await app.lead_poller.poll_once()
            print(result.model_dump_json(indent=2))
            return 0

        return anyio.run(poll)
    if args.command == "jobs":
        from st_mcp.server.context import open_app_context

        async def watch() -> int:
            async with open_app_context(settings.tenant_settings()[settings.stdio_tenant]) as app:
                result = await app.lifecycle.watcher.poll_once()
            print(result.model_dump_json(indent=2))
            return 0

        return anyio.run(watch)
    if args.command == "demo":
        from st_mcp.demo import run_demo

        return anyio.run(run_demo, settings)
    if args.command == "check":
        from st_mcp.check import run_check

        return anyio.run(run_check, settings)
    _parser().print_help(sys.stderr)
    return 2


def _observability() -> None:
    """Structured logs on stderr and, when configured, OpenTelemetry tracing — before the server is built."""
    from st_mcp import tracing
    from st_mcp.logs import configure_logging

    configure_logging(os.environ.get("ST_MCP_LOG_LEVEL", "INFO").upper())
    tracing.configure(__version__)


def _quiet_http_logs() -> None:
    # One plain line per record on stderr, set before the SDK's own basicConfig (which would pick
    # rich's console handler whenever rich happens to be installed) so the format never depends on it.
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    # httpx logs every request at INFO; tool-level lines from st_mcp are what an operator wants.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _hash_key() -> int:
    """Operators put this hash in [auth] api_keys, never the key itself."""
    from st_mcp.server.auth import hash_key

    key = getpass.getpass("API key: ") if sys.stdin.isatty() else sys.stdin.read()
    key = key.strip()  # a trailing newline from echo or a file is not part of the key
    if len(key) < MIN_API_KEY_LENGTH:
        print(
            f"st-mcp: give an API key of at least {MIN_API_KEY_LENGTH} characters on standard input "
            '(e.g. python -c "import secrets; print(secrets.token_urlsafe(32))")',
            file=sys.stderr,
        )
        return 2
    print(hash_key(key))
    return 0


def _progress_sandbox_job(args: argparse.Namespace, state: Path | None, tenant_id: int) -> int:
    """``st-mcp sandbox progress JOB STATUS``: change the stored tenant, as the admin route does."""
    from st_mcp.sandbox import SandboxConfig, create_sandbox_app
    from st_mcp.sandbox.progress import ProgressError, advance_job

    if state is None:
        print("st-mcp: sandbox progress: the state is 'memory'; no process would see it", file=sys.stderr)
        return 2
    app = create_sandbox_app(SandboxConfig(state=state, tenant_id=tenant_id))
    tenant, file = app.state.sandbox, app.state.state_file
    try:
        with file.writing_now():
            file.refresh(tenant)
            job = advance_job(tenant, args.job_id, args.status, args.technician)
            file.save(tenant)
    except ProgressError as exc:
        print(f"st-mcp: sandbox progress: {exc}", file=sys.stderr)
        return 2
    finally:
        file.close()
    print(json.dumps({"jobId": job.id, "jobStatus": job.status}))
    return 0


def _serve_sandbox(args: argparse.Namespace) -> int:
    from st_mcp.sandbox import SANDBOX_TENANT_ID, SandboxClock, SandboxConfig, create_sandbox_app
    from st_mcp.sandbox.config import state_path, tenant_state_path
    from st_mcp.sandbox.faults import FaultsFileError, load_fault_rules
    from st_mcp.sandbox.statefile import StateFile

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"st-mcp: configuration error: {exc}", file=sys.stderr)
        return 2
    options = settings.sandbox
    clock = None
    if args.clock:
        try:
            start = datetime.fromisoformat(args.clock)
        except ValueError:
            start = None
        if start is None or start.tzinfo is None:
            print(
                f"st-mcp: configuration error: ST_MCP_CLOCK: give an ISO 8601 time with a UTC offset, "
                f"e.g. 2026-03-14T19:45:00-06:00 (got {args.clock!r})",
                file=sys.stderr,
            )
            return 2
        clock = SandboxClock.starting_at(start)
    state = state_path(args.state) if args.state else options.state_path(settings.database_url)
    seed = args.seed if args.seed is not None else options.seed
    # (tenant id, seed, state file) of each tenant: one, as before, unless --tenant names several.
    tenants: list[tuple[int, int, Path | None]] = [(SANDBOX_TENANT_ID, seed, state)]
    if getattr(args, "tenant", None):
        tenants = [
            (tid, own if own is not None else seed, tenant_state_path(state, tid) if state else None)
            for tid, own in args.tenant
        ]
        if len({tid for tid, _, _ in tenants}) != len(tenants):
            print("st-mcp: configuration error: --tenant: each tenant id once", file=sys.stderr)
            return 2
    if args.sandbox_command == "reset":
        if state is None:
            print("st-mcp: sandbox reset: the state is 'memory'; there is nothing to reset", file=sys.stderr)
            return 2
        for tid, own_seed, own_state in tenants:
            assert own_state is not None
            start = SandboxConfig(seed=own_seed, clock=clock, tenant_id=tid)
            try:
                StateFile(own_state).replace(create_sandbox_app(start).state.sandbox)
            except (OSError, sqlite3.Error) as exc:
                print(f"st-mcp: sandbox reset: cannot write {own_state}: {exc}", file=sys.stderr)
                return 2
            which = f" {tid}" if getattr(args, "tenant", None) else ""
            print(f"st-mcp: sandbox tenant{which} in {own_state} reset (seed {own_seed})", file=sys.stderr)
        return 0
    if args.sandbox_command == "progress":
        if len(tenants) != 1:
            print("st-mcp: sandbox progress: name one --tenant", file=sys.stderr)
            return 2
        return _progress_sandbox_job(args, tenants[0][2], tenants[0][0])
    faults_file = args.faults or options.faults
    try:
        faults = load_fault_rules(Path(faults_file).expanduser()) if faults_file else []
    except FaultsFileError as exc:
        print(f"st-mcp: configuration error: --faults: {exc}", file=sys.stderr)
        return 2
    for _, _, own_state in tenants:
        if own_state is not None:
            try:  # one line now rather than a traceback from inside the server
                StateFile(own_state).close()
            except (OSError, sqlite3.Error) as exc:
                print(f"st-mcp: sandbox: cannot open the state file {own_state}: {exc}", file=sys.stderr)
                return 2
    latency_ms = args.latency_ms if args.latency_ms is not None else options.latency_ms
    configs = [
        SandboxConfig(
            seed=own_seed,
            tenant_id=tid,
            client_id=args.client_id,
            client_secret=args.client_secret,
            app_key=args.app_key,
            # Each tenant its own clock (a test moving one tenant's time leaves the others'), same start.
            clock=SandboxClock.starting_at(datetime.fromisoformat(args.clock)) if args.clock else None,
            latency_seconds=latency_ms / 1000,
            state=own_state,
            faults=list(faults),
        )
        for tid, own_seed, own_state in tenants
    ]
    from st_mcp.sandbox.serve import serve, serve_tenants

    if getattr(args, "tenant", None):
        serve_tenants(args.host, args.port, configs)
    else:
        serve(host=args.host, port=args.port, config=configs[0])
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
