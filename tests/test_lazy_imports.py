"""Start-up stays fast (issue 17): building the server imports none of what only some calls need — the
sandbox (integration mode), the ZIP and phone geodata libraries the compact locale index replaced — and
reads no locale data until a lead needs it. A fresh interpreter, so nothing this test process imported
counts. ``bench/startup.py`` measures the time; this guards what the time depends on."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
from st_mcp.config import Settings
from st_mcp.server import create_server
from st_mcp.policy import locale_index

create_server(Settings(_env_file=None))
print(json.dumps({
    "modules": sorted(m for m in ("st_mcp.sandbox", "zipcodes", "phonenumbers.geocoder") if m in sys.modules),
    "locale_index_loaded": locale_index.index.cache_info().currsize,
}))
"""


def test_building_the_server_imports_nothing_it_does_not_need_yet() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert probe == {"modules": [], "locale_index_loaded": 0}
