"""US phone numbers in any common format → E.164, and back to what ServiceTitan searches by."""

from __future__ import annotations

import phonenumbers

from st_mcp.services.bounds import quoted
from st_mcp.services.errors import UserInputError

MAX_PHONE_TEXT = 40  # "+1 (303) 555-0142 ext. 1234" with room to spare


def normalize_phone(raw: str) -> str:
    """'(303) 555-0142', '303.555.0142', '+1 303 555 0142' → '+13035550142'; anything else is refused."""
    text = (raw or "").strip()
    if len(text) > MAX_PHONE_TEXT:  # no phone is this long; don't parse or echo it
        raise UserInputError(
            f"That phone is {len(text)} characters long ({quoted(text)}). "
            "Ask the caller for a 10-digit number such as (303) 555-0142."
        )
    try:
        parsed = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_possible_number(parsed) or parsed.country_code != 1:
        raise UserInputError(
            f"{quoted(raw)} is not a US phone number. "
            "Ask the caller for a 10-digit number such as (303) 555-0142."
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str) -> str:
    """'+13035550142' → '3035550142' (ServiceTitan stores and matches US numbers without +1)."""
    return e164.removeprefix("+1")


def mask_phone(e164: str) -> str:
    """'+13035550142' → '(303) ***-0142' for lists a CSR scans."""
    digits = national_digits(e164)
    return f"({digits[:3]}) ***-{digits[-4:]}" if len(digits) == 10 else "***"
