"""Tool declarations: each tool states its toolset and all four MCP annotations, explicitly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mcp.types import ToolAnnotations


@dataclass(frozen=True, slots=True)
class ToolSpec:
    fn: Callable[..., Any]
    name: str
    title: str
    toolset: str
    annotations: ToolAnnotations
    permissions: tuple[str, ...]  # any one of these lets a principal call the tool

    @property
    def writes(self) -> bool:
        return not bool(self.annotations.read_only_hint)


TOOLS: list[ToolSpec] = []


def tool(
    title: str,
    *,
    toolset: str,
    permission: str | tuple[str, ...],
    read_only: bool,
    destructive: bool,
    idempotent: bool,
    open_world: bool = True,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a tool; its docstring is the description the model reads (when to use it, and not)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        annotations = ToolAnnotations(
            title=title,
            read_only_hint=read_only,
            destructive_hint=destructive,
            idempotent_hint=idempotent,
            open_world_hint=open_world,
        )
        needs = (permission,) if isinstance(permission, str) else permission
        TOOLS.append(ToolSpec(fn, fn.__name__, title, toolset, annotations, needs))
        return fn

    return register
