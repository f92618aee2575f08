"""Tool arguments that forgive form, not meaning — and bad ones explained in words a model can act on.

Models and generic clients send numbers where a field is text: a ZIP 80210, a phone 3035550142, a job
number 1042. Where the meaning is unambiguous the number is taken as its text (a ZIP only when it has
five digits: 2134 may have lost a leading zero). Moments are ISO 8601 only: pydantic would read 12345
as seconds after 1970, which no caller means. ``explain_validation_error`` turns a pydantic error into
one line per field ("zip: expected a 5-digit US ZIP such as 80210") without values, URLs or type dumps;
``ArgumentCheckedTool`` applies it to every tool in one place.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from pydantic import BeforeValidator, ValidationError
from pydantic_core import PydanticCustomError

INT64_MAX = 2**63 - 1  # ServiceTitan's ids are int64: a larger one names nothing there
ZIP_HINT = "expected a 5-digit US ZIP such as 80210"
MOMENT_HINT = "expected an ISO 8601 date or date-time such as 2026-05-05 or 2026-05-05T14:00:00-06:00"


def _zip_text(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        if 10000 <= value <= 99999:
            return str(value)
        raise PydanticCustomError("zip", ZIP_HINT + " (send it as text to keep a leading zero)")
    return value


def _number_as_text(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _iso_8601_only(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, str) and not value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        return value  # pydantic parses the ISO 8601 text; numbers (epoch seconds) are refused here
    raise PydanticCustomError("iso_8601", MOMENT_HINT)


ZipText = BeforeValidator(_zip_text)
NumberAsText = BeforeValidator(_number_as_text)
Iso8601Only = BeforeValidator(_iso_8601_only)

# Error types whose pydantic wording is not what a model needs.
_WORDS = {
    "missing": "required",
    "string_type": "expected text",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number such as 10300001",
    "int_from_float": "expected a whole number such as 10300001",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_too_short": "must not be empty",
    "datetime_type": MOMENT_HINT,
    "datetime_parsing": MOMENT_HINT,
    "datetime_from_date_parsing": MOMENT_HINT,
    "date_from_datetime_parsing": MOMENT_HINT,
    "dict_type": "expected an object",
    "list_type": "expected a list",
}


def explain_validation_error(exc: ValidationError) -> str:
    """One line per field: ``name: what is expected``; never the rejected value (it may be personal)."""
    lines: dict[str, None] = {}
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"] if not isinstance(part, int)) or "arguments"
        if error["type"] in _WORDS:
            words = _WORDS[error["type"]]
        else:
            words = error["msg"].replace("Input should be ", "expected ").replace("Value error, ", "")
            words = words.replace("String should", "should")
        lines[f"{where}: {words}"] = None
    return "\n".join(lines)


class ArgumentCheckedTool(Tool):
    """A tool whose argument errors read as ``explain_validation_error`` says, instead of pydantic's."""

    async def run(
        self, arguments: dict[str, Any], context: Context[Any, Any], convert_result: bool = False
    ) -> Any:
        try:
            return await super().run(arguments, context, convert_result)
        except ToolError as exc:
            cause = exc.__cause__
            if not isinstance(cause, ValidationError) or cause.title != self.fn_metadata.arg_model.__name__:
                raise
            # The cause stays a ValidationError, so the SDK logs only the field names, never the values.
            shaped = f"Error executing tool {self.name}: invalid arguments\n{explain_validation_error(cause)}"
            raise ToolError(shaped) from cause
