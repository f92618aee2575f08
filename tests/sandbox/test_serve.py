"""The sandbox on a real loopback socket (what ``st-mcp sandbox --port`` runs)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_on_loopback() -> None:
    port = free_port()
    code = f"from st_mcp.sandbox.serve import serve; serve(port={port})"
    process = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stderr.readline()
        assert f"http://127.0.0.1:{port}" in banner and "/connect/token" in banner
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                form = {"grant_type": "client_credentials", "client_id": "cid.x", "client_secret": "cs1.y"}
                token = httpx.post(f"{base}/connect/token", data=form)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "sandbox did not start listening"
                time.sleep(0.05)
        assert token.status_code == 200
        headers = {"Authorization": f"Bearer {token.json()['access_token']}", "ST-App-Key": "ak1.x"}
        units = httpx.get(f"{base}/settings/v2/tenant/4417001/business-units", headers=headers)
        assert units.status_code == 200 and units.json()["data"]
    finally:
        process.terminate()
        process.wait(timeout=10)
