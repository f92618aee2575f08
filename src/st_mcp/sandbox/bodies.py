"""Request bodies: pydantic models with the spec's exact field names; any failure is a 400 whose
``errors`` name the offending fields (``appointments[0].start``), like ASP.NET's model validation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError
from starlette.requests import Request

from .clock import as_utc
from .problems import ProblemError


class Body(BaseModel):
    # ASP.NET ignores JSON properties it does not know; so does the sandbox.
    model_config = ConfigDict(extra="ignore")


def _guid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError("The value is not a valid GUID.") from None


def _utc(value: datetime) -> datetime:
    try:
        return as_utc(value)
    except OverflowError:  # outside DateTime's range once in UTC: System.Text.Json cannot read it either
        raise PydanticCustomError("datetime_range", "out of range") from None


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
Guid = Annotated[str, AfterValidator(_guid)]
Priority = Literal["Low", "Normal", "High", "Urgent"]
ContactType = Literal["Phone", "Email", "Fax", "MobilePhone"]

M = TypeVar("M", bound=BaseModel)


async def parse_body(request: Request, model: type[M]) -> M:
    raw = await request.body()
    if not raw.strip():
        raise ProblemError(400, errors={"$": ["A non-empty request body is required."]})
    try:
        # strict: "1" is not an integer and 1 is not a string, as with System.Text.Json.
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        raise ProblemError(400, errors=field_errors(exc)) from None


# pydantic error type prefix → the .NET type System.Text.Json failed to read (its message names it).
_DOTNET_TYPES = {
    "int": "System.Int64",
    "float": "System.Double",
    "decimal": "System.Decimal",
    "bool": "System.Boolean",
    "string": "System.String",
    "datetime": "System.DateTime",
    "date": "System.DateOnly",
    "list": "System.Collections.Generic.List`1",
    "dict": "System.Object",
    "model": "System.Object",
    "dataclass": "System.Object",
    "literal": "System.String",  # an enum: ServiceTitan's own type name is not known, the JSON kind is
    "enum": "System.String",
}


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """ASP.NET's wording: ``The X field is required.``, System.Text.Json's ``The JSON value could not be
    converted to System.Int64. Path: $.jobId``, or the message of a validator of our own."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        path = _path(error["loc"])
        kind = error["type"]
        if kind == "missing":
            message = f"The {error['loc'][-1]} field is required."
        elif kind == "json_invalid":
            message = "The request body is not valid JSON."
        elif kind == "value_error":
            message = error["msg"].removeprefix("Value error, ")
        elif kind.endswith(("_type", "_parsing", "_from_float", "_range")) or kind in (
            "literal_error",
            "enum",
        ):
            target = _DOTNET_TYPES.get(kind.split("_")[0], "System.Object")
            message = f"The JSON value could not be converted to {target}. Path: {_json_path(path)}."
        elif kind.endswith("too_short") or kind.endswith("too_long"):
            bound = "minimum" if kind.endswith("too_short") else "maximum"
            limit = (error.get("ctx") or {}).get(f"{'min' if bound == 'minimum' else 'max'}_length")
            name = error["loc"][-1] if error["loc"] else "$"
            message = f"The field {name} must be a string or array type with a {bound} length of '{limit}'."
        else:  # bounds: ASP.NET's data-annotation wording
            name = error["loc"][-1] if error["loc"] else "$"
            message = f"The field {name} is invalid."
        errors.setdefault(path or "$", []).append(message)
    return errors


def _json_path(path: str) -> str:
    if not path:
        return "$"
    return f"$.{path}" if not path.startswith("[") else f"${path}"


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class ExternalDataItem(Body):
    key: str
    value: str


class ExternalDataCreate(Body):
    applicationGuid: Guid
    externalData: list[ExternalDataItem]


class ExternalDataUpdateItem(Body):
    key: str
    value: str | None = None


class ExternalDataUpdate(Body):
    patchMode: Literal["Replace", "Merge"] | None = None
    applicationGuid: Guid
    externalData: list[ExternalDataUpdateItem]


def require_text(field: str, value: str | None) -> str:
    """[Required] strings must also be non-blank."""
    if value is None or not value.strip():
        raise ProblemError(400, errors={field: [f"The {field} field is required."]})
    return value
