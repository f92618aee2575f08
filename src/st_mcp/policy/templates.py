"""Operator-written text templates (the HELP reply, the instant first text): only known placeholders."""

from __future__ import annotations

import string
from collections.abc import Sequence


def check_placeholders(template: str, allowed: Sequence[str]) -> str:
    """``template`` if every ``{placeholder}`` in it is one of ``allowed``; else a one-line ValueError."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError:
        raise ValueError("unbalanced { or }; write {{ and }} for literal braces") from None
    unknown = sorted(fields - set(allowed))
    if unknown:
        known = " and ".join(f"{{{name}}}" for name in allowed)
        raise ValueError(f"unknown placeholder {{{unknown[0]}}}; use {known}")
    return template
