"""Recognising a lead's "stop" — carrier keywords and plain-language revocations (FCC 24-24).

Keywords count only as the whole message, as carriers match them — after folding what people (and
filters dodging people) do to a word: Unicode compatibility forms ("ＳＴＯＰ"), case, punctuation and
spacing ("S.T.O.P", "s t o p") and digits for letters ("st0p", "5TOP"). Plain-language revocations count
anywhere in the message ("stop texting me please", "wrong number, stop", "I want to opt out"), but
"don't stop, I need a plumber" is not one. Both lists are in the README, and an operator extends them
in ``[compliance]`` (``opt_out_keywords``, ``opt_out_phrases``); when in doubt the detector says yes,
since a missed STOP costs a lawsuit and a wrong one a conversation a person can restart with START.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

OPT_OUT_KEYWORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"})
OPT_IN_KEYWORDS = frozenset({"start", "unstop", "yes"})
HELP_KEYWORDS = frozenset({"help", "info"})

# Plain-language revocations, matched anywhere in the folded message (word boundaries around each).
REVOCATION_PATTERNS = (
    r"(stop|quit|quit it with|cease) (texting|messaging|calling|contacting|txting|sending)( me| us)?",
    r"leave me alone",
    r"no more (texts|text messages|messages|calls)",
    r"(do not|dont|never) (text|message|call|contact) (me|us|this number)( again)?",
    r"(do not|dont) want (these|your|any|the|those)( more)? (texts|text messages|messages|calls)",
    r"take me off",
    r"remove me( from)?",
    r"remove (my|this) (number|phone|phone number|info|information|name)",
    r"opt (me )?out",
    r"unsubscribe",
    r"lose my number",
    r"wrong number",
)

# "Stop please", "please STOP", "STOP STOP": a stop word with nothing but politeness around it is as clear
# as the bare keyword (ambiguous ones — "cancel please", "end" — stay whole-message only).
_POLITE_STOP = re.compile(
    r"^((please|pls|plz) )?(stop|stopall|stop all|unsubscribe|optout|opt out)"
    r"( (stop|stopall|unsubscribe))*( (please|pls|plz|now|it|thanks|thank you))*$"
)
# Digits and signs standing in for letters, in a word that is otherwise letters ("st0p", "$top", "qu1t").
_LOOKALIKES = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})


def fold(text: str) -> str:
    """Compatibility forms to plain ones, case folded, curly apostrophes straightened."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return folded.replace("\u2019", "'").replace("\u2018", "'")


def _words(text: str) -> str:
    """Folded, apostrophes dropped ("don't" → "dont"), other punctuation as spaces, spaces collapsed."""
    return " ".join(re.sub(r"[^\w\s]", " ", fold(text).replace("'", "")).split())


def _collapsed(text: str) -> str:
    """The whole message as one word: look-alike digits read as letters, everything else but letters and
    digits dropped — "S.T.O.P", "s t o p", "st0p" and "ＳＴＯＰ" are all "stop"."""
    return re.sub(r"[\W_]", "", fold(text).translate(_LOOKALIKES))


class OptOutDetector:
    """The opt-out, opt-in and HELP words, with an operator's additions."""

    def __init__(self, keywords: Iterable[str] = (), phrases: Iterable[str] = ()) -> None:
        self.keywords = OPT_OUT_KEYWORDS | {_collapsed(word) for word in keywords if _collapsed(word)}
        extra = [r"\s+".join(map(re.escape, _words(phrase).split())) for phrase in phrases if _words(phrase)]
        self._revocations = re.compile(r"\b(" + "|".join((*REVOCATION_PATTERNS, *extra)) + r")\b")

    def is_opt_out(self, text: str) -> bool:
        words = _words(text)
        return (
            _collapsed(text) in self.keywords
            or bool(_POLITE_STOP.match(words))
            or bool(self._revocations.search(words))
        )


DEFAULT = OptOutDetector()


def is_opt_out(text: str) -> bool:
    return DEFAULT.is_opt_out(text)


def is_opt_in(text: str) -> bool:
    return _collapsed(text) in OPT_IN_KEYWORDS


def is_help(text: str) -> bool:
    return _collapsed(text) in HELP_KEYWORDS
