"""Money and plan terms in the words an agent says out loud (never a price ServiceTitan did not give)."""

from __future__ import annotations

FREQUENCY_WORDS = {
    "OneTime": "once",
    "Monthly": "a month",
    "EveryOtherMonth": "every other month",
    "Quarterly": "a quarter",
    "BiAnnual": "every six months",
    "Annual": "a year",
}


def dollars(amount: float) -> str:
    return f"${amount:,.2f}"


def price_words(billing_price: float, frequency: str, sale_price: float, duration: int | None) -> str:
    """ "$18.00 a month (12 months)", "$199.00 a year"; a sign-up price is said when there is one."""
    words = f"{dollars(billing_price)} {FREQUENCY_WORDS.get(frequency, frequency)}"
    if duration and frequency not in ("Annual", "OneTime"):
        words += f" ({duration} months)"
    if sale_price and sale_price != billing_price:
        words += f", {dollars(sale_price)} to sign up"
    return words
