"""Prompt files → MCP prompts, rendered with live context.

Each Markdown file has front matter (``name``, ``title``, ``description``, ``permission``: what a
principal needs to see and render it, ``arguments``: a list of ``name``/``description``/``required``)
and a body with ``string.Template`` ``$placeholders``, filled from ``services.prompt_context`` (its
``CONVERSATION_KEYS`` / ``TRIAGE_KEYS``). Unknown placeholders stay
visible rather than failing, so a typo in an operator's file shows in the output instead of crashing.

The shipped files live in the repository's ``prompts/`` folder, installed as the package
``st_mcp.prompt_files``. A file in ``settings.prompts_dir`` whose prompt name matches a shipped one
replaces it; a new name is added. Which facts a prompt gets follows from its arguments: a prompt that
takes ``interaction_id`` is about one conversation, any other gets the triage facts (``since``).
An operator's file that declares no permission keeps the shipped prompt's, and a new one needs
``chats.view`` (it renders conversations). Every render passes the guard (``doors.py``).
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from string import Template

from mcp.server.mcpserver import Context, MCPServer, UserMessage
from mcp.server.mcpserver.prompts.base import Message, Prompt, PromptArgument
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from st_mcp.config import Settings
from st_mcp.policy.permissions import PERMISSIONS
from st_mcp.server.context import AppContext
from st_mcp.server.doors import Doors
from st_mcp.server.guard import app_context
from st_mcp.services.errors import UserInputError
from st_mcp.services.prompt_context import CONVERSATION_KEYS, TRIAGE_KEYS, PromptContext

log = logging.getLogger("st_mcp.prompts")

SHIPPED_PACKAGE = "st_mcp.prompt_files"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_FIELDS = frozenset({"name", "title", "description", "permission", "arguments"})
# A prompt renders conversations, so one that declares nothing needs View Customer Chats.
DEFAULT_PERMISSION = "chats.view"
_ARGUMENT_FIELDS = frozenset({"name", "description", "required"})


class PromptFileError(ValueError):
    """A prompt file is malformed; the message names the file and what is wrong."""


@dataclass(frozen=True, slots=True)
class PromptFile:
    name: str
    title: str | None
    description: str
    arguments: tuple[PromptArgument, ...]
    template: Template
    source: str
    permission: str | None = None  # None: not declared in the file

    @property
    def about_one_conversation(self) -> bool:
        return any(argument.name == "interaction_id" for argument in self.arguments)


# ---------------------------------------------------------------------- parsing
def parse_prompt(text: str, source: str) -> PromptFile:
    """Read one prompt file: ``---`` front matter (a small YAML subset) ``---``, then the body."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise PromptFileError(f"{source}: must start with '---' front matter")
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == "---")
    except StopIteration:
        raise PromptFileError(f"{source}: front matter has no closing '---'") from None
    fields, arguments = _front_matter(lines[1:end], source)
    name = fields.get("name", "")
    if not _NAME.match(name):
        raise PromptFileError(f"{source}: 'name' must be lower_snake_case, got {name!r}")
    body = "\n".join(lines[end + 1 :]).strip() + "\n"
    permission = fields.get("permission") or None
    if permission is not None and permission not in PERMISSIONS:
        raise PromptFileError(
            f"{source}: unknown permission {permission!r} (use one of {', '.join(PERMISSIONS)})"
        )
    return PromptFile(
        name=name,
        title=fields.get("title") or None,
        description=fields.get("description", ""),
        arguments=tuple(arguments),
        template=Template(body),
        source=source,
        permission=permission,
    )


