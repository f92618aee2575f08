"""Build the MCPB bundle (a Claude Desktop extension): ``./scripts/mcpb`` runs this.

The bundle is a zip of ``manifest.json`` and ``server/`` holding st-mcp's own wheel. Claude Desktop starts
it with ``uvx --from <the wheel> st-mcp`` (uv fetches the dependencies from PyPI on first start, for the
user's platform), so one bundle serves macOS, Windows and Linux. The install dialog asks for the
``user_config`` fields; every one may stay empty, which runs the embedded sandbox tenant.

Usage: python release/mcpb.py [--wheel PATH] [--output DIR]   (default: build the wheel into dist/)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MANIFEST_VERSION = "0.3"  # the newest stable one; 0.4 ("uv" servers) is marked experimental


def user_config() -> dict[str, dict[str, Any]]:
    def field(title: str, description: str, *, sensitive: bool = False, default: str = "") -> dict[str, Any]:
        entry: dict[str, Any] = {
            "type": "string",
            "title": title,
            "description": description,
            "required": False,
            "default": default,
        }
        if sensitive:
            entry["sensitive"] = True
        return entry

    empty = "Leave empty to try the embedded sandbox tenant."
    return {
        "tenant_id": field("ServiceTitan tenant ID", f"Your tenant (company) id, digits only. {empty}"),
        "client_id": field("Client ID", f"The OAuth client id issued for this tenant (cid.…). {empty}"),
        "client_secret": field("Client secret", f"The OAuth client secret (cs1.…). {empty}", sensitive=True),
        "app_key": field("App key", f"Your ServiceTitan application key (ak1.…). {empty}", sensitive=True),
        "environment": field(
            "Environment",
            "production or integration (the ServiceTitan environment the credentials belong to); "
            "empty: production with credentials, the sandbox without.",
        ),
        "role": field(
            "Role",
            "What this assistant may do: virtual_agent (books, texts), csr, dispatcher, manager or auditor "
            "(reads only).",
            default="virtual_agent",
        ),
    }


# Each user_config field → the variable st-mcp reads (an empty value means "not set").
ENVIRONMENT = {
    "ST_TENANT_ID": "tenant_id",
    "ST_CLIENT_ID": "client_id",
    "ST_CLIENT_SECRET": "client_secret",
    "ST_APP_KEY": "app_key",
    "ST_ENVIRONMENT": "environment",
    "ST_MCP_ROLE": "role",
}


def manifest(version: str, wheel_name: str) -> dict[str, Any]:
    # The registry fills as the tool modules are imported.
    from st_mcp.server.tools import admin, agent, conversation, interactions  # noqa: F401
    from st_mcp.server.tools.registry import TOOLS

    entry = f"server/{wheel_name}"
    return {
        "manifest_version": MANIFEST_VERSION,
        "name": "st-mcp",
        "display_name": "st-mcp — ServiceTitan agent",
        "version": version,
        "description": "Book, reschedule and follow up ServiceTitan jobs as a contractor's SMS/voice agent, "
        "with permissions, compliance and an audit trail enforced by the server.",
        "long_description": (
            "st-mcp lets an AI assistant act as a home-service contractor's SMS and voice agent on "
            "ServiceTitan: look customers up, offer real capacity, book and reschedule jobs, take in leads "
            "and escalate to a dispatcher. The server enforces the role's permissions, quiet hours, "
            "opt-outs and touch caps, and keeps a hash-chained audit log.\n\n"
            "Leave the credentials empty to try it on the embedded sandbox tenant. Needs `uv` "
            "(https://docs.astral.sh/uv/) on the machine: the bundle starts st-mcp with `uvx`."
        ),
        "author": {"name": "st-mcp contributors"},
        "homepage": "https://pypi.org/project/st-mcp/",
        "license": "Apache-2.0",
        "keywords": ["servicetitan", "field-service", "sms", "voice-agent", "booking"],
        "server": {
            "type": "python",
            "entry_point": entry,
            "mcp_config": {
                "command": "uvx",
                "args": ["--from", f"${{__dirname}}/{entry}", "st-mcp"],
                "env": {name: f"${{user_config.{key}}}" for name, key in ENVIRONMENT.items()},
            },
        },
        "tools": [
            {"name": spec.name, "description": (spec.fn.__doc__ or spec.title).strip().splitlines()[0]}
            for spec in TOOLS
        ],
        "tools_generated": True,  # the list a client sees depends on the role
        "compatibility": {"platforms": ["darwin", "win32", "linux"], "runtimes": {"python": ">=3.11"}},
        "user_config": user_config(),
    }


def build_wheel(output: Path) -> Path:
    output.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check",
         "-w", str(output), str(REPO)],
        check=True,
    )  # fmt: skip
    (wheel,) = sorted(output.glob("st_mcp-*.whl"), key=lambda path: path.stat().st_mtime)[-1:]
    return wheel


def build(wheel: Path, output: Path) -> Path:
    """Write ``st-mcp-<version>.mcpb`` (and the manifest beside it, for validators) into ``output``."""
    version = wheel.name.split("-")[1]
    data = manifest(version, wheel.name)
    output.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    (output / "manifest.json").write_text(text, encoding="utf-8")
    bundle = output / f"st-mcp-{version}.mcpb"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", text)
        archive.write(wheel, data["server"]["entry_point"])
        archive.write(REPO / "LICENSE", "LICENSE")
    return bundle


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="an st-mcp wheel to bundle (default: build one)")
    parser.add_argument("--output", type=Path, default=REPO / "dist", help="where to write the bundle")
    args = parser.parse_args()
    wheel = args.wheel or build_wheel(args.output)
    print(build(wheel, args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
