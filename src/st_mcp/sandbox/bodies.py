"""Request bodies: pydantic models with the spec's exact field names; any failure is a 400 whose
``errors`` name the offending fields (``appointments[0].start``), like ASP.NET's model validation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
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


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
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


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        path = _path(error["loc"])
        if error["type"] == "missing":
            message = f"The {error['loc'][-1]} field is required."
        elif error["type"] == "json_invalid":
            message = "The request body is not valid JSON."
        else:
            message = error["msg"]
        errors.setdefault(path or "$", []).append(message)
    return errors


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
