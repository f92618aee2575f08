"""Emergency triage by rules, not by the model: the same words always give the same answer.

The text is folded (Unicode compatibility forms, case, punctuation to spaces) and searched for each rule's
keywords as whole words; a keyword right after a negation ("no gas smell", "don't smell gas") does not
count. A rule may also want a temperature ("no heat" is an emergency at 50 °F or below, or when the caller
says "freezing") and someone vulnerable (elderly, an infant). Rules are tried in order; the first match
decides; nothing matched is routine.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pydantic import BaseModel

from st_mcp.config_lifecycle import TriageRule, TriageSettings

NEGATIONS = ("no", "not", "don't", "dont", "doesn't", "doesnt", "never", "without", "isn't", "isnt")
# "45 degrees", "45°F", "7 °C", "-5 degrees"; a bare number is not a temperature.
_TEMPERATURE = re.compile(r"(?<![\w.])(-?\d{1,3}(?:\.\d)?)\s*(?:°|º|degrees?\b|deg\b)\s*([fc])?\b")
MAX_DESCRIPTION = 4000


class TriageResult(BaseModel):
    level: str  # emergency | urgent | routine
    safety_advice: str
    priority: str  # the priority to book with (Low | Normal | High | Urgent)
    escalate_now: bool
    rule: str  # the rule that matched, or "none"
    matched: str | None  # the words that matched
    temperature_f: float | None  # the temperature the caller gave, in °F
    interaction_id: str | None = None
    next_step: str


@dataclass(frozen=True, slots=True)
class _Text:
    words: str  # " word word word " — folded, single-spaced, padded so whole-word search is a find
    temperature_f: float | None


def fold(text: str) -> str:
    """Compatibility forms (full-width letters), case, and every run of non-word characters (except the
    apostrophe and slash of "don't", "a/c") to one space, padded at both ends."""
    normal = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    return " " + " ".join(re.sub(r"[^\w'/]+", " ", normal).split()) + " "


def _temperature_f(text: str) -> float | None:
    normal = unicodedata.normalize("NFKC", text).casefold()
    found = _TEMPERATURE.search(normal)
    if not found:
        return None
    value = float(found.group(1))
    return round(value * 9 / 5 + 32, 1) if found.group(2) == "c" else value


def _find(words: str, phrases: list[str]) -> str | None:
    """The first phrase present as whole words and not negated."""
    for phrase in phrases:
        needle = fold(phrase)
        if needle.strip() == "":
            continue
        start = words.find(needle)
        while start != -1:
            before = words[:start].split()[-2:]
            if not any(word in NEGATIONS for word in before) or needle.strip().split()[0] in NEGATIONS:
                return phrase
            start = words.find(needle, start + 1)
    return None


class Triage:
    def __init__(self, settings: TriageSettings) -> None:
        self._settings = settings

    def assess(self, description: str) -> TriageResult:
        text = _Text(fold(description[:MAX_DESCRIPTION]), _temperature_f(description[:MAX_DESCRIPTION]))
        for rule in [*self._settings.extra_rules, *self._settings.rules]:
            matched = self._matches(rule, text)
            if matched:
                return _result(rule, matched, text.temperature_f)
        return TriageResult(
            level="routine",
            safety_advice="",
            priority=self._settings.routine_priority,
            escalate_now=False,
            rule="none",
            matched=None,
            temperature_f=text.temperature_f,
            next_step="Routine: offer windows with get_available_slots and book as usual.",
        )

    def _matches(self, rule: TriageRule, text: _Text) -> str | None:
        matched = _find(text.words, rule.keywords)
        if matched is None:
            return None
        if rule.at_or_below_f is not None:
            cold = text.temperature_f is not None and text.temperature_f <= rule.at_or_below_f
            if not cold and _find(text.words, self._settings.cold_words) is None:
                return None
        if rule.at_or_above_f is not None:
            hot = text.temperature_f is not None and text.temperature_f >= rule.at_or_above_f
            if not hot and _find(text.words, self._settings.hot_words) is None:
                return None
        if rule.vulnerable_only and _find(text.words, self._settings.vulnerable_words) is None:
            return None
        return matched


def _result(rule: TriageRule, matched: str, temperature_f: float | None) -> TriageResult:
    if rule.escalate_now:
        step = (
            "Read the safety advice to the caller now, then call escalate_to_dispatcher (reason "
            "skill_handling) so a person takes over at once. Do not offer routine windows."
        )
    elif rule.level == "urgent":
        step = (
            f"Urgent: offer the soonest windows (get_available_slots with urgency 'soon') and book with "
            f"priority {rule.priority}."
        )
    else:
        step = "Routine: offer windows with get_available_slots and book as usual."
    return TriageResult(
        level=rule.level,
        safety_advice=rule.safety_advice,
        priority=rule.priority,
        escalate_now=rule.escalate_now,
        rule=rule.name,
        matched=matched,
        temperature_f=temperature_f,
        next_step=step,
    )
