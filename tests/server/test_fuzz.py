"""Every door with generated and hostile input, through a real MCP client (issue 11).

Each tool is called with arguments Hypothesis generates from its own ``inputSchema`` — valid by the
schema, nonsense by meaning — and with hostile strings put into its string fields (10,000 characters,
NUL, non-ASCII, markup, path traversal, SQL). Every resource template is read and every prompt rendered
with the same strings. Whatever comes in, the server answers: no protocol error from a tool, no internal
error ("went wrong on our side"), no error longer than 500 characters, and it keeps answering after.

Arguments come from the schema's own types, bounds, enums and formats (``from_schema``: the subset of JSON
Schema pydantic writes for these tools). Bounded and derandomized for CI (``FUZZ_EXAMPLES`` per tool,
default 12).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import anyio.from_thread
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.shared.exceptions import MCPError

from st_mcp.config import load_settings
from st_mcp.sandbox import SandboxClock, SandboxConfig
from st_mcp.server import create_server
from st_mcp.upstream import connect_servicetitan

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
MAX_ERROR = 500
INTERNAL = "went wrong on our side"
HOSTILE = [
    "x" * 10_000,
    "\x00",
    "ü" * 300,
    "ＳＴＯＰ",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "'; DROP TABLE interactions; --",
    "{{7*7}} ${jndi:ldap://x}",
    "9" * 40,
    " ",
    "slot1.é.x",
]
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def portal_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Client]]:
    """A manager (every tool) on the embedded sandbox, its client living in a portal's event loop."""
    folder = tmp_path_factory.mktemp("fuzz")
    env = {"ST_MCP_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'st.db'}", "ST_MCP_ROLE": "manager"}
    configured = load_settings(environ=env)
    clock = SandboxClock(fixed=datetime(2026, 5, 5, 16, 30, tzinfo=UTC))
    with anyio.from_thread.start_blocking_portal() as portal:
        upstream = connect_servicetitan(configured.servicetitan, sandbox_config=SandboxConfig(clock=clock))
        server = create_server(configured, upstream=upstream)
        with portal.wrap_async_context_manager(Client(server)) as client:
            yield portal, client
        portal.call(upstream.client.aclose)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid by ``schema``: objects (required and optional properties), anyOf, enum, string with
    length bounds and date-time format, integer and number with bounds, boolean, arrays, null."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([from_schema(option) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "object":
        properties = {name: from_schema(sub) for name, sub in schema.get("properties", {}).items()}
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {name: strategy for name, strategy in properties.items() if name in required},
            optional={name: strategy for name, strategy in properties.items() if name not in required},
        )
    if kind == "string":
        if schema.get("format") == "date-time":
            return st.datetimes(timezones=st.just(UTC)).map(lambda moment: moment.isoformat())
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 60), 60))
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", -(2**63)) + 1)
        high = schema.get("maximum", 2**63 - 1)
        return st.integers(min_value=int(low), max_value=int(high))
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(
            from_schema(schema.get("items", {"type": "string"})),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 5), 5),
        )
    if kind == "null":
        return st.none()
    raise AssertionError(f"the fuzzer does not know this schema: {schema}")


def _hostile(value: Any, word: str) -> Any:
    """``value`` with every string in it replaced by ``word``."""
    if isinstance(value, str):
        return word
    if isinstance(value, dict):
        return {key: _hostile(item, word) for key, item in value.items()}
    if isinstance(value, list):
        return [_hostile(item, word) for item in value]
    return value


def _text(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content or [])


def _tools(portal_client: tuple[Any, Client]) -> list[Any]:
    portal, client = portal_client
    return list(portal.call(client.list_tools).tools)


def _check_answer(portal: Any, client: Client, name: str, arguments: dict[str, Any]) -> None:
    try:
        result = portal.call(client.call_tool, name, arguments)
    except MCPError as exc:  # a tool answers even nonsense with a result, never a protocol error
        raise AssertionError(f"{name}({arguments!r:.200}) → protocol error {exc}") from exc
    if result.is_error:
        text = _text(result)
        assert INTERNAL not in text, f"{name}({arguments!r:.200}) → {text}"
        assert len(text) <= MAX_ERROR, f"{name} answered {len(text)} characters: {text[:300]}"


def _fuzz_tool(portal: Any, client: Client, name: str, schema: dict[str, Any]) -> None:
    arguments = from_schema(schema)
    hostile = st.tuples(arguments, st.sampled_from(HOSTILE)).map(lambda pair: _hostile(*pair))

    @FUZZ
    @given(st.one_of(arguments, hostile))
    def call(generated: dict[str, Any]) -> None:
        _check_answer(portal, client, name, generated)

    call()


@pytest.mark.slow
def test_every_tool_answers_generated_and_hostile_arguments(portal_client: tuple[Any, Client]) -> None:
    portal, client = portal_client
    tools = _tools(portal_client)
    assert len(tools) >= 20
    for tool in tools:
        _fuzz_tool(portal, client, tool.name, dict(tool.input_schema))
    # Still alive and answering after all of it.
    assert portal.call(client.call_tool, "get_lead_queue", {}).is_error is False


@pytest.mark.slow
def test_every_resource_and_prompt_answers_hostile_arguments(portal_client: tuple[Any, Client]) -> None:
    portal, client = portal_client
    templates = portal.call(client.list_resource_templates).resource_templates
    prompts = portal.call(client.list_prompts).prompts
    assert templates and prompts
    for word in HOSTILE:
        for template in templates:
            uri = template.uri_template.split("{", 1)[0] + word.replace(" ", "%20")
            try:
                portal.call(client.read_resource, uri)
            except MCPError as exc:  # a refusal is a protocol error here — a short, known one
                assert INTERNAL not in exc.error.message and len(exc.error.message) <= MAX_ERROR, exc
                assert exc.error.code in (-32602, -32002), exc
        for prompt in prompts:
            arguments = {argument.name: word for argument in prompt.arguments or []}
            try:
                portal.call(client.get_prompt, prompt.name, arguments)
            except MCPError as exc:
                assert INTERNAL not in exc.error.message and len(exc.error.message) <= MAX_ERROR, exc
                assert exc.error.code == -32602, exc
    assert portal.call(client.list_tools).tools
