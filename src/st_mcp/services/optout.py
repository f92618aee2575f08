"""Recognising a lead's "stop" — carrier keywords and plain-language revocations (FCC 24-24).

Keywords count only as the whole message (any case, surrounding spaces and punctuation ignored), as
carriers match them; plain-language revocations count anywhere in the message ("stop texting me
please"), but "don't stop, I need a plumber" is not one.
"""

from __future__ import annotations

import re

OPT_OUT_KEYWORDS = frozenset(
    {
        "stop",
        "stopall",
        "stop all",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "revoke",
        "optout",
        "opt-out",
        "opt out",
    }
)
OPT_IN_KEYWORDS = frozenset({"start", "unstop", "yes"})
HELP_KEYWORDS = frozenset({"help", "info"})

_REVOCATIONS = re.compile(
    r"\b("
    r"(stop|quit|quit it with|cease) (texting|messaging|calling|contacting|txting|sending)( me| us)?"
    r"|leave me alone"
    r"|no more (texts|text messages|messages|calls)"
    r"|(do not|don'?t|never) (text|message|call|contact) (me|us|this number)( again)?"
    r"|take me off"
    r"|remove me( from)?"
    r"|opt me out"
    r"|unsubscribe me"
    r"|lose my number"
    r")\b"
)


# "Stop please", "please STOP", "STOP STOP", "unsubscribe now": a stop word with nothing but politeness around
# it is as clear as the bare keyword (ambiguous ones — "cancel please", "end" — stay whole-message only).
_POLITE_STOP = re.compile(
    r"^((please|pls|plz) )?(stop|stopall|stop all|unsubscribe|optout|opt-out|opt out)"
    r"( (stop|stopall|unsubscribe))*( (please|pls|plz|now|it|thanks|thank you))*$"
)


def _normalized(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s'-]", " ", text.casefold()).split())


def is_opt_out(text: str) -> bool:
    normalized = _normalized(text)
    return (
        normalized in OPT_OUT_KEYWORDS
        or bool(_POLITE_STOP.match(normalized))
        or bool(_REVOCATIONS.search(normalized))
    )


def is_opt_in(text: str) -> bool:
    return _normalized(text) in OPT_IN_KEYWORDS


def is_help(text: str) -> bool:
    return _normalized(text) in HELP_KEYWORDS
