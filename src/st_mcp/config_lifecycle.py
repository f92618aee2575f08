"""Settings of the after-the-booking features: ``[triage]`` (emergency rules) and ``[lifecycle]`` (job
events, texts, the post-job follow-up). Kept apart from config.py so that file only gains two fields."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

TriageLevel = Literal["emergency", "urgent", "routine"]

GAS_ADVICE = (
    "Leave the building now with everyone, and don't switch lights or appliances on or off or use a phone "
    "inside. From outside, call the gas company's emergency line or 911. Don't go back in until they say "
    "it's safe."
)
CO_ADVICE = (
    "Get everyone, pets too, out into fresh air now and call 911 from outside — carbon monoxide has no "
    "smell. Don't go back in until the fire department says it's safe."
)
SPARK_ADVICE = (
    "If it's safe to reach, switch off the breaker for that circuit; don't touch anything that is sparking "
    "or hot. If you see smoke or flames, leave and call 911."
)
FLOOD_ADVICE = (
    "Shut off the main water valve (usually where the water line enters the house) and stay away from water "
    "near outlets or appliances; switch off power to wet areas only if you can do it standing somewhere dry."
)
NO_HEAT_COLD_ADVICE = (
    "Keep everyone in one warm room with the doors closed, use safe electric space heaters only, and never "
    "use an oven, grill or generator indoors for heat. Let faucets drip so pipes don't freeze."
)
NO_COOLING_HOT_ADVICE = (
    "Move anyone elderly, very young or unwell to the coolest room or somewhere air-conditioned, keep them "
    "drinking water, and call 911 if anyone is confused, faint or stops sweating."
)


class TriageRule(BaseModel):
    """One keyword class. It matches when one of ``keywords`` appears (not negated: "no gas smell" does not
    match "gas smell"), and — when given — a temperature condition and a vulnerable person hold."""

    name: str = Field(min_length=1, max_length=40)
    level: TriageLevel
    keywords: list[str] = Field(min_length=1)
    safety_advice: str = ""
    priority: Literal["Low", "Normal", "High", "Urgent"] = "Normal"
    escalate_now: bool = False
    # "No heat below": matches only when the text says it is this cold (°F) or uses a freezing word.
    at_or_below_f: float | None = None
    # "No cooling above": matches only when the text says it is this hot (°F) or uses a heat word.
    at_or_above_f: float | None = None
    # Matches only when someone vulnerable (elderly, infant, …) is mentioned.
    vulnerable_only: bool = False


NO_HEAT = [
    "no heat",
    "furnace not working",
    "furnace isn't working",
    "furnace stopped",
    "furnace is out",
    "furnace won't",
    "heat isn't working",
    "heat is out",
    "heat not working",
    "heater not working",
    "heater isn't working",
    "boiler not working",
    "no heating",
    "furnace is not working",
    "heat is not working",
    "heater is not working",
    "furnace quit",
    "furnace died",
]
NO_COOLING = [
    "no ac",
    "no a/c",
    "ac not working",
    "ac isn't working",
    "ac stopped",
    "ac is out",
    "ac broke",
    "ac won't",
    "no air conditioning",
    "air conditioning not working",
    "air conditioner not working",
    "air conditioner isn't working",
    "no cooling",
    "not cooling",
    "isn't cooling",
    "ac is not working",
    "air conditioner is not working",
    "air conditioning is not working",
    "ac quit",
    "ac died",
    "blowing warm air",
    "blowing hot air",
]

DEFAULT_RULES: list[TriageRule] = [
    TriageRule(
        name="gas_smell",
        level="emergency",
        keywords=[
            "smell gas",
            "smell of gas",
            "smells like gas",
            "smelling gas",
            "gas smell",
            "gas leak",
            "leaking gas",
            "rotten egg",
            "gas odor",
            "odor of gas",
        ],
        safety_advice=GAS_ADVICE,
        priority="Urgent",
        escalate_now=True,
    ),
    TriageRule(
        name="co_alarm",
        level="emergency",
        keywords=["carbon monoxide", "co alarm", "co detector", "co monitor", "monoxide"],
        safety_advice=CO_ADVICE,
        priority="Urgent",
        escalate_now=True,
    ),
    TriageRule(
        name="sparking_or_burning",
        level="emergency",
        keywords=[
            "sparking",
            "sparks",
            "burning smell",
            "smells like burning",
            "smell burning",
            "smell of burning",
            "electrical fire",
            "smoke coming",
            "smoking outlet",
            "outlet is hot",
            "melted outlet",
            "melting",
        ],
        safety_advice=SPARK_ADVICE,
        priority="Urgent",
        escalate_now=True,
    ),
    TriageRule(
        name="flooding",
        level="emergency",
        keywords=[
            "flooding",
            "flooded",
            "burst pipe",
            "pipe burst",
            "pipe has burst",
            "busted pipe",
            "water everywhere",
            "water pouring",
            "gushing",
            "sewage backing up",
            "sewer backing up",
        ],
        safety_advice=FLOOD_ADVICE,
        priority="Urgent",
        escalate_now=True,
    ),
    TriageRule(
        name="no_heat_freezing",
        level="emergency",
        keywords=NO_HEAT,
        safety_advice=NO_HEAT_COLD_ADVICE,
        priority="Urgent",
        escalate_now=True,
        at_or_below_f=50,
    ),
    TriageRule(
        name="no_cooling_vulnerable_heat",
        level="emergency",
        keywords=NO_COOLING,
        safety_advice=NO_COOLING_HOT_ADVICE,
        priority="Urgent",
        escalate_now=True,
        at_or_above_f=90,
        vulnerable_only=True,
    ),
    TriageRule(name="no_heat", level="urgent", keywords=NO_HEAT, priority="High"),
    TriageRule(name="no_cooling", level="urgent", keywords=NO_COOLING, priority="High"),
    TriageRule(
        name="active_leak",
        level="urgent",
        keywords=[
            "leaking",
            "leak",
            "dripping from the ceiling",
            "no hot water",
            "toilet overflowing",
            "overflowing",
            "sewer smell",
            "no power",
            "breaker keeps tripping",
        ],
        safety_advice="If water is leaking, turn off the valve nearest the leak or the main water valve.",
        priority="High",
    ),
]
VULNERABLE_WORDS = [
    "elderly",
    "senior",
    "grandma",
    "grandpa",
    "grandmother",
    "grandfather",
    "my mother",
    "my father",
    "infant",
    "baby",
    "newborn",
    "toddler",
    "pregnant",
    "oxygen",
    "disabled",
    "medical condition",
    "heart condition",
    "years old",
]
COLD_WORDS = ["freezing", "frozen", "below zero", "sub-zero", "pipes are freezing"]
HOT_WORDS = ["heat wave", "heatwave", "sweltering", "boiling hot", "over 100", "triple digits"]


class TriageSettings(BaseModel):
    """``[triage]``: rules are tried in order; the first that matches decides. Nothing matched → routine."""

    rules: list[TriageRule] = Field(default_factory=lambda: list(DEFAULT_RULES))  # replaces the defaults
    extra_rules: list[TriageRule] = Field(default_factory=list)  # tried before ``rules``, defaults kept
    vulnerable_words: list[str] = Field(default_factory=lambda: list(VULNERABLE_WORDS))
    cold_words: list[str] = Field(default_factory=lambda: list(COLD_WORDS))
    hot_words: list[str] = Field(default_factory=lambda: list(HOT_WORDS))
    routine_priority: Literal["Low", "Normal", "High", "Urgent"] = "Normal"


class LifecycleSettings(BaseModel):
    """``[lifecycle]``: what happens after the booking."""

    # request_callback creates a task (task management) or, for a lead, a lead follow-up.
    callback_via: Literal["task", "lead_follow_up"] = "task"
    callback_task_type: str = "Call Back"  # falls back to the escalation task type when absent
    callback_minutes: int = Field(default=60, gt=0)  # complete-by when no preferred window is given
    # The job-events watcher (inside `serve --transport http`; 0 = off) and the texts it sends.
    watch_jobs_seconds: int = Field(default=0, ge=0)
    # Where a first watch starts in the feeds (ServiceTitan's "from" date): this far back, not all history.
    first_watch_lookback_hours: int = Field(default=24, ge=1, le=24 * 30)
    reminder_text: str | None = (
        "Hi {first_name}, a reminder from {company}: your technician arrives tomorrow, {window}. "
        "Reply here if you need to change it."
    )
    on_the_way_text: str | None = (
        "Hi {first_name}, {technician} from {company} is on the way{eta}. Follow along: {tracking_url}"
    )
    # The post-job follow-up: asked automatically when a job completes (or by survey_post_job).
    survey_on_completion: bool = True
    survey_text: str = (
        "Hi {first_name}, thanks for choosing {company}! How did {technician} do today? "
        "Reply with a number from 1 (poor) to 5 (excellent)."
    )
    review_url: str | None = "https://g.page/r/peak-home-services/review"
    thanks_text: str = "Thank you, {first_name}! Would you share that in a quick review? {review_url}"
    thanks_text_without_link: str = "Thank you, {first_name} — we're glad it went well!"
    sorry_text: str = (
        "We're sorry it wasn't a great visit, {first_name}. A manager will call you shortly to make it right."
    )
    neutral_text: str = "Thanks for the feedback, {first_name} — it helps us get better."
    # A text that could not leave yet (quiet hours) is still sent this long after the event, not later —
    # and "on the way" only while the appointment is still dispatched, a reminder only while scheduled.
    relevant_for_hours: dict[str, float] = Field(
        default_factory=lambda: {"reminder": 12.0, "on_the_way": 12.0, "survey": 48.0}
    )