def _front_matter(lines: list[str], source: str) -> tuple[dict[str, str], list[PromptArgument]]:
    fields: dict[str, str] = {}
    raw_arguments: list[dict[str, str]] = []
    in_arguments = False
    for number, line in enumerate(lines, 2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{source}:{number}"
        if not line[0].isspace():  # a top-level key
            key, value = _pair(line, where)
            if key not in _FIELDS:
                raise PromptFileError(f"{where}: unknown key {key!r} (use {', '.join(sorted(_FIELDS))})")
            in_arguments = key == "arguments"
            if in_arguments and value:
                raise PromptFileError(f"{where}: 'arguments' takes a list of '- name: …' entries")
            fields[key] = value
            continue
        if not in_arguments:
            raise PromptFileError(f"{where}: unexpected indented line")
        item = line.strip()
        if item.startswith("- "):
            raw_arguments.append({})
            item = item[2:]
        if not raw_arguments:
            raise PromptFileError(f"{where}: an argument starts with '- name: …'")
        key, value = _pair(item, where)
        if key not in _ARGUMENT_FIELDS:
            raise PromptFileError(f"{where}: unknown argument key {key!r}")
        raw_arguments[-1][key] = value
    arguments = []
    for raw in raw_arguments:
        if not _NAME.match(raw.get("name", "")):
            raise PromptFileError(f"{source}: every argument needs a lower_snake_case 'name'")
        required = raw.get("required", "false").casefold()
        if required not in ("true", "false"):
            raise PromptFileError(f"{source}: argument {raw['name']!r}: 'required' is true or false")
        arguments.append(
            PromptArgument(name=raw["name"], description=raw.get("description"), required=required == "true")
        )
    return fields, arguments


def _pair(line: str, where: str) -> tuple[str, str]:
    key, colon, value = line.partition(":")
    if not colon:
        raise PromptFileError(f"{where}: expected 'key: value'")
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return key.strip(), value


# ---------------------------------------------------------------------- loading
def load_prompts(prompts_dir: str | None = None) -> list[PromptFile]:
    """The shipped prompts, each replaced by an operator's file of the same name when there is one."""
    prompts: dict[str, PromptFile] = {}
    package = importlib.resources.files(SHIPPED_PACKAGE)
    for entry in sorted(package.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".md"):
            prompt = parse_prompt(entry.read_text(encoding="utf-8"), f"prompts/{entry.name}")
            if prompt.name in prompts:
                raise PromptFileError(f"{prompt.source}: prompt {prompt.name!r} is defined twice")
            prompts[prompt.name] = prompt
    if prompts_dir:
        for path in sorted(Path(prompts_dir).glob("*.md")):
            try:
                prompt = parse_prompt(path.read_text(encoding="utf-8"), str(path))
            except (OSError, UnicodeDecodeError, PromptFileError) as exc:
                # A broken override must not take the agent down: keep the shipped prompt, say why.
                log.warning("ignoring prompt file %s: %s", path, exc)
                continue
            log.info("prompt %s: using %s", prompt.name, path)
            shipped = prompts.get(prompt.name)
            if prompt.permission is None:
                inherited = shipped.permission if shipped is not None else None
                prompt = dataclasses.replace(prompt, permission=inherited or DEFAULT_PERMISSION)
            prompts[prompt.name] = prompt
    for prompt in prompts.values():
        _warn_unknown_placeholders(prompt)
    return list(prompts.values())


def _warn_unknown_placeholders(prompt: PromptFile) -> None:
    known = set(CONVERSATION_KEYS if prompt.about_one_conversation else TRIAGE_KEYS)
    known |= {argument.name for argument in prompt.arguments}
    unknown = sorted(set(prompt.template.get_identifiers()) - known)
    if unknown:
        log.warning("%s: unknown placeholder(s) %s stay as written", prompt.source, ", ".join(unknown))


# ---------------------------------------------------------------------- serving
def register_prompts(server: MCPServer, settings: Settings, doors: Doors) -> None:
    for prompt in load_prompts(settings.prompts_dir):
        names = tuple(argument.name for argument in prompt.arguments)
        required = tuple(argument.name for argument in prompt.arguments if argument.required)
        doors.prompt(prompt.name, prompt.permission or DEFAULT_PERMISSION, names, required)
        server.add_prompt(
            Prompt(
                name=prompt.name,
                title=prompt.title,
                description=prompt.description,
                arguments=list(prompt.arguments),
                fn=_renderer(prompt),
                context_kwarg="ctx",
            )
        )


def _renderer(prompt: PromptFile) -> Callable[..., Awaitable[list[Message]]]:
    async def render(ctx: Context, **arguments: str) -> list[Message]:
        facts = prompt_context(app_context(ctx))
        try:
            if prompt.about_one_conversation:
                values = await facts.conversation(
                    arguments["interaction_id"], can_hear_calls=app_context(ctx).may_hear_calls
                )
            else:
                values = await facts.triage(arguments.get("since") or None)
        except UserInputError as exc:
            # A protocol error the client shows as is (the SDK would hide the message otherwise).
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from None
        # Arguments an operator's prompt declares are placeholders too; the live facts win.
        text = prompt.template.safe_substitute({**arguments, **values})
        return [UserMessage(text)]

    render.__name__ = prompt.name
    return render


def prompt_context(app: AppContext) -> PromptContext:
    return PromptContext(app.interactions, app.customers, app.catalog, app.reference, app.settings, app.clock)
